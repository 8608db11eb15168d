"""The real ``CreditLineOpener``: opens the line in servicing, exactly once per idempotency key."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from types import TracebackType
from typing import Any, Self

from puhui.domain.errors import Conflict
from puhui.domain.ids import ProductId
from puhui.domain.lending.product import LoanProduct, RepaymentMethod
from puhui.domain.lending.schedule import add_months
from puhui.services.origination.ports import LineOpening
from puhui.services.servicing.idempotency import (
    ResultBase,
    check_key,
    find_replay,
    remember,
    request_digest,
)
from puhui.services.servicing.lines import open_credit_line
from puhui.services.servicing.ports import ServicingUnitOfWork
from puhui.services.servicing.products import create_product
from puhui.services.servicing.records import CreditLineRecord

logger = logging.getLogger(__name__)

UowFactory = Callable[[], ServicingUnitOfWork]
OPERATION = "open_credit_line"

ONLINE_CREDIT_PRODUCT = LoanProduct(
    code="MSE-ONLINE-REVOLVING",
    name="小微企业线上循环贷 / MSE online revolving credit",
    method=RepaymentMethod.DAILY_REVOLVING,
    min_annual_rate=Decimal("0.0300"),
    max_annual_rate=Decimal("0.2400"),
    min_term_months=1,
    max_term_months=36,
    min_amount_fen=1_000_000,
    max_amount_fen=1_000_000_000,
)
"""The product behind lines the shipped strategy offers: its bounds contain every offer
(limits RMB 10,000 to 3 million, rates 3% to the 24% legal cap, terms up to 36 months)."""


@dataclass(frozen=True, slots=True)
class LineOpened(ResultBase):
    line_id: str
    replayed: bool = False


class _LineCapture:
    """The lines repository of one transaction, noting the id of the line added."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.added: str | None = None

    def add(self, record: CreditLineRecord) -> None:
        self._inner.add(record)
        self.added = record.line_id

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _RememberingUnitOfWork:
    """Wraps the servicing unit of work so the idempotency record commits with the line.

    ``open_credit_line`` owns its transaction; writing the request log inside that same
    transaction (at its commit) is what makes a crash leave either both or neither.
    """

    def __init__(self, inner: ServicingUnitOfWork, key: str, digest: str) -> None:
        self._inner = inner
        self._key = key
        self._digest = digest
        self._lines: _LineCapture | None = None

    def __enter__(self) -> Self:
        self._inner.__enter__()
        self._lines = _LineCapture(self._inner.lines)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._inner.__exit__(exc_type, exc, tb)

    @property
    def lines(self) -> _LineCapture:
        if self._lines is None:
            raise RuntimeError("unit of work used outside its `with` block")
        return self._lines

    def commit(self) -> None:
        if self._lines is not None and self._lines.added is not None:
            remember(self._inner, self._key, OPERATION, self._digest, LineOpened(self._lines.added))
        self._inner.commit()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def ensure_product(uow_factory: UowFactory, product: LoanProduct, *, actor: str) -> ProductId:
    """The id of the product with this code, creating it the first time."""
    with uow_factory() as uow:
        stored = uow.products.get_by_code(product.code)
    if stored is not None:
        return stored.product_id
    try:
        return create_product(uow_factory, product, actor=actor)
    except Conflict:
        # Another process created it between the read and the write.
        with uow_factory() as uow:
            again = uow.products.get_by_code(product.code)
        if again is None:
            raise
        return again.product_id


@dataclass
class ServicingLineOpener:
    """Opens the line an accepted offer grants on a daily-revolving product.

    The line expires ``term_months`` after opening; the enterprise is keyed by its USCC.
    """

    uow_factory: UowFactory
    product: LoanProduct = ONLINE_CREDIT_PRODUCT
    actor: str = "system:origination"
    _product_id: ProductId | None = None

    @property
    def product_id(self) -> ProductId:
        """The product's id, created on first use (not at start-up: the schema may be new)."""
        if self._product_id is None:
            self._product_id = ensure_product(self.uow_factory, self.product, actor=self.actor)
        return self._product_id

    def open_line(self, opening: LineOpening) -> str:
        key = check_key(opening.idempotency_key)
        expiry = add_months(opening.opened_on, opening.term_months)
        digest = request_digest(
            OPERATION,
            {
                "uscc": opening.uscc,
                "contract_no": opening.contract_no,
                "limit_fen": opening.limit_fen,
                "annual_rate": str(opening.annual_rate),
                "term_months": opening.term_months,
            },
        )
        with self.uow_factory() as uow:
            replayed = find_replay(uow, key, OPERATION, digest, LineOpened)
        if replayed is not None:
            return replayed.line_id

        def remembering() -> ServicingUnitOfWork:
            wrapped: Any = _RememberingUnitOfWork(self.uow_factory(), key, digest)
            return wrapped  # type: ignore[no-any-return]

        try:
            line_id = open_credit_line(
                remembering,
                enterprise_id=opening.uscc,
                product_id=self.product_id,
                limit_fen=opening.limit_fen,
                annual_rate=opening.annual_rate,
                opened_on=opening.opened_on,
                expiry_date=expiry,
                actor=self.actor,
            )
        except Exception:
            # A concurrent call with the same key won the insert of the request log: its
            # transaction committed the line, ours rolled back; answer with that line.
            with self.uow_factory() as uow:
                replayed = find_replay(uow, key, OPERATION, digest, LineOpened)
            if replayed is None:
                raise
            return replayed.line_id
        logger.info("credit line %s opened for application %s", line_id, opening.application_id)
        return str(line_id)
