"""The real ``CreditLineOpener``: opens the line in servicing, exactly once per idempotency key."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from puhui.domain.errors import Conflict
from puhui.domain.ids import CreditLineId, ProductId
from puhui.domain.lending.product import LoanProduct, RepaymentMethod
from puhui.domain.lending.schedule import add_months
from puhui.services.origination.ports import LineOpening, TermBound
from puhui.services.servicing.idempotency import check_key
from puhui.services.servicing.lines import open_credit_line
from puhui.services.servicing.ports import ServicingUnitOfWork
from puhui.services.servicing.products import create_product

logger = logging.getLogger(__name__)

UowFactory = Callable[[], ServicingUnitOfWork]

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


def product_bounds(product: LoanProduct) -> tuple[TermBound, ...]:
    """The limit, rate and term ranges of a product, as origination checks an offer against."""
    bound = f"product {product.code}"
    return (
        TermBound(
            "limit_fen", bound, Decimal(product.min_amount_fen), Decimal(product.max_amount_fen)
        ),
        TermBound("annual_rate", bound, product.min_annual_rate, product.max_annual_rate),
        TermBound(
            "term_months", bound, Decimal(product.min_term_months), Decimal(product.max_term_months)
        ),
    )


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

    def offer_bounds(self, as_of: date) -> tuple[TermBound, ...]:
        """The bounds of the product this opener opens lines on (the same on every date)."""
        del as_of
        return product_bounds(self.product)

    def open_line(self, opening: LineOpening) -> str:
        """Open the offer's line; its key logs the request in the line's own transaction."""
        key = check_key(opening.idempotency_key)

        def open_once() -> CreditLineId:
            return open_credit_line(
                self.uow_factory,
                enterprise_id=opening.uscc,
                product_id=self.product_id,
                limit_fen=opening.limit_fen,
                annual_rate=opening.annual_rate,
                opened_on=opening.opened_on,
                expiry_date=add_months(opening.opened_on, opening.term_months),
                actor=self.actor,
                idempotency_key=key,
            )

        try:
            line_id = open_once()
        except Conflict:
            raise
        except Exception:
            # A concurrent call with the same key won the insert of the request log: its
            # transaction committed the line, ours rolled back; asking again replays it.
            with self.uow_factory() as uow:
                logged = uow.requests.get(key)
            if logged is None:
                raise
            line_id = open_once()
        logger.info("credit line %s opened for application %s", line_id, opening.application_id)
        return str(line_id)
