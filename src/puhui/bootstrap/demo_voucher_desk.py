"""The demo's voucher desk on the platform: the supply-chain services, as its users call them.

Each enterprise acts through its own user (an applicant-role login bound to the enterprise:
the core issues, holders accept, split, transfer and request financing); the bank's risk
officer onboards cores and names their suppliers, an approver approves financing, operations
run the settlement. Every write carries an idempotency key made from the plan's own id, so a
run stopped half-way can be worked again without doing anything twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from puhui.bootstrap.container import Platform
from puhui.bootstrap.demo_supply_chain import Financed, Leaf, OnboardedCore, Settled
from puhui.bootstrap.supply_chain import enterprises_from, supply_chain_service_on
from puhui.decision.supply_chain import SupplyChainPolicy
from puhui.domain.errors import PuhuiError
from puhui.domain.ledger import TrialBalance
from puhui.pipelines.voucher_flows import PlannedIssue
from puhui.services.origination.ports import DataSource
from puhui.services.security.permissions import Principal, Role
from puhui.services.servicing.ledger import trial_balance
from puhui.services.supply_chain.ports import (
    FacilityDeclined,
    VoucherQuery,
)
from puhui.services.supply_chain.use_cases import MAX_PAGE, SupplyChainService

RISK = Principal(user_id="demo-risk-officer", role=Role.RISK_OFFICER)
APPROVER = Principal(user_id="demo-approver", role=Role.APPROVER)
OPERATIONS = Principal(user_id="demo-operations", role=Role.OPERATIONS)


def platform_voucher_desk(platform: Platform, data_source: DataSource) -> PlatformVoucherDesk:
    """The desk on the platform's supply-chain service: enterprises and invoices from
    ``data_source`` (the demo's market), the shipped strategy; the service prices on the
    platform clock's day (the LPR in force on the simulated day, not the machine's)."""
    service = supply_chain_service_on(
        platform.database.engine,
        clock=platform.clock,
        audit_key=platform.audit_key,
        source=enterprises_from(data_source, platform.clock),
        policy=SupplyChainPolicy.load(),
    )
    return PlatformVoucherDesk(service, partial(trial_balance, platform.servicing_uow))


@dataclass
class PlatformVoucherDesk:
    """The :class:`~puhui.bootstrap.demo_supply_chain.VoucherDesk` on the platform's services."""

    service: SupplyChainService
    balances: Callable[..., TrialBalance]
    """The ledger's trial balance, ``as_of=`` a day (vouchers post to the servicing ledger)."""

    def __post_init__(self) -> None:
        self._bound: set[str] = set()
        self._cores: list[str] = []

    def _user(self, uscc: str) -> Principal:
        """The enterprise's own user, bound to it the first time it acts."""
        user = Principal(user_id=f"scf-{uscc}", role=Role.APPLICANT)
        if uscc not in self._bound:
            self.service.bind_user(RISK, user_id=user.user_id, uscc=uscc)
            self._bound.add(uscc)
        return user

    def onboard(self, core: str, requested_fen: int, as_of: dt.date) -> OnboardedCore:
        try:
            view = self.service.onboard_core(
                RISK,
                uscc=core,
                requested_fen=requested_fen,
                as_of=as_of,
                key=f"demo:onboard:{core}",
            )
        except PuhuiError as exc:
            declined = exc.details.get("reasons")
            if exc.code == FacilityDeclined.code and declined:
                reasons = tuple(str(r) for r in declined)
            else:
                reasons = (f"{exc.code}: {exc.message}",)
            return OnboardedCore(core, approved=False, reasons=reasons)
        self._cores.append(core)
        return OnboardedCore(
            core,
            approved=True,
            limit_fen=view.limit_fen,
            grade=view.grade,
            discount_rate=view.discount_rate,
            fee_rate=view.fee_rate,
            term_days=view.term_days,
            expires_on=view.expires_on,
        )

    def name_supplier(self, core: str, supplier: str) -> None:
        self.service.name_partner(
            RISK,
            core=core,
            partner_uscc=supplier,
            relation="supplier",
            key=f"demo:supplier:{core}:{supplier}",
        )

    def issue(self, issue: PlannedIssue) -> str:
        core = self._user(issue.core)
        payable = self.service.confirm_payable(
            core,
            core=issue.core,
            supplier=issue.supplier,
            invoice_month=issue.invoice_month,
            amount_fen=issue.amount_fen,
            key=f"demo:payable:{issue.voucher}",
        )
        voucher = self.service.issue_voucher(
            core,
            core=issue.core,
            payable_id=payable.payable_id,
            maturity=issue.maturity,
            key=f"demo:issue:{issue.voucher}",
        )
        self.service.accept_voucher(
            self._user(issue.supplier),
            voucher_id=voucher.voucher_id,
            key=f"demo:accept:{voucher.voucher_id}",
        )
        return voucher.voucher_id

    def split(self, holder: str, voucher_id: str, amounts: Sequence[int]) -> list[str]:
        split = self.service.split_voucher(
            self._user(holder),
            voucher_id=voucher_id,
            parts=list(amounts),
            key=f"demo:split:{voucher_id}",
        )
        return [child.voucher_id for child in split.children]

    def transfer(self, holder: str, voucher_id: str, to: str) -> None:
        self.service.transfer_voucher(
            self._user(holder), voucher_id=voucher_id, to=to, key=f"demo:transfer:{voucher_id}:{to}"
        )

    def finance(self, holder: str, voucher_id: str) -> Financed:
        requested = self.service.request_financing(
            self._user(holder), voucher_id=voucher_id, key=f"demo:finance:{voucher_id}"
        )
        approved = self.service.approve_financing(
            APPROVER,
            financing_id=requested.financing_id,
            key=f"demo:approve:{requested.financing_id}",
        )
        return Financed(
            face_fen=approved.face_fen,
            interest_fen=approved.interest_fen or 0,
            fee_fen=approved.fee_fen or 0,
            proceeds_fen=approved.proceeds_fen or 0,
        )

    def settle_due(self, on: dt.date) -> Settled:
        run = self.service.settle_due(OPERATIONS, on=on, key=f"demo:settle:{on.isoformat()}")
        return Settled(
            settled=run.settled,
            settled_fen=run.settled_fen,
            to_bank_fen=run.to_bank_fen,
            to_holders_fen=run.to_holders_fen,
            overdue=run.overdue,
            overdue_fen=run.overdue_fen,
            penalty_fen=run.penalty_fen,
        )

    def earn_through(self, day: dt.date) -> int:
        run = self.service.earn_discount_interest(
            OPERATIONS, through=day, key=f"demo:earn:{day.isoformat()}"
        )
        return run.earned_fen

    def leaves(self) -> list[Leaf]:
        found: list[Leaf] = []
        for core in self._cores:
            after = None
            while True:
                page = self.service.list_vouchers(
                    OPERATIONS, VoucherQuery(core=core, after=after, limit=MAX_PAGE)
                )
                found.extend(
                    Leaf(v.tier, v.amount_fen, v.status, v.maturity)
                    for v in page
                    if v.status != "split"
                )
                if len(page) < MAX_PAGE:
                    break
                after = page[-1].voucher_id
        return found

    def ledger(self, as_of: dt.date) -> dict[str, int]:
        balance = self.balances(as_of=as_of)
        return {account.code: amount for account, amount in balance.balances_fen.items()}
