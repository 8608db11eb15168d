"""The partner repository: agreements, links, decisions, settlement rows; a loan's entries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, RowMapping, func, or_, select

from puhui.adapters.db.origination.tables import applications
from puhui.adapters.db.partners.tables import (
    partner_agreements,
    partner_decisions,
    partner_loans,
    partner_settlement_rows,
    partner_settlements,
)
from puhui.adapters.db.servicing.tables import journal_entries, journal_lines, loans
from puhui.domain.clock import Clock
from puhui.domain.ledger import Account
from puhui.domain.partners.agreements import (
    Agreement,
    AgreementKind,
    AgreementStatus,
    Approver,
    ConcentrationLimits,
    FeeTerms,
)
from puhui.domain.partners.settlement import Component, SettlementRow
from puhui.services.partners.ports import LoanEntry, LoanLink, PartnerDecision, RoutableLoan


def loan_descriptions(loan_id: str) -> list[str]:
    """The descriptions servicing gives a loan's own entries (services/servicing/*)."""
    return [
        f"repayment of {loan_id}",
        f"write-off of {loan_id}",
        f"recovery on {loan_id}",
        f"disbursement of term loan {loan_id}",
    ]


class SqlPartnerRepository:
    def __init__(self, connection: Connection, clock: Clock) -> None:
        self._connection = connection
        self._clock = clock
        self._descriptions_on: dict[dt.date, str] = {}
        """The descriptions of each day's entries, read once per unit of work (settlement)."""

    # -- agreements ------------------------------------------------------------------------

    def add_agreement(self, agreement: Agreement, *, created_by: str) -> None:
        self._connection.execute(
            partner_agreements.insert().values(
                **_agreement_values(agreement),
                created_by=created_by,
                created_at=self._clock.now(),
                version=1,
            )
        )

    def save_agreement(self, agreement: Agreement) -> None:
        self._connection.execute(
            partner_agreements.update()
            .where(partner_agreements.c.agreement_id == agreement.agreement_id)
            .values(**_agreement_values(agreement), version=partner_agreements.c.version + 1)
        )

    def agreement(self, agreement_id: str, *, for_update: bool = False) -> Agreement | None:
        query = select(partner_agreements).where(partner_agreements.c.agreement_id == agreement_id)
        if for_update:
            query = query.with_for_update()
        row = self._connection.execute(query).one_or_none()
        return None if row is None else _agreement(row._mapping)

    def agreements(self) -> list[Agreement]:
        rows = self._connection.execute(
            select(partner_agreements).order_by(partner_agreements.c.agreement_id)
        )
        return [_agreement(r._mapping) for r in rows]

    # -- loans -----------------------------------------------------------------------------

    def link(self, link: LoanLink) -> None:
        self._connection.execute(
            partner_loans.insert().values(
                loan_id=link.loan_id,
                agreement_id=link.agreement_id,
                channel=link.channel,
                principal_fen=link.principal_fen,
                linked_on=link.linked_on,
            )
        )

    def links(self, agreement_id: str) -> list[LoanLink]:
        rows = self._connection.execute(
            select(partner_loans)
            .where(partner_loans.c.agreement_id == agreement_id)
            .order_by(partner_loans.c.loan_id)
        )
        return [_link(r._mapping) for r in rows]

    def link_of(self, loan_id: str) -> LoanLink | None:
        row = self._connection.execute(
            select(partner_loans).where(partner_loans.c.loan_id == loan_id)
        ).one_or_none()
        return None if row is None else _link(row._mapping)

    def loan_principal_fen(self, loan_id: str) -> int | None:
        value = self._connection.execute(
            select(loans.c.principal_fen).where(loans.c.loan_id == loan_id)
        ).scalar_one_or_none()
        return None if value is None else int(value)

    def lock_partner(self, partner_id: str) -> None:
        self._connection.execute(
            select(partner_agreements.c.agreement_id)
            .where(partner_agreements.c.partner_id == partner_id)
            .order_by(partner_agreements.c.agreement_id)
            .with_for_update()
        ).all()

    def partner_outstanding_fen(self, partner_id: str) -> int:
        # One join, however many loans the partner has: a list of their ids bound as
        # parameters would outgrow the drivers' limits (32,766 on SQLite, 65,535 on psycopg).
        query = (
            select(func.coalesce(func.sum(loans.c.outstanding_principal_fen), 0))
            .select_from(
                partner_loans.join(
                    partner_agreements,
                    partner_agreements.c.agreement_id == partner_loans.c.agreement_id,
                ).join(loans, loans.c.loan_id == partner_loans.c.loan_id)
            )
            .where(partner_agreements.c.partner_id == partner_id)
        )
        return int(self._connection.execute(query).scalar_one())

    def book_outstanding_fen(self) -> int:
        query = select(func.coalesce(func.sum(loans.c.outstanding_principal_fen), 0))
        return int(self._connection.execute(query).scalar_one())

    def loan_entries_on(self, loan_id: str, on: dt.date) -> list[LoanEntry]:
        # Every description of a loan's own entries (and of their reversals) names the loan:
        # a loan not named that day has none, and the day's settlement skips its query.
        if loan_id not in self._day_descriptions(on):
            return []
        # A reversal's description is "reversal of <key>: <the reversed entry's description>".
        own = [
            journal_entries.c.description.in_(loan_descriptions(loan_id)),
            journal_entries.c.description.like(f"draw {loan_id} on line %"),
        ]
        reversed_own = [
            journal_entries.c.description.like(f"reversal of %: {text}")
            for text in loan_descriptions(loan_id)
        ]
        heads = select(journal_entries.c.entry_id).where(
            journal_entries.c.posted_on == on,
            or_(
                (journal_entries.c.reverses_key.is_(None)) & or_(*own),
                (journal_entries.c.reverses_key.is_not(None)) & or_(*reversed_own),
            ),
        )
        rows = self._connection.execute(
            select(
                journal_lines.c.entry_id,
                journal_entries.c.reverses_key,
                journal_lines.c.account,
                journal_lines.c.amount_fen,
            )
            .join(journal_entries, journal_entries.c.entry_id == journal_lines.c.entry_id)
            .where(journal_lines.c.entry_id.in_(heads))
            .order_by(journal_lines.c.entry_id, journal_lines.c.line_no)
        )
        entries: dict[str, dict[Account, int]] = {}
        reversals: set[str] = set()
        for entry_id, reverses_key, code, amount in rows:
            account = Account.from_code(code)
            lines = entries.setdefault(entry_id, {})
            lines[account] = lines.get(account, 0) + int(amount)
            if reverses_key is not None:
                reversals.add(entry_id)
        return [LoanEntry(amounts, entry_id in reversals) for entry_id, amounts in entries.items()]

    # -- settlement ------------------------------------------------------------------------

    def _day_descriptions(self, on: dt.date) -> str:
        if on not in self._descriptions_on:
            texts = self._connection.execute(
                select(journal_entries.c.description).where(journal_entries.c.posted_on == on)
            ).scalars()
            self._descriptions_on[on] = "\n".join(texts)
        return self._descriptions_on[on]

    def settled(self, agreement_id: str, on: dt.date) -> bool:
        return (
            self._connection.execute(
                select(partner_settlements.c.rows).where(
                    partner_settlements.c.agreement_id == agreement_id,
                    partner_settlements.c.settled_on == on,
                )
            ).one_or_none()
            is not None
        )

    def last_settled(self, agreement_id: str) -> dt.date | None:
        value = self._connection.execute(
            select(func.max(partner_settlements.c.settled_on)).where(
                partner_settlements.c.agreement_id == agreement_id
            )
        ).scalar_one_or_none()
        return value if value is None else dt.date.fromisoformat(str(value))

    def routable_loans(self, partner_id: str, through: dt.date) -> list[RoutableLoan]:
        query = (
            select(loans.c.loan_id, applications.c.application_id, loans.c.disbursed_on)
            .join(applications, applications.c.credit_line_id == loans.c.line_id)
            .outerjoin(partner_loans, partner_loans.c.loan_id == loans.c.loan_id)
            .where(
                applications.c.partner_id == partner_id,
                loans.c.status == "active",
                loans.c.disbursed_on <= through,
                partner_loans.c.loan_id.is_(None),
            )
            .order_by(loans.c.disbursed_on, loans.c.loan_id)
        )
        return [
            RoutableLoan(row.loan_id, row.application_id, row.disbursed_on)
            for row in self._connection.execute(query)
        ]

    def save_settlement(
        self, agreement_id: str, on: dt.date, rows: Sequence[SettlementRow]
    ) -> None:
        self._connection.execute(
            partner_settlements.insert().values(
                agreement_id=agreement_id,
                settled_on=on,
                rows=len(rows),
                created_at=self._clock.now(),
            )
        )
        if rows:
            self._connection.execute(
                partner_settlement_rows.insert(),
                [
                    {
                        "agreement_id": r.agreement_id,
                        "settled_on": r.settled_on,
                        "loan_id": r.loan_id,
                        "component": r.component.value,
                        "total_fen": r.total_fen,
                        "partner_fen": r.partner_fen,
                        "bank_fen": r.bank_fen,
                    }
                    for r in rows
                ],
            )

    def rows(
        self, agreement_id: str, *, on: dt.date | None = None, through: dt.date | None = None
    ) -> list[SettlementRow]:
        t = partner_settlement_rows
        query = select(t).where(t.c.agreement_id == agreement_id)
        if on is not None:
            query = query.where(t.c.settled_on == on)
        if through is not None:
            query = query.where(t.c.settled_on <= through)
        query = query.order_by(t.c.settled_on, t.c.loan_id, t.c.component)
        return [
            SettlementRow(
                settled_on=r.settled_on,
                agreement_id=r.agreement_id,
                loan_id=r.loan_id,
                component=Component(r.component),
                total_fen=int(r.total_fen),
                partner_fen=int(r.partner_fen),
                bank_fen=int(r.bank_fen),
            )
            for r in self._connection.execute(query)
        ]

    # -- decisions -------------------------------------------------------------------------

    def record_decision(self, decision: PartnerDecision) -> None:
        self._connection.execute(
            partner_decisions.insert().values(
                agreement_id=decision.agreement_id,
                application_id=decision.application_id,
                decision=decision.decision,
                reason=decision.reason,
                decided_at=decision.decided_at,
            )
        )

    def decision(self, agreement_id: str, application_id: str) -> PartnerDecision | None:
        row = self._connection.execute(
            select(partner_decisions).where(
                partner_decisions.c.agreement_id == agreement_id,
                partner_decisions.c.application_id == application_id,
            )
        ).one_or_none()
        if row is None:
            return None
        return PartnerDecision(
            row.agreement_id, row.application_id, row.decision, row.reason, row.decided_at
        )


def _agreement_values(a: Agreement) -> dict[str, Any]:
    return {
        "agreement_id": a.agreement_id,
        "partner_id": a.partner_id,
        "partner_name": a.partner_name,
        "kind": a.kind.value,
        "funding_share": str(a.funding_share),
        "approver": a.approver.value,
        "max_outstanding_fen": a.limits.max_outstanding_fen,
        "max_portfolio_share": str(a.limits.max_portfolio_share),
        "fee_per_loan_fen": a.fees.per_loan_fen,
        "fee_interest_share": str(a.fees.interest_share),
        "valid_from": a.valid_from,
        "valid_to": a.valid_to,
        "status": a.status.value,
    }


def _agreement(row: RowMapping) -> Agreement:
    return Agreement(
        agreement_id=row["agreement_id"],
        partner_id=row["partner_id"],
        partner_name=row["partner_name"],
        kind=AgreementKind(row["kind"]),
        funding_share=Decimal(row["funding_share"]),
        approver=Approver(row["approver"]),
        limits=ConcentrationLimits(
            max_outstanding_fen=int(row["max_outstanding_fen"]),
            max_portfolio_share=Decimal(row["max_portfolio_share"]),
        ),
        fees=FeeTerms(
            per_loan_fen=int(row["fee_per_loan_fen"]),
            interest_share=Decimal(row["fee_interest_share"]),
        ),
        valid_from=row["valid_from"],
        valid_to=row["valid_to"],
        status=AgreementStatus(row["status"]),
    )


def _link(row: RowMapping) -> LoanLink:
    return LoanLink(
        loan_id=row["loan_id"],
        agreement_id=row["agreement_id"],
        channel=row["channel"],
        principal_fen=int(row["principal_fen"]),
        linked_on=row["linked_on"],
    )
