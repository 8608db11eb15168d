"""Supply-chain finance on the pages: the bank's console and the suppliers' H5 pages.

Console (bank staff): the core enterprises with their facility usage (limit, outstanding,
available, status, expiry, grade, discount rate), frozen and unfrozen by a risk officer; the
vouchers counted and summed by tier for each core, a voucher's page with its provenance tree
(the splits and transfers since the core issued the root); and the financing queue, where an
approver or operations approves or rejects a supplier's request.

H5 (a supplier's user, an applicant bound to the enterprise): my vouchers, and a voucher's page
to accept it, split it into parts that must sum to its face, transfer it to one of the holder's
suppliers, or ask the bank to finance it, with the indicative discount (days, interest, fee,
proceeds) computed by the domain's ``discount`` at the core's rate.

Every action is the service's (``puhui.services.supply_chain``) with the signed-in user as
actor; nothing is decided here. The split form's parts are checked here only to show the
supplier their mistake next to the field; the service checks them again.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from puhui.domain.errors import (
    ConfigurationError,
    InvalidAmount,
    InvalidInput,
    NotFound,
    PuhuiError,
)
from puhui.domain.money import parse_yuan
from puhui.domain.origination.errors import Forbidden
from puhui.domain.supply_chain import Discount, VoucherStatus, discount
from puhui.services.security.permissions import Permission, Principal
from puhui.services.supply_chain.ports import (
    CoreEnterpriseView,
    FinancingStatus,
    FinancingView,
    SettlementView,
    TransferView,
    VoucherQuery,
    VoucherView,
)
from puhui.services.supply_chain.use_cases import MAX_PAGE, SupplyChainService
from puhui.web.dependencies import ApiDependencies, call
from puhui.web.pages import session
from puhui.web.pages.common import console_page
from puhui.web.pages.errors import user_message
from puhui.web.pages.forms import form_text
from puhui.web.pages.i18n import yuan
from puhui.web.pages.nav import N_, NavItem
from puhui.web.pages.rendering import gettext, render

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[Principal, Depends(session.staff)]
Supplier = Annotated[Principal, Depends(session.applicant)]

LIST_LIMIT = 200
"""Vouchers listed on the console's page (the tiers count every one the filters select)."""
MAX_PARTS = 10
"""Parts a split form offers at most (the service accepts more; a phone form needs no more)."""
MIN_PARTS = 2
"""A split makes at least two parts."""
SCAN_PAGES = 40
"""Pages of vouchers the console's tier table reads at most (40 x 500 = 20,000 vouchers)."""
USCC_LENGTH = 18

NAV = (
    NavItem(
        "/console/supply-chain/cores",
        N_("Core enterprises"),
        N_("Payables facilities of the core enterprises: usage, price, freeze and unfreeze."),
        Permission.VOUCHER_READ,
        order=40,
    ),
    NavItem(
        "/console/supply-chain/vouchers",
        N_("Vouchers"),
        N_("Electronic payable vouchers by core enterprise and tier, with their provenance."),
        Permission.VOUCHER_READ,
        order=41,
    ),
    NavItem(
        "/console/supply-chain/financings",
        N_("Voucher financing"),
        N_("Suppliers' requests to discount a voucher: approve or reject them."),
        Permission.VOUCHER_FINANCE_APPROVE,
        order=42,
    ),
)
ERRORS: dict[str, str] = {
    "split_does_not_sum": N_(
        "The parts do not add up to the voucher's face amount. Change them so they do."
    ),
    "invalid_split_part": N_("Each part must be an amount of more than zero yuan."),
    "transfer_to_self": N_("A voucher cannot be transferred to its own holder."),
    "unknown_enterprise": N_("We do not know that enterprise. Choose one from the list."),
    "not_holder": N_("Only the enterprise holding the voucher may do this."),
    "financing_after_maturity": N_(
        "The voucher matures today or has matured: it can no longer be financed."
    ),
    "maturity_before_issue": N_("The maturity date must come after the issue date."),
    "voucher_not_live": N_(
        "This voucher is split, financed or settled: it can no longer be split, "
        "transferred or financed."
    ),
    "already_financed": N_("This voucher is already financed or has a request waiting."),
    "voucher_not_accepted": N_("Accept the voucher first."),
    "invoice_mismatch": N_("The payable does not match the invoices of that month."),
    "invoice_already_used": N_("Those invoices already back another voucher."),
    "facility_exceeded": N_("The core enterprise's facility does not have room for this."),
    "facility_frozen": N_("The core enterprise's facility is frozen."),
    "facility_expired": N_("The core enterprise's facility has expired."),
    "voucher_not_due": N_("The voucher is not due yet."),
    "duplicate_voucher_id": N_("A voucher with that number already exists."),
    "not_a_supplier": N_(
        "That enterprise has not sold to the holder in the last 12 months: "
        "a voucher can only go to one of the holder's own suppliers."
    ),
    "financing_pending": N_(
        "A financing request for this voucher is with the bank: it cannot be split or "
        "transferred until the bank decides."
    ),
    "financing_not_requested": N_("This request was decided already. Reload the page."),
    "not_bound_to_enterprise": N_(
        "Your account is not linked to the enterprise that holds this voucher."
    ),
    "core_not_found": N_("No core enterprise with that code is onboarded."),
    "core_defaulting": N_(
        "The core enterprise has not paid matured vouchers: its facility stays frozen."
    ),
}
"""What the errors of supply-chain finance tell a person (staff and suppliers alike)."""

STATUS_NAMES: dict[VoucherStatus, str] = {
    VoucherStatus.PENDING: N_("Awaiting acceptance"),
    VoucherStatus.OUTSTANDING: N_("Held"),
    VoucherStatus.SPLIT: N_("Split up"),
    VoucherStatus.FINANCED: N_("Financed"),
    VoucherStatus.SETTLED: N_("Paid"),
    VoucherStatus.OVERDUE: N_("Overdue"),
}
FACILITY_NAMES: dict[str, str] = {
    "active": N_("Active"),
    "frozen": N_("Frozen"),
    "expired": N_("Expired"),
}
FINANCING_NAMES: dict[str, str] = {
    "requested": N_("Waiting for the bank"),
    "approved": N_("Approved: proceeds paid"),
    "rejected": N_("Not approved"),
}
CONSOLE_NOTICES: dict[str, str] = {
    "frozen": N_("The facility is frozen."),
    "unfrozen": N_("The facility is active again."),
    "approved": N_("The financing is approved: the proceeds are paid to the supplier."),
    "rejected": N_("The financing request is rejected."),
}
H5_NOTICES: dict[str, str] = {
    "accepted": N_("Done. The voucher is accepted and yours to use."),
    "split": N_("Done. The voucher is split; each part is a voucher of its own."),
    "transferred": N_("Done. The voucher is with your supplier now."),
    "financing": N_("Done. Your request is with the bank; you will be paid when it approves."),
}


# --- page-side rows, built from the service's views ------------------------------------------


@dataclass(frozen=True, slots=True)
class CoreRow:
    uscc: str
    grade: str | None
    limit_fen: int
    outstanding_fen: int
    available_fen: int
    discount_rate: Decimal | None
    fee_rate: Decimal
    expiry: date | None
    status: str
    name: str | None = None

    @property
    def used_percent(self) -> int:
        if self.limit_fen <= 0:
            return 0
        return min(100, self.outstanding_fen * 100 // self.limit_fen)


@dataclass(frozen=True, slots=True)
class VoucherRow:
    """A voucher as the pages show it (the service's view, its status as the domain's)."""

    voucher_id: str
    root_id: str
    parent_id: str | None
    core_id: str
    holder_id: str
    amount_fen: int
    issued_on: date
    maturity: date
    status: VoucherStatus
    tier: int
    invoice_key: str | None = None
    financed_on: date | None = None
    financing_pending: bool = False


def voucher_row(view: VoucherView) -> VoucherRow:
    return VoucherRow(
        voucher_id=view.voucher_id,
        root_id=view.root_id,
        parent_id=view.parent_id,
        core_id=view.core,
        holder_id=view.holder,
        amount_fen=view.amount_fen,
        issued_on=view.issued_on,
        maturity=view.maturity,
        status=VoucherStatus(view.status),
        tier=view.tier,
        invoice_key=view.invoice_key,
        financed_on=view.financed_on,
        financing_pending=view.financing_pending,
    )


@dataclass(frozen=True, slots=True)
class TierRow:
    core_id: str
    tier: int
    count: int
    amount_fen: int
    financed_fen: int


@dataclass(frozen=True, slots=True)
class TransferRow:
    on: date
    from_id: str
    to_id: str


@dataclass
class TreeNode:
    voucher: VoucherRow
    children: list[TreeNode] = field(default_factory=list)
    transfers: list[TransferRow] = field(default_factory=list)
    financings: list[FinancingView] = field(default_factory=list)
    settlements: list[SettlementView] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SplitRow:
    value: str = ""
    error: str | None = None


# --- the service ------------------------------------------------------------------------------


def _deps(request: Request) -> ApiDependencies:
    deps: ApiDependencies = request.app.state.deps
    return deps


def _service(request: Request) -> SupplyChainService:
    service: SupplyChainService | None = getattr(_deps(request), "supply_chain", None)
    if service is None:
        raise ConfigurationError("supply-chain finance is not wired in this site")
    return service


def _my_enterprises(service: SupplyChainService, principal: Principal) -> frozenset[str]:
    """The enterprises an enterprise user is bound to (the service scopes every read and
    write to them; the pages need them to tell the user's own vouchers)."""
    with service.units() as uow:
        return uow.supply_chain.enterprises_of(principal.user_id)


def _core_of(service: SupplyChainService, uscc: str) -> CoreEnterpriseView | None:
    """The payer's facility, read for the price of its vouchers (a supplier is not bound to
    the core, so the service's facility reads refuse it)."""
    with service.units() as uow:
        return uow.supply_chain.core(uscc)


def _core_row(view: CoreEnterpriseView, today: date) -> CoreRow:
    return CoreRow(
        uscc=view.uscc,
        grade=view.grade,
        limit_fen=view.limit_fen,
        outstanding_fen=view.outstanding_fen,
        available_fen=view.available_fen,
        discount_rate=view.discount_rate,
        fee_rate=view.fee_rate,
        expiry=view.expires_on,
        status=view.effective_status(today),
    )


def _status(value: str | None) -> VoucherStatus | None:
    try:
        return VoucherStatus(value) if value else None
    except ValueError:
        return None


def _uscc(value: str | None) -> str | None:
    text = (value or "").strip().upper()
    return text if text.isalnum() and len(text) == USCC_LENGTH else None


def _request_key() -> str:
    """A fresh key per form: a form sent twice acts once."""
    return secrets.token_urlsafe(12)


def _key(posted: Any, prefix: str) -> str:
    sent = posted.get("request_key")
    key = sent.strip() if isinstance(sent, str) and sent.strip() else _request_key()
    return f"{prefix}-{key[:40]}"


def _message(request: Request, error: PuhuiError) -> str:
    kinds = tuple(
        str(getattr(k, "code", ""))
        for k in type(error).__mro__[1:]
        if isinstance(getattr(k, "code", None), str)
    )
    return user_message(request, error.code, kinds)


def _status_of(error: PuhuiError) -> int:
    """The status a refused form answers with, as the API would."""
    if error.code == "not_holder" or isinstance(error, Forbidden):
        return 403
    if isinstance(error, InvalidInput):
        return 422
    if isinstance(error, NotFound):
        return 404
    return 409


def tiers_of(vouchers: Iterable[VoucherRow]) -> list[TierRow]:
    """Count and sum the vouchers by core and tier (a split parent is counted by its parts)."""
    counts: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    for v in vouchers:
        if v.status is VoucherStatus.SPLIT:
            continue
        row = counts[(v.core_id, v.tier)]
        row[0] += 1
        row[1] += v.amount_fen
        if v.status is VoucherStatus.FINANCED:
            row[2] += v.amount_fen
    return [
        TierRow(core, tier, n, amount, financed)
        for (core, tier), (n, amount, financed) in sorted(counts.items())
    ]


def tree_of(
    vouchers: Sequence[VoucherRow],
    transfers: Iterable[TransferView],
    financings: Iterable[FinancingView] = (),
    settlements: Iterable[SettlementView] = (),
) -> TreeNode:
    """The provenance tree of a root's vouchers: each split's parts under their parent, each
    voucher with the transfers it went through (oldest first), its financing requests and
    its settlement."""
    nodes = {v.voucher_id: TreeNode(v) for v in vouchers}
    for f in sorted(financings, key=lambda f: (f.requested_on, f.financing_id)):
        if f.voucher_id in nodes:
            nodes[f.voucher_id].financings.append(f)
    for paid in settlements:
        if paid.voucher_id in nodes:
            nodes[paid.voucher_id].settlements.append(paid)
    for t in sorted(transfers, key=lambda t: (t.voucher_id, t.seq)):
        node = nodes.get(t.voucher_id)
        if node is not None:
            node.transfers.append(TransferRow(t.transferred_on, t.from_uscc, t.to_uscc))
    root: TreeNode | None = None
    for v in vouchers:
        if v.parent_id is not None and v.parent_id in nodes:
            nodes[v.parent_id].children.append(nodes[v.voucher_id])
        elif v.parent_id is None:
            root = nodes[v.voucher_id]
    if root is None:
        raise NotFound("the voucher's tree has no root")
    return root


# --- the console: core enterprises --------------------------------------------------------------


async def _cores_page(
    request: Request, principal: Principal, *, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    service = _service(request)
    found = await call(_deps(request), service.list_cores, principal)
    today = service.clock.today()
    response = console_page(
        request,
        principal,
        "supply_chain/cores.html",
        {
            "cores": [_core_row(c, today) for c in found],
            "facility_names": FACILITY_NAMES,
            "may_manage": principal.can(Permission.CORE_MANAGE),
            "notice": CONSOLE_NOTICES.get(request.query_params.get("done") or ""),
            "error": error,
            "request_key": _request_key(),
        },
    )
    response.status_code = status_code
    return response


@router.get("/console/supply-chain/cores")
async def cores(request: Request, principal: StaffUser) -> HTMLResponse:
    return await _cores_page(request, principal)


async def _facility_action(
    request: Request, principal: Principal, uscc: str, *, freeze: bool
) -> Response:
    posted = await session.verified_form(request)
    core = _uscc(uscc)
    if core is None:
        raise NotFound("no such core enterprise")
    service = _service(request)
    action = service.freeze_facility if freeze else service.unfreeze_facility
    verb = "freeze" if freeze else "unfreeze"
    try:
        reason = form_text(posted, "reason", 200)
        if not reason:
            raise InvalidInput("give a reason", details={"field": "reason"})
        await call(
            _deps(request),
            action,
            principal,
            core=core,
            reason=reason,
            key=_key(posted, f"console-{verb}-{core}"),
        )
    except PuhuiError as exc:
        if isinstance(exc, Forbidden):
            raise
        message = (
            gettext(request, N_("Give the reason in a few words (at most 200 characters)."))
            if isinstance(exc, InvalidInput) and exc.details.get("field") == "reason"
            else _message(request, exc)
        )
        return await _cores_page(request, principal, error=message, status_code=_status_of(exc))
    done = "frozen" if freeze else "unfrozen"
    return RedirectResponse(f"/console/supply-chain/cores?done={done}", status_code=303)


@router.post("/console/supply-chain/cores/{uscc}/freeze")
async def freeze(request: Request, principal: StaffUser, uscc: str) -> Response:
    return await _facility_action(request, principal, uscc, freeze=True)


@router.post("/console/supply-chain/cores/{uscc}/unfreeze")
async def unfreeze(request: Request, principal: StaffUser, uscc: str) -> Response:
    return await _facility_action(request, principal, uscc, freeze=False)


# --- the console: vouchers by tier, a voucher's provenance ------------------------------------


def _all_vouchers(
    service: SupplyChainService, principal: Principal, query: VoucherQuery
) -> tuple[list[VoucherRow], bool]:
    """Every voucher the query selects, page by page (at most ``SCAN_PAGES`` pages: the
    second value says whether more were left)."""
    found: list[VoucherRow] = []
    after: str | None = None
    for _ in range(SCAN_PAGES):
        page = service.list_vouchers(principal, replace(query, after=after, limit=MAX_PAGE))
        found.extend(voucher_row(v) for v in page)
        if len(page) < MAX_PAGE:
            return found, False
        after = page[-1].voucher_id
    return found, True


@router.get("/console/supply-chain/vouchers")
async def vouchers(
    request: Request, principal: StaffUser, core: str | None = None, status: str | None = None
) -> HTMLResponse:
    chosen_core = _uscc(core)
    chosen_status = _status(status)
    query = VoucherQuery(
        core=chosen_core, status=None if chosen_status is None else chosen_status.value
    )
    found, more = await call(_deps(request), _all_vouchers, _service(request), principal, query)
    listed = sorted(found, key=lambda v: (v.core_id, v.tier, v.maturity, v.voucher_id))
    return console_page(
        request,
        principal,
        "supply_chain/vouchers.html",
        {
            "tiers": tiers_of(found),
            "vouchers": listed[:LIST_LIMIT],
            "truncated": len(listed) > LIST_LIMIT or more,
            "core": chosen_core or "",
            "status": chosen_status,
            "statuses": STATUS_NAMES,
        },
    )


@router.get("/console/supply-chain/vouchers/{voucher_id}")
async def voucher_detail(request: Request, principal: StaffUser, voucher_id: str) -> HTMLResponse:
    found = await call(
        _deps(request), _service(request).voucher_tree, principal, voucher_id=voucher_id[:64]
    )
    rows = [voucher_row(v) for v in found.vouchers]
    voucher = next((v for v in rows if v.voucher_id == voucher_id), None)
    if voucher is None:
        raise NotFound("no such voucher")
    root = tree_of(rows, found.transfers, found.financings, found.settlements)
    return console_page(
        request,
        principal,
        "supply_chain/voucher.html",
        {
            "voucher": voucher,
            "tree": root,
            "invoice_key": root.voucher.invoice_key,
            "statuses": STATUS_NAMES,
            "financing_names": FINANCING_NAMES,
        },
    )


# --- the console: the financing queue ---------------------------------------------------------


async def _queue_page(
    request: Request, principal: Principal, *, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    found = await call(_deps(request), _service(request).financing_queue, principal, limit=MAX_PAGE)
    response = console_page(
        request,
        principal,
        "supply_chain/financings.html",
        {
            "items": found,
            "may_decide": principal.can(Permission.VOUCHER_FINANCE_APPROVE),
            "notice": CONSOLE_NOTICES.get(request.query_params.get("done") or ""),
            "error": error,
        },
    )
    response.status_code = status_code
    return response


@router.get("/console/supply-chain/financings")
async def financings(request: Request, principal: StaffUser) -> HTMLResponse:
    return await _queue_page(request, principal)


@router.post("/console/supply-chain/financings/{financing_id}/approve")
async def approve(request: Request, principal: StaffUser, financing_id: str) -> Response:
    await session.verified_form(request)
    chosen = financing_id[:64]
    try:
        await call(
            _deps(request),
            _service(request).approve_financing,
            principal,
            financing_id=chosen,
            key=f"console-approve-{chosen}",
        )
    except PuhuiError as exc:
        if isinstance(exc, Forbidden):
            raise
        return await _queue_page(
            request, principal, error=_message(request, exc), status_code=_status_of(exc)
        )
    return RedirectResponse("/console/supply-chain/financings?done=approved", status_code=303)


@router.post("/console/supply-chain/financings/{financing_id}/reject")
async def reject(request: Request, principal: StaffUser, financing_id: str) -> Response:
    posted = await session.verified_form(request)
    chosen = financing_id[:64]
    try:
        reason = form_text(posted, "reason", 200)
        if not reason:
            raise InvalidInput("give a reason", details={"field": "reason"})
        await call(
            _deps(request),
            _service(request).reject_financing,
            principal,
            financing_id=chosen,
            reason=reason,
            key=f"console-reject-{chosen}",
        )
    except PuhuiError as exc:
        if isinstance(exc, Forbidden):
            raise
        message = (
            gettext(request, N_("Give the reason in a few words (at most 200 characters)."))
            if isinstance(exc, InvalidInput) and exc.details.get("field") == "reason"
            else _message(request, exc)
        )
        return await _queue_page(request, principal, error=message, status_code=_status_of(exc))
    return RedirectResponse("/console/supply-chain/financings?done=rejected", status_code=303)


# --- H5: a supplier's vouchers ----------------------------------------------------------------


def _h5_page(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    done = request.query_params.get("done")
    notice = gettext(request, H5_NOTICES[done]) if done in H5_NOTICES else None
    return render(
        request,
        template,
        {"notice": notice, "statuses": STATUS_NAMES, **context},
        status_code=status_code,
    )


def _held_by(
    service: SupplyChainService, principal: Principal
) -> tuple[frozenset[str], list[VoucherRow]]:
    """The user's enterprises and the vouchers they hold now (not those split up)."""
    mine = _my_enterprises(service, principal)
    found: list[VoucherRow] = []
    for uscc in sorted(mine):
        page = service.list_vouchers(principal, VoucherQuery(holder=uscc, limit=MAX_PAGE))
        found.extend(voucher_row(v) for v in page)
    return mine, [v for v in found if v.status is not VoucherStatus.SPLIT]


@router.get("/h5/vouchers")
async def my_vouchers(request: Request, supplier: Supplier) -> HTMLResponse:
    mine, found = await call(_deps(request), _held_by, _service(request), supplier)
    shown = sorted(
        found,
        key=lambda v: (v.status is not VoucherStatus.PENDING, v.maturity, v.voucher_id),
    )
    held = sum(
        v.amount_fen
        for v in shown
        if v.status in (VoucherStatus.PENDING, VoucherStatus.OUTSTANDING)
    )
    return _h5_page(
        request,
        "h5/vouchers.html",
        {"vouchers": shown, "held_fen": held, "enterprise": ", ".join(sorted(mine))},
    )


@dataclass(frozen=True, slots=True)
class HolderView:
    """What a voucher's page shows its holder."""

    voucher: VoucherRow
    mine: bool
    quote: Discount | None
    today: date
    financing: FinancingView | None


def quote_for(service: SupplyChainService, voucher: VoucherRow, today: date) -> Discount | None:
    """The indicative discount if the bank approved today, at the price the service would
    apply (the strategy's rate and fee for the core's grade); None when it cannot finance."""
    core = _core_of(service, voucher.core_id)
    if core is None or core.status != "active":
        return None
    try:
        return discount(
            voucher.amount_fen,
            financed_on=today,
            maturity=voucher.maturity,
            annual_rate=service.policy.discount_rate(core.grade, as_of=service.clock.today()),
            fee_rate=service.policy.fee_rate(core.grade),
        )
    except PuhuiError:
        return None


def _holder_view(service: SupplyChainService, principal: Principal, voucher_id: str) -> HolderView:
    tree = service.voucher_tree(principal, voucher_id=voucher_id)
    view = next((v for v in tree.vouchers if v.voucher_id == voucher_id), None)
    if view is None:
        raise NotFound("no such voucher")
    voucher = voucher_row(view)
    mine = voucher.holder_id in _my_enterprises(service, principal)
    today = service.clock.today()
    financing = next(
        (
            f
            for f in sorted(tree.financings, key=lambda f: f.requested_on, reverse=True)
            if f.voucher_id == voucher_id and f.status != FinancingStatus.REJECTED.value
        ),
        None,
    )
    quote = (
        quote_for(service, voucher, today)
        if mine and voucher.status is VoucherStatus.OUTSTANDING
        else None
    )
    return HolderView(voucher, mine, quote, today, financing)


async def _voucher_page(
    request: Request,
    supplier: Principal,
    voucher_id: str,
    *,
    error: str | None = None,
    split_rows: Sequence[SplitRow] | None = None,
    split_error: str | None = None,
    transfer_error: str | None = None,
    chosen_supplier: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    found = await call(_deps(request), _holder_view, _service(request), supplier, voucher_id[:64])
    voucher = found.voucher
    if split_rows is None:
        asked = request.query_params.get("parts", "")
        count = int(asked) if asked.isdecimal() and len(asked) < 3 else 2
        split_rows = [SplitRow() for _ in range(max(2, min(count, MAX_PARTS)))]
    unavailable = (
        gettext(request, ERRORS["financing_after_maturity"])
        if voucher.maturity <= found.today
        else gettext(request, N_("The bank does not finance this payer's vouchers at present."))
    )
    return _h5_page(
        request,
        "h5/vouchers_detail.html",
        {
            "voucher": voucher,
            "mine": found.mine,
            "quote": found.quote,
            "quote_unavailable": unavailable,
            "pending_financing": voucher.financing_pending,
            "split_rows": split_rows,
            "split_error": split_error,
            "max_parts": MAX_PARTS,
            "chosen_supplier": chosen_supplier,
            "transfer_error": transfer_error,
            "financing": found.financing,
            "financing_names": FINANCING_NAMES,
            "error": error,
            "request_key": _request_key(),
        },
        status_code=status_code,
    )


@router.get("/h5/vouchers/{voucher_id}")
async def voucher_page(request: Request, supplier: Supplier, voucher_id: str) -> HTMLResponse:
    return await _voucher_page(request, supplier, voucher_id)


def _to(voucher_id: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/h5/vouchers/{voucher_id}?done={done}", status_code=303)


async def _act_on_voucher(
    request: Request,
    supplier: Principal,
    voucher_id: str,
    *,
    action: str,
    operation: Any,
    done: str,
) -> Response:
    """Run ``operation`` (a service method taking the voucher) as the supplier, then go back
    to the voucher with ``done``; a refusal is shown on the voucher's page."""
    posted = await session.verified_form(request)
    chosen = voucher_id[:64]
    try:
        await call(
            _deps(request),
            operation,
            supplier,
            voucher_id=chosen,
            key=_key(posted, f"h5-{action}-{chosen}"),
        )
    except PuhuiError as exc:
        return await _voucher_page(
            request, supplier, chosen, error=_message(request, exc), status_code=_status_of(exc)
        )
    return _to(chosen, done)


@router.post("/h5/vouchers/{voucher_id}/accept")
async def accept(request: Request, supplier: Supplier, voucher_id: str) -> Response:
    service = _service(request)
    return await _act_on_voucher(
        request,
        supplier,
        voucher_id,
        action="accept",
        operation=service.accept_voucher,
        done="accepted",
    )


def parse_parts(
    request: Request, texts: Sequence[str], face_fen: int
) -> tuple[list[SplitRow], list[int], str | None]:
    """The split form's parts: each an amount of more than zero yuan, together the face.

    Returns the rows as shown again (with their errors), the amounts in fen, and the form's
    error (too few parts, or a sum that is not the face), in the request's language.
    """
    rows: list[SplitRow] = []
    amounts: list[int] = []
    bad = False
    for text in texts[:MAX_PARTS]:
        value = text.strip()[:20]
        if not value:
            rows.append(SplitRow())
            continue
        try:
            amount = int(parse_yuan(value))
        except InvalidAmount:
            amount = 0
        if amount <= 0:
            bad = True
            message = N_("Enter an amount of more than zero, such as 1000.50.")
            rows.append(SplitRow(value, gettext(request, message)))
            continue
        rows.append(SplitRow(value))
        amounts.append(amount)
    while len(rows) < MIN_PARTS:
        rows.append(SplitRow())
    if bad:
        return rows, amounts, None
    if len(amounts) < MIN_PARTS:
        return rows, amounts, gettext(request, N_("Enter at least two parts."))
    total = sum(amounts)
    if total != face_fen:
        message = N_("The parts add up to ¥%(total)s, not ¥%(face)s. Change them so they do.")
        return rows, amounts, gettext(request, message, total=yuan(total), face=yuan(face_fen))
    return rows, amounts, None


@router.post("/h5/vouchers/{voucher_id}/split")
async def split(request: Request, supplier: Supplier, voucher_id: str) -> Response:
    posted = await session.verified_form(request)
    chosen = voucher_id[:64]
    texts = [v for v in posted.getlist("part") if isinstance(v, str)]
    deps = _deps(request)
    service = _service(request)
    found = await call(deps, _holder_view, service, supplier, chosen)
    rows, amounts, problem = parse_parts(request, texts, found.voucher.amount_fen)
    if problem is not None or any(r.error for r in rows):
        return await _voucher_page(
            request, supplier, chosen, split_rows=rows, split_error=problem, status_code=422
        )
    try:
        await call(
            deps,
            service.split_voucher,
            supplier,
            voucher_id=chosen,
            parts=amounts,
            key=_key(posted, f"h5-split-{chosen}"),
        )
    except PuhuiError as exc:
        return await _voucher_page(
            request,
            supplier,
            chosen,
            split_rows=rows,
            split_error=_message(request, exc),
            status_code=_status_of(exc),
        )
    return RedirectResponse("/h5/vouchers?done=split", status_code=303)


@router.post("/h5/vouchers/{voucher_id}/transfer")
async def transfer(request: Request, supplier: Supplier, voucher_id: str) -> Response:
    posted = await session.verified_form(request)
    chosen = voucher_id[:64]
    sent = str(posted.get("to", "")).strip().upper()[: USCC_LENGTH + 2]
    to = _uscc(sent)
    try:
        if to is None:
            raise InvalidInput("enter the supplier's code", details={"field": "to"})
        await call(
            _deps(request),
            _service(request).transfer_voucher,
            supplier,
            voucher_id=chosen,
            to=to,
            key=_key(posted, f"h5-transfer-{chosen}"),
        )
    except PuhuiError as exc:
        message = (
            gettext(
                request,
                N_("Enter the 18-character unified social credit code of your supplier."),
            )
            if to is None
            else _message(request, exc)
        )
        return await _voucher_page(
            request,
            supplier,
            chosen,
            transfer_error=message,
            chosen_supplier=sent,
            status_code=_status_of(exc),
        )
    return RedirectResponse("/h5/vouchers?done=transferred", status_code=303)


@router.post("/h5/vouchers/{voucher_id}/finance")
async def finance(request: Request, supplier: Supplier, voucher_id: str) -> Response:
    service = _service(request)
    return await _act_on_voucher(
        request,
        supplier,
        voucher_id,
        action="finance",
        operation=service.request_financing,
        done="financing",
    )
