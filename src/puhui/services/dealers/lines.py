"""Dealer lines: size one for a core's dealer, open it, draw on it to pay the core (受托支付)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from puhui.decision.supply_chain import (
    COMMITMENTS,
    CoreFacts,
    DealerDecision,
    DealerFacts,
    FacilityDecision,
    SupplyChainPolicy,
    core_facts_from_sources,
    dealer_facts_from_sources,
)
from puhui.domain.errors import Conflict, InvalidInput, NotFound
from puhui.domain.ids import CreditLineId
from puhui.domain.lending.account import LoanAccount
from puhui.domain.lending.product import LoanProduct, RepaymentMethod
from puhui.domain.lending.schedule import add_months
from puhui.domain.origination.consent import DataScope
from puhui.domain.origination.errors import Forbidden
from puhui.services.origination.credit_access import CreditAccess, scoped_key
from puhui.services.origination.line_opening import ensure_product
from puhui.services.origination.ports import DataSource
from puhui.services.security.permissions import Permission, Principal, Role, require
from puhui.services.servicing import lines
from puhui.services.servicing.ports import ServicingUnitOfWork
from puhui.services.servicing.records import CreditLineRecord, LineStatus

PRODUCT_PREFIX = "SCF-DEALER-"
"""Each core enterprise's dealer programme is a product: ``SCF-DEALER-<core USCC>``; a line
on it is a dealer line of that core, and its draws pay the core."""
CORE_SCOPES = (DataScope.REGISTRATION, DataScope.TAX, DataScope.BUREAU, DataScope.COURT)
DEALER_SCOPES = (*CORE_SCOPES, DataScope.INVOICE)


class DealerLineDeclined(InvalidInput):
    """The strategy does not grant the dealer a line; ``details.reasons`` says why."""

    code = "dealer_line_declined"


class DealerNotNamed(Conflict):
    """The onboarded core has not named the enterprise as its dealer: it backs no line."""

    code = "dealer_not_named"


@dataclass(frozen=True, slots=True)
class CoreBacking:
    """What the platform's core registry says about a core and one of its dealers."""

    named: bool
    """The core named the enterprise as its dealer."""
    grade: str | None
    """The grade of the core's facility while usable (None: frozen, expired, defaulting)."""


class NotYourDealerLine(NotFound):
    """An enterprise user asked for a dealer line of an enterprise it is not bound to: it
    reads as absent (404), as the owner's lines do elsewhere."""

    code = "dealer_line_not_found"


class NotADealerLine(Conflict):
    """The line is not on a dealer programme: it has no core enterprise to pay."""

    code = "not_a_dealer_line"


def dealer_product(core_uscc: str, policy: SupplyChainPolicy) -> LoanProduct:
    """The dealer programme of one core: daily-revolving, within the policy's bounds."""
    terms = policy.dealer_terms
    return LoanProduct(
        code=f"{PRODUCT_PREFIX}{core_uscc}",
        name=f"经销商贷（核心企业 {core_uscc}）/ Dealer loans of core enterprise {core_uscc}",
        method=RepaymentMethod.DAILY_REVOLVING,
        min_annual_rate=Decimal("0.0100"),
        max_annual_rate=terms.rate_cap,
        min_term_months=1,
        max_term_months=terms.term_months,
        min_amount_fen=terms.minimum_fen,
        max_amount_fen=terms.product_cap_fen,
    )


@dataclass(frozen=True)
class DealerAccess:
    """What dealer lending needs: servicing, the data sources, the date and the policy."""

    servicing_uow: Callable[[], ServicingUnitOfWork]
    data_source: DataSource
    today: Callable[[], date]
    policy: SupplyChainPolicy = field(default_factory=SupplyChainPolicy.load)
    core_grade: Callable[[str, date], str | None] | None = None
    """The grade of an onboarded core's active facility (the platform's core registry);
    None: the core is graded from its own data by the same strategy (see ``core_standing``)."""
    registry: Callable[[Principal, str, str], CoreBacking] | None = None
    """The platform's core registry, ``(actor, core, dealer)``: when set, the core must be
    onboarded and have named the dealer, and the line takes its facility's grade (this
    takes precedence over ``core_grade``)."""
    bound: Callable[[str], frozenset[str]] | None = None
    """The enterprises an enterprise user (an applicant-role login) is bound to, by user id
    (the platform's ``enterprise_users``); None: no enterprise user sees or draws a line."""

    @classmethod
    def from_credit(
        cls, credit: CreditAccess, data_source: DataSource, **kwargs: Any
    ) -> DealerAccess:
        return cls(credit.servicing_uow, data_source, credit.today, **kwargs)


@dataclass(frozen=True, slots=True)
class DealerSizing:
    core: FacilityDecision | None
    """The core's facility decision when graded from its data (None: from the registry)."""
    core_grade: str | None
    facts: DealerFacts
    decision: DealerDecision


@dataclass(frozen=True, slots=True)
class DealerLine:
    line_id: str
    dealer_uscc: str
    core_uscc: str
    commitment: str
    limit_fen: int
    annual_rate: Decimal
    opened_on: date
    expiry_date: date
    grade: str | None
    seasonal_peak_month: int | None
    peak_average_fen: int
    purchases_12m_fen: int
    strategy_version: str


@dataclass(frozen=True, slots=True)
class DealerDraw:
    draw: lines.DrawResult
    payee: str
    """The core enterprise paid (USCC)."""
    payee_account: str | None
    """The core's settlement account in the registry, when the source names it."""


def _pull(source: DataSource, uscc: str, scopes: tuple[DataScope, ...], on: date) -> Any:
    return {scope.value: source.pull(uscc, scope, as_of=on) for scope in scopes}


def core_standing(access: DealerAccess, core_uscc: str, on: date) -> FacilityDecision:
    """The core's facility decision on its own data, for the minimum facility: a core that
    the strategy would not grant even that (knock-out, weak grade) backs no dealer line."""
    pulled = _pull(access.data_source, core_uscc, CORE_SCOPES, on)
    facts: CoreFacts = core_facts_from_sources(
        pulled,
        uscc=core_uscc,
        as_of=on,
        requested_fen=access.policy.strategy.limit_rule.minimum_fen,
    )
    return access.policy.decide_facility(facts)


def size_dealer_line(
    access: DealerAccess,
    *,
    actor: Principal,
    core_uscc: str,
    dealer_uscc: str,
    commitment: str,
    requested_fen: int | None = None,
) -> DealerSizing:
    """Size a line for a dealer of a core from its purchases (no line is opened)."""
    require(actor, Permission.LINE_MANAGE)
    if commitment not in COMMITMENTS:
        raise InvalidInput(
            f"commitment must be one of {', '.join(COMMITMENTS)}",
            details={"field": "commitment"},
        )
    if core_uscc == dealer_uscc:
        raise InvalidInput("a core enterprise is not its own dealer", details={"field": "dealer"})
    on = access.today()
    core: FacilityDecision | None = None
    if access.registry is not None:
        backing = access.registry(actor, core_uscc, dealer_uscc)
        if not backing.named:
            raise DealerNotNamed(
                "the core enterprise has not named this enterprise as its dealer",
                details={"core": core_uscc, "dealer": dealer_uscc},
            )
        grade = backing.grade
    elif access.core_grade is not None:
        grade = access.core_grade(core_uscc, on)
    else:
        core = core_standing(access, core_uscc, on)
        grade = core.grade if core.approved else None
    pulled = _pull(access.data_source, dealer_uscc, DEALER_SCOPES, on)
    facts = dealer_facts_from_sources(
        pulled,
        dealer_uscc=dealer_uscc,
        core_uscc=core_uscc,
        core_commitment=commitment,
        core_grade=grade,
        as_of=on,
        requested_fen=requested_fen,
    )
    return DealerSizing(core, grade, facts, access.policy.dealer_limit(facts))


def open_dealer_line(
    access: DealerAccess,
    *,
    actor: Principal,
    core_uscc: str,
    dealer_uscc: str,
    commitment: str,
    idempotency_key: str,
    requested_fen: int | None = None,
) -> tuple[DealerLine, DealerSizing]:
    """Size and open the dealer's line (an ordinary servicing line on the core's programme).

    The same key and request on the same day replay the line opened first.
    """
    sizing = size_dealer_line(
        access,
        actor=actor,
        core_uscc=core_uscc,
        dealer_uscc=dealer_uscc,
        commitment=commitment,
        requested_fen=requested_fen,
    )
    decision = sizing.decision
    if not decision.approved or decision.annual_rate is None:
        texts = access.policy.explain(decision.reasons, "en")
        raise DealerLineDeclined(
            "no dealer line: " + "; ".join(texts),
            details={
                "reasons": list(decision.reasons),
                "reasons_zh": access.policy.explain(decision.reasons, "zh"),
            },
        )
    product_id = ensure_product(
        access.servicing_uow,
        dealer_product(core_uscc, access.policy),
        actor=actor.audit_name(),
    )
    on = access.today()
    expiry = add_months(on, decision.term_months)
    line_id = lines.open_credit_line(
        access.servicing_uow,
        enterprise_id=dealer_uscc,
        product_id=product_id,
        limit_fen=decision.limit_fen,
        annual_rate=decision.annual_rate,
        opened_on=on,
        expiry_date=expiry,
        actor=actor.audit_name(),
        idempotency_key=scoped_key(actor, idempotency_key),
    )
    line = DealerLine(
        line_id=str(line_id),
        dealer_uscc=dealer_uscc,
        core_uscc=core_uscc,
        commitment=commitment,
        limit_fen=decision.limit_fen,
        annual_rate=decision.annual_rate,
        opened_on=on,
        expiry_date=expiry,
        grade=decision.grade,
        seasonal_peak_month=decision.seasonal_peak_month,
        peak_average_fen=decision.peak_average_fen,
        purchases_12m_fen=sizing.facts.purchases_12m_fen,
        strategy_version=access.policy.version,
    )
    return line, sizing


def line_core(access: DealerAccess, line_id: str) -> str:
    """The core enterprise a dealer line pays (from its programme product)."""
    line = stored_line_of(access, line_id)
    with access.servicing_uow() as uow:
        product = uow.products.get(line.product_id)
    code = "" if product is None else product.product.code
    if not code.startswith(PRODUCT_PREFIX):
        raise NotADealerLine(
            f"credit line {line_id} is not a dealer line", details={"line_id": line_id}
        )
    return code.removeprefix(PRODUCT_PREFIX)


def stored_line_of(access: DealerAccess, line_id: str) -> CreditLineRecord:
    """The servicing line (404 when there is none)."""
    with access.servicing_uow() as uow:
        line = uow.lines.get(CreditLineId(line_id))
    if line is None:
        raise NotFound("no such credit line", details={"line_id": line_id})
    return line


@dataclass(frozen=True, slots=True)
class DealerReceipt:
    """A draw on a dealer line: the dealer's debt, paid to the core (its ``payee``)."""

    receipt_id: str
    principal_fen: int
    outstanding_principal_fen: int
    drawn_on: date
    maturity_date: date
    payee: str | None
    status: str
    called_in_on: date | None = None
    """The day the bank called it in early (提前收回); None: not called in."""


@dataclass(frozen=True, slots=True)
class DealerLineView:
    """A dealer line as its dealer and the staff read it."""

    line_id: str
    dealer_uscc: str
    core_uscc: str
    limit_fen: int
    drawn_fen: int
    available_fen: int
    """What may be drawn now: the limit left, 0 on a frozen or expired line."""
    annual_rate: Decimal
    opened_on: date
    expiry_date: date
    status: str
    """``active``, ``frozen`` or ``expired`` (an active line past its expiry date)."""
    receipts: tuple[DealerReceipt, ...] = ()


DEFAULT_TERM_DAYS = 90
"""A draw's term when the dealer does not choose one: a purchase cycle, within the line."""


def default_maturity(view: DealerLineView, on: date) -> date:
    """The maturity of a draw made ``on``: ``DEFAULT_TERM_DAYS`` later, at most the line's
    expiry (a receipt never outlives its line)."""
    return min(on + timedelta(days=DEFAULT_TERM_DAYS), view.expiry_date)


SCAN_PAGE = 500
"""Lines read per page when listing the dealer lines (the servicing pages are newest first)."""
SCAN_PAGES = 40
"""Pages read at most when listing (40 x 500 = 20,000 lines): a list, not a report."""


def _receipt(loan: LoanAccount) -> DealerReceipt:
    return DealerReceipt(
        receipt_id=str(loan.loan_id),
        principal_fen=loan.principal_fen,
        outstanding_principal_fen=loan.outstanding_principal_fen,
        drawn_on=loan.disbursed_on,
        maturity_date=loan.maturity_date,
        payee=loan.payee,
        status=loan.status.value,
        called_in_on=loan.called_in_on,
    )


def _view(
    line: CreditLineRecord, core: str, today: date, receipts: tuple[DealerReceipt, ...] = ()
) -> DealerLineView:
    status = line.status.value
    if line.status is LineStatus.ACTIVE and today > line.expiry_date:
        status = "expired"
    return DealerLineView(
        line_id=str(line.line_id),
        dealer_uscc=line.enterprise_id,
        core_uscc=core,
        limit_fen=line.limit_fen,
        drawn_fen=line.drawn_fen,
        # What the dealer may draw: nothing on a frozen or expired line.
        available_fen=line.available_fen if status == "active" else 0,
        annual_rate=line.annual_rate,
        opened_on=line.opened_on,
        expiry_date=line.expiry_date,
        status=status,
        receipts=receipts,
    )


def _scope(access: DealerAccess, actor: Principal) -> frozenset[str] | None:
    """None for staff (every dealer); the enterprises an enterprise user is bound to."""
    require(actor, Permission.LINE_READ)
    if actor.is_staff:
        return None
    if actor.role is not Role.APPLICANT:
        raise Forbidden("dealer lines are read by staff and the dealer's own users")
    return frozenset() if access.bound is None else access.bound(actor.user_id)


def _reachable(access: DealerAccess, actor: Principal, line_id: str) -> CreditLineRecord:
    """The line, when ``actor`` may reach it: staff any; an enterprise user only its own
    enterprises' lines — another's and a missing one answer alike (404), so an enterprise user
    learns nothing of lines that are not its own."""
    scope = _scope(access, actor)
    if scope is None:
        return stored_line_of(access, line_id)
    with access.servicing_uow() as uow:
        line = uow.lines.get(CreditLineId(line_id))
    if line is None or line.enterprise_id not in scope:
        raise NotYourDealerLine("no such dealer line", details={"line_id": line_id})
    return line


def list_dealer_lines(
    access: DealerAccess, *, actor: Principal, core_uscc: str | None = None
) -> list[DealerLineView]:
    """Dealer lines newest first (staff: every dealer's, of one core when given; an
    enterprise user: its bound enterprises' only)."""
    scope = _scope(access, actor)
    found: list[DealerLineView] = []
    today = access.today()
    with access.servicing_uow() as uow:
        codes: dict[Any, str | None] = {}

        def core_of(product_id: Any) -> str | None:
            if product_id not in codes:
                product = uow.products.get(product_id)
                code = "" if product is None else product.product.code
                codes[product_id] = (
                    code.removeprefix(PRODUCT_PREFIX) if code.startswith(PRODUCT_PREFIX) else None
                )
            return codes[product_id]

        owners: list[str | None] = [None] if scope is None else [*sorted(scope)]
        for owner in owners:
            for page in range(SCAN_PAGES):
                rows = uow.lines.page(enterprise_id=owner, limit=SCAN_PAGE, offset=page * SCAN_PAGE)
                for line in rows:
                    core = core_of(line.product_id)
                    if core is not None and (core_uscc is None or core == core_uscc):
                        found.append(_view(line, core, today))
                if len(rows) < SCAN_PAGE:
                    break
    return found


def dealer_line(access: DealerAccess, *, actor: Principal, line_id: str) -> DealerLineView:
    """One dealer line with its receipts (an enterprise user: its own only, 404 otherwise)."""
    line = _reachable(access, actor, line_id)
    core = line_core(access, line_id)
    with access.servicing_uow() as uow:
        loans = uow.loans.of_line(CreditLineId(line_id))
    return _view(line, core, access.today(), tuple(_receipt(loan) for loan in loans))


def draw_to_core(
    access: DealerAccess,
    *,
    actor: Principal,
    line_id: str,
    amount_fen: int,
    maturity_date: date,
    idempotency_key: str,
) -> DealerDraw:
    """Draw on a dealer line, the proceeds paid to the core enterprise (受托支付).

    Staff (``LINE_MANAGE``) execute it on the dealer's payment instruction (the goods bought
    from the core), or the dealer's own enterprise user draws (``DRAW``), on its bound
    enterprises' lines only (another's line reads as absent: ``NotYourDealerLine``, 404).
    Either way the receipt is the dealer's debt, its payee the core, never the dealer.
    """
    if actor.is_staff:
        require(actor, Permission.LINE_MANAGE)
    else:
        require(actor, Permission.DRAW)
        _reachable(access, actor, line_id)
    core = line_core(access, line_id)
    result = lines.draw(
        access.servicing_uow,
        CreditLineId(line_id),
        amount_fen=amount_fen,
        on=access.today(),
        maturity_date=maturity_date,
        idempotency_key=scoped_key(actor, idempotency_key),
        actor=actor.audit_name(),
        payee=core,
    )
    registration: Mapping[str, Any] = access.data_source.pull(
        core, DataScope.REGISTRATION, as_of=access.today()
    )
    return DealerDraw(result, core, _settlement_account(registration, core))


def _registered(registration: Mapping[str, Any], uscc: str, column: str) -> str | None:
    """One column of the enterprise's registration row in a pulled registration scope."""
    frame = registration.get("tables", {}).get("enterprises")
    if frame is None or not hasattr(frame, "filter"):
        return None
    for row in frame.iter_rows(named=True):
        if row.get("uscc") == uscc:
            value = row.get(column)
            return None if value is None else str(value)
    return None


def _settlement_account(registration: Mapping[str, Any], uscc: str) -> str | None:
    return _registered(registration, uscc, "settlement_account")


def enterprise_names(access: DealerAccess, usccs: Iterable[str]) -> dict[str, str]:
    """The registered names of these enterprises, for pages (a code the data sources do not
    know, or a registration without a name, is left out: pages show the code alone)."""
    names: dict[str, str] = {}
    for uscc in sorted(set(usccs)):
        registration = access.data_source.pull(uscc, DataScope.REGISTRATION, as_of=access.today())
        name = _registered(registration, uscc, "name")
        if name:
            names[uscc] = name
    return names
