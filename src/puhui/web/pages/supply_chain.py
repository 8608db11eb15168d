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
from dataclasses import dataclass, field
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
from puhui.services.supply_chain import use_cases as scf
from puhui.web.dependencies import ApiDependencies, call
from puhui.web.pages import session
from puhui.web.pages.common import console_page
from puhui.web.pages.errors import user_message
from puhui.web.pages.forms import form_text
from puhui.web.pages.nav import N_, NavItem
from puhui.web.pages.rendering import gettext, render

router = APIRouter(include_in_schema=False)
StaffUser = Annotated[Principal, Depends(session.staff)]
Supplier = Annotated[Principal, Depends(session.applicant)]

LIST_LIMIT = 200
"""Vouchers listed on the console's page (the tiers count every one the filters select)."""
MAX_PARTS = 10
"""Parts a split form offers at most (the service accepts more; a phone form needs no more)."""
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
    VoucherStatus.SPLIT: N_("Split"),
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


def voucher_row(view: Any) -> VoucherRow:
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
    voucher: Any
    children: list[TreeNode] = field(default_factory=list)
    transfers: list[TransferRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class QueueRow:
    financing_id: str
    voucher_id: str
    holder_id: str
    core_id: str
    face_fen: int
    days: int | None
    annual_rate: Decimal | None
    interest_fen: int | None
    fee_fen: int | None
    proceeds_fen: int | None
    requested_on: date | None


@dataclass(frozen=True, slots=True)
class SplitRow:
    value: str = ""
    error: str | None = None


@dataclass(frozen=True, slots=True)
class SupplierChoice:
    uscc: str
    label: str


# --- the service ------------------------------------------------------------------------------


def _deps(request: Request) -> ApiDependencies:
    deps: ApiDependencies = request.app.state.deps
    return deps


def _service(request: Request) -> Any:
    service = getattr(_deps(request), "supply_chain", None)
    if service is None:
        raise ConfigurationError("supply-chain finance is not wired in this site")
    return service


def _core_row(view: Any) -> CoreRow:
    limit = int(view.limit_fen)
    outstanding = int(view.outstanding_fen)
    return CoreRow(
        uscc=view.uscc,
        grade=getattr(view, "grade", None),
        limit_fen=limit,
        outstanding_fen=outstanding,
        available_fen=int(getattr(view, "available_fen", limit - outstanding)),
        discount_rate=getattr(view, "discount_rate", None),
        fee_rate=getattr(view, "fee_rate", Decimal(0)),
        expiry=getattr(view, "expires_on", None),
        status=str(getattr(view.status, "value", view.status)),
        name=getattr(view, "name", None),
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
    return f"{prefix}-{key[:64]}"


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


def tiers_of(vouchers: Iterable[Any]) -> list[TierRow]:
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


def tree_of(vouchers: Sequence[Any], transfers: Iterable[Any]) -> TreeNode:
    """The provenance tree of a root's vouchers: each split's parts under their parent, each
    voucher with the transfers it went through, oldest first."""
    nodes = {v.voucher_id: TreeNode(v) for v in vouchers}
    for t in transfers:
        node = nodes.get(t.voucher_id)
        if node is not None:
            node.transfers.append(TransferRow(t.transferred_on, t.from_id, t.to_id))
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
    response = console_page(
        request,
        principal,
        "supply_chain/cores.html",
        {
            "cores": [_core_row(c) for c in found],
            "facility_names": FACILITY_NAMES,
            "may_manage": principal.can(Permission.CORE_MANAGE),
            "notice": CONSOLE_NOTICES.get(request.query_params.get("done") or ""),
            "error": error,
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
            key=_key(posted, f"console-{'freeze' if freeze else 'unfreeze'}-{core}"),
        )
    except (InvalidInput, NotFound, Forbidden) as exc:
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


@router.get("/console/supply-chain/vouchers")
async def vouchers(
    request: Request, principal: StaffUser, core: str | None = None, status: str | None = None
) -> HTMLResponse:
    chosen_core = _uscc(core)
    chosen_status = _status(status)
    found = await call(
        _deps(request),
        _service(request).list_vouchers,
        principal,
        core=chosen_core,
        status=chosen_status,
    )
    listed = sorted(found, key=lambda v: (v.core_id, v.tier, v.maturity, v.voucher_id))
    return console_page(
        request,
        principal,
        "supply_chain/vouchers.html",
        {
            "tiers": tiers_of(found),
            "vouchers": listed[:LIST_LIMIT],
            "truncated": len(listed) > LIST_LIMIT,
            "core": chosen_core or "",
            "status": chosen_status,
            "statuses": STATUS_NAMES,
        },
    )


@router.get("/console/supply-chain/vouchers/{voucher_id}")
async def voucher_detail(request: Request, principal: StaffUser, voucher_id: str) -> HTMLResponse:
    service = _service(request)
    found = await call(_deps(request), service.voucher_tree, principal, voucher_id=voucher_id[:64])
    voucher = next((v for v in found.vouchers if v.voucher_id == voucher_id), None)
    if voucher is None:
        raise NotFound("no such voucher")
    root = tree_of(found.vouchers, found.transfers)
    return console_page(
        request,
        principal,
        "supply_chain/voucher.html",
        {
            "voucher": voucher,
            "tree": root,
            "invoice_key": getattr(root.voucher, "invoice_key", None),
            "statuses": STATUS_NAMES,
        },
    )


# --- the console: the financing queue ---------------------------------------------------------


def _queue_row(view: Any) -> QueueRow:
    return QueueRow(
        financing_id=view.financing_id,
        voucher_id=view.voucher_id,
        holder_id=view.holder_id,
        core_id=view.core_id,
        face_fen=view.face_fen,
        days=getattr(view, "days", None),
        annual_rate=getattr(view, "annual_rate", None),
        interest_fen=getattr(view, "interest_fen", None),
        fee_fen=getattr(view, "fee_fen", None),
        proceeds_fen=getattr(view, "proceeds_fen", None),
        requested_on=getattr(view, "requested_on", None),
    )


async def _queue_page(
    request: Request, principal: Principal, *, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    found = await call(_deps(request), _service(request).financing_queue, principal)
    response = console_page(
        request,
        principal,
        "supply_chain/financings.html",
        {
            "items": [_queue_row(f) for f in found],
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


async def _decide(
    request: Request, principal: Principal, financing_id: str, *, approve: bool
) -> Response:
    await session.verified_form(request)
    service = _service(request)
    action = service.approve_financing if approve else service.reject_financing
    verb = "approve" if approve else "reject"
    try:
        await call(
            _deps(request),
            action,
            principal,
            financing_id=financing_id[:64],
            key=f"console-{verb}-{financing_id[:64]}",
        )
    except PuhuiError as exc:
        if isinstance(exc, Forbidden) or exc.code == "forbidden":
            raise
        return await _queue_page(
            request, principal, error=_message(request, exc), status_code=_status_of(exc)
        )
    done = "approved" if approve else "rejected"
    return RedirectResponse(f"/console/supply-chain/financings?done={done}", status_code=303)


@router.post("/console/supply-chain/financings/{financing_id}/approve")
async def approve(request: Request, principal: StaffUser, financing_id: str) -> Response:
    return await _decide(request, principal, financing_id, approve=True)


@router.post("/console/supply-chain/financings/{financing_id}/reject")
async def reject(request: Request, principal: StaffUser, financing_id: str) -> Response:
    return await _decide(request, principal, financing_id, approve=False)


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


@router.get("/h5/vouchers")
async def my_vouchers(request: Request, supplier: Supplier) -> HTMLResponse:
    found = await call(_deps(request), _service(request).my_vouchers, supplier)
    shown = sorted(
        (v for v in found.vouchers if v.status is not VoucherStatus.SPLIT),
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
        {"vouchers": shown, "held_fen": held, "enterprise": found.uscc},
    )


def _quote(request: Request, voucher: Any, core: CoreRow, today: date) -> Discount | None:
    """The indicative discount if the bank approved today, at the core's rate."""
    if core.discount_rate is None:
        return None
    try:
        return discount(
            voucher.amount_fen,
            financed_on=today,
            maturity=voucher.maturity,
            annual_rate=core.discount_rate,
            fee_rate=core.fee_rate,
        )
    except PuhuiError:
        return None


async def _voucher_page(  # noqa: PLR0913 - the page's forms and their errors
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
    deps = _deps(request)
    service = _service(request)
    found = await call(deps, service.my_voucher, supplier, voucher_id=voucher_id[:64])
    voucher = found.voucher
    core = _core_row(found.core)
    today = found.today
    quote = _quote(request, voucher, core, today)
    if split_rows is None:
        asked = request.query_params.get("parts", "")
        count = int(asked) if asked.isdecimal() else 2
        split_rows = [SplitRow() for _ in range(max(2, min(count, MAX_PARTS)))]
    suppliers = [
        SupplierChoice(s.uscc, f"{s.name} ({s.uscc})" if getattr(s, "name", None) else s.uscc)
        for s in found.suppliers
    ]
    unavailable = (
        gettext(request, ERRORS["financing_after_maturity"])
        if voucher.maturity <= today
        else gettext(request, N_("The bank does not finance this payer's vouchers at present."))
    )
    return _h5_page(
        request,
        "h5/vouchers_detail.html",
        {
            "voucher": voucher,
            "mine": found.mine,
            "quote": quote,
            "quote_unavailable": unavailable,
            "split_rows": split_rows,
            "split_error": split_error,
            "max_parts": MAX_PARTS,
            "suppliers": suppliers,
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


@router.post("/h5/vouchers/{voucher_id}/accept")
async def accept(request: Request, supplier: Supplier, voucher_id: str) -> Response:
    posted = await session.verified_form(request)
    try:
        await call(
            _deps(request),
            _service(request).accept_voucher,
            supplier,
            voucher=voucher_id[:64],
            key=_key(posted, f"h5-accept-{voucher_id[:64]}"),
        )
    except PuhuiError as exc:
        return await _voucher_page(
            request,
            supplier,
            voucher_id,
            error=_message(request, exc),
            status_code=_status_of(exc),
        )
    return _to(voucher_id, "accepted")


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
        value = text.strip()
        if not value:
            rows.append(SplitRow())
            continue
        try:
            amount = int(parse_yuan(value))
        except InvalidAmount:
            amount = 0
        if amount <= 0:
            bad = True
            rows.append(
                SplitRow(
                    value,
                    gettext(request, N_("Enter an amount of more than zero, such as 1000.50.")),
                )
            )
            continue
        rows.append(SplitRow(value))
        amounts.append(amount)
    while len(rows) < 2:  # noqa: PLR2004 - a split makes at least two parts
        rows.append(SplitRow())
    if bad:
        return rows, amounts, None
    if len(amounts) < 2:  # noqa: PLR2004
        return rows, amounts, gettext(request, N_("Enter at least two parts."))
    total = sum(amounts)
    if total != face_fen:
        from puhui.web.pages.i18n import yuan  # noqa: PLC0415 - the pages' one yuan format

        return (
            rows,
            amounts,
            gettext(
                request,
                N_("The parts add up to ¥%(total)s, not ¥%(face)s. Change them so they do."),
                total=yuan(total),
                face=yuan(face_fen),
            ),
        )
    return rows, amounts, None


@router.post("/h5/vouchers/{voucher_id}/split")
async def split(request: Request, supplier: Supplier, voucher_id: str) -> Response:
    posted = await session.verified_form(request)
    texts = [v for v in posted.getlist("part") if isinstance(v, str)]
    deps = _deps(request)
    service = _service(request)
    found = await call(deps, service.my_voucher, supplier, voucher_id=voucher_id[:64])
    rows, amounts, problem = parse_parts(request, texts, found.voucher.amount_fen)
    if problem is not None or any(r.error for r in rows):
        return await _voucher_page(
            request, supplier, voucher_id, split_rows=rows, split_error=problem, status_code=422
        )
    try:
        await call(
            deps,
            service.split_voucher,
            supplier,
            voucher=voucher_id[:64],
            parts=amounts,
            key=_key(posted, f"h5-split-{voucher_id[:64]}"),
        )
    except PuhuiError as exc:
        return await _voucher_page(
            request,
            supplier,
            voucher_id,
            split_rows=rows,
            split_error=_message(request, exc),
            status_code=_status_of(exc),
        )
    return RedirectResponse("/h5/vouchers?done=split", status_code=303)


@router.post("/h5/vouchers/{voucher_id}/transfer")
async def transfer(request: Request, supplier: Supplier, voucher_id: str) -> Response:
    posted = await session.verified_form(request)
    to = _uscc(str(posted.get("to", "")))
    try:
        if to is None:
            raise InvalidInput("choose a supplier", details={"field": "to"})
        await call(
            _deps(request),
            _service(request).transfer_voucher,
            supplier,
            voucher=voucher_id[:64],
            to=to,
            key=_key(posted, f"h5-transfer-{voucher_id[:64]}"),
        )
    except PuhuiError as exc:
        message = (
            gettext(request, N_("Choose the supplier to pass the voucher to."))
            if to is None
            else _message(request, exc)
        )
        return await _voucher_page(
            request,
            supplier,
            voucher_id,
            transfer_error=message,
            chosen_supplier=to or "",
            status_code=_status_of(exc),
        )
    return RedirectResponse("/h5/vouchers?done=transferred", status_code=303)


@router.post("/h5/vouchers/{voucher_id}/finance")
async def finance(request: Request, supplier: Supplier, voucher_id: str) -> Response:
    posted = await session.verified_form(request)
    try:
        await call(
            _deps(request),
            _service(request).request_financing,
            supplier,
            voucher=voucher_id[:64],
            key=_key(posted, f"h5-finance-{voucher_id[:64]}"),
        )
    except PuhuiError as exc:
        return await _voucher_page(
            request,
            supplier,
            voucher_id,
            error=_message(request, exc),
            status_code=_status_of(exc),
        )
    return _to(voucher_id, "financing")
