"""The SQL guarantee repository: agencies, agreements, covers, fees, claims, recoveries.

Loans are read from servicing's ``loans`` table as end of day left them; nothing here
writes to it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from puhui.adapters.db import fast
from puhui.adapters.db.guarantees.tables import (
    guarantee_agencies,
    guarantee_agreements,
    guarantee_claims,
    guarantee_covers,
    guarantee_fees,
    guarantee_recoveries,
)
from puhui.adapters.db.servicing.tables import loans
from puhui.domain.clock import Clock
from puhui.domain.guarantees.agreements import Agency, Agreement, FeeMode
from puhui.domain.guarantees.errors import AlreadyCovered
from puhui.services.guarantees.ports import (
    CLOSED_CLAIMS,
    AgreementTotals,
    Claim,
    Cover,
    ExposureRow,
    FeeRecord,
    LoanFacts,
    RecoveryRecord,
)

_LOAN_CURED = or_(
    loans.c.status == "closed",
    and_(loans.c.status == "active", loans.c.days_past_due == 0),
)
"""A covered loan is cured when it is repaid and closed, or current again (0 days past due):
its raised claim is withdrawn, its paid claim's compensation returned (docs/guarantees.md)."""


class SqlGuaranteeRepository:
    def __init__(self, connection: Connection, clock: Clock) -> None:
        self._connection = connection
        self._clock = clock

    # -- agencies ---------------------------------------------------------------------

    def add_agency(self, agency: Agency, *, actor: str) -> None:
        self._connection.execute(
            guarantee_agencies.insert().values(
                agency_id=agency.agency_id,
                name=agency.name,
                uscc=agency.uscc,
                created_at=self._clock.now(),
                created_by=actor,
            )
        )

    def get_agency(self, agency_id: str) -> Agency | None:
        row = self._connection.execute(
            select(guarantee_agencies).where(guarantee_agencies.c.agency_id == agency_id)
        ).one_or_none()
        return None if row is None else _agency(row)

    def agency_by_uscc(self, uscc: str) -> Agency | None:
        row = self._connection.execute(
            select(guarantee_agencies).where(guarantee_agencies.c.uscc == uscc)
        ).one_or_none()
        return None if row is None else _agency(row)

    def list_agencies(self) -> list[Agency]:
        rows = self._connection.execute(
            select(guarantee_agencies).order_by(guarantee_agencies.c.agency_id)
        ).all()
        return [_agency(row) for row in rows]

    # -- agreements -------------------------------------------------------------------

    def add_agreement(
        self, agreement: Agreement, *, actor: str, request_key: str | None = None
    ) -> None:
        self._connection.execute(
            guarantee_agreements.insert().values(
                agreement_id=agreement.agreement_id,
                agency_id=agreement.agency_id,
                product_id=agreement.product_id,
                channel=agreement.channel,
                coverage_share=agreement.coverage_share,
                fee_rate=agreement.fee_rate,
                fee_mode=agreement.fee_mode.value,
                borrower_cap_fen=agreement.borrower_cap_fen,
                portfolio_cap_fen=agreement.portfolio_cap_fen,
                claim_trigger_days=agreement.claim_trigger_days,
                valid_from=agreement.valid_from,
                valid_to=agreement.valid_to,
                counter_guarantee_waived=agreement.counter_guarantee_waived,
                covered_fen=0,
                claimed_fen=0,
                version=agreement.version,
                created_at=self._clock.now(),
                created_by=actor,
                request_key=request_key,
            )
        )

    def agreement_by_key(self, request_key: str) -> Agreement | None:
        row = self._connection.execute(
            select(guarantee_agreements).where(guarantee_agreements.c.request_key == request_key)
        ).one_or_none()
        return None if row is None else _agreement(row)

    def get_agreement(self, agreement_id: str, *, for_update: bool = False) -> Agreement | None:
        query = select(guarantee_agreements).where(
            guarantee_agreements.c.agreement_id == agreement_id
        )
        if for_update:
            query = query.with_for_update()
        row = self._connection.execute(query).one_or_none()
        return None if row is None else _agreement(row)

    def list_agreements(self, agency_id: str | None = None) -> list[Agreement]:
        query = select(guarantee_agreements).order_by(guarantee_agreements.c.agreement_id)
        if agency_id is not None:
            query = query.where(guarantee_agreements.c.agency_id == agency_id)
        return [_agreement(row) for row in self._connection.execute(query).all()]

    def agreements_for_channel(self, channel: str) -> list[Agreement]:
        # Read on every decision (the strategy's guarantee_coverage): a prebuilt statement.
        rows = fast.execute(self._connection, _FOR_CHANNEL, {"b_channel": channel}).all()
        return [_agreement(row) for row in rows]

    def totals(self, agreement_id: str) -> AgreementTotals:
        row = self._connection.execute(
            select(guarantee_agreements.c.covered_fen, guarantee_agreements.c.claimed_fen).where(
                guarantee_agreements.c.agreement_id == agreement_id
            )
        ).one()
        return AgreementTotals(covered_fen=row.covered_fen, claimed_fen=row.claimed_fen)

    def save_totals(self, agreement_id: str, totals: AgreementTotals) -> None:
        self._connection.execute(
            update(guarantee_agreements)
            .where(guarantee_agreements.c.agreement_id == agreement_id)
            .values(
                covered_fen=totals.covered_fen,
                claimed_fen=totals.claimed_fen,
                version=guarantee_agreements.c.version + 1,
            )
        )

    # -- loans (read only) ------------------------------------------------------------

    def loan(self, loan_id: str) -> LoanFacts | None:
        row = self._connection.execute(
            select(
                loans.c.loan_id,
                loans.c.enterprise_id,
                loans.c.product_id,
                loans.c.principal_fen,
                loans.c.outstanding_principal_fen,
                loans.c.interest_billed_fen,
                loans.c.interest_accrued_fen,
                loans.c.days_past_due,
                loans.c.status,
                loans.c.disbursed_on,
                loans.c.maturity_date,
            ).where(loans.c.loan_id == loan_id)
        ).one_or_none()
        if row is None:
            return None
        return LoanFacts(
            loan_id=row.loan_id,
            enterprise_id=row.enterprise_id,
            product_id=row.product_id,
            principal_fen=row.principal_fen,
            outstanding_principal_fen=row.outstanding_principal_fen,
            interest_owed_fen=row.interest_billed_fen + row.interest_accrued_fen,
            days_past_due=row.days_past_due,
            status=row.status,
            disbursed_on=row.disbursed_on,
            maturity_date=row.maturity_date,
        )

    # -- covers and fees --------------------------------------------------------------

    def add_cover(self, cover: Cover, *, actor: str) -> None:
        """Insert the cover; a loan covered meanwhile by another transaction (under another
        agreement: its lock does not serialise the two) is the same named 409 as when seen."""
        try:
            self._connection.execute(
                guarantee_covers.insert().values(
                    loan_id=cover.loan_id,
                    agreement_id=cover.agreement_id,
                    enterprise_id=cover.enterprise_id,
                    principal_fen=cover.principal_fen,
                    covered_fen=cover.covered_fen,
                    covered_on=cover.covered_on,
                    covered_by=actor,
                )
            )
        except IntegrityError as exc:
            raise AlreadyCovered(
                f"loan {cover.loan_id} was covered by another request meanwhile",
                details={"loan_id": cover.loan_id},
            ) from exc

    def get_cover(self, loan_id: str) -> Cover | None:
        row = self._connection.execute(
            select(guarantee_covers).where(guarantee_covers.c.loan_id == loan_id)
        ).one_or_none()
        if row is None:
            return None
        return Cover(
            loan_id=row.loan_id,
            agreement_id=row.agreement_id,
            enterprise_id=row.enterprise_id,
            principal_fen=row.principal_fen,
            covered_fen=row.covered_fen,
            covered_on=row.covered_on,
        )

    def borrower_covered_fen(self, agreement_id: str, enterprise_id: str) -> int:
        return int(
            self._connection.execute(
                select(func.coalesce(func.sum(guarantee_covers.c.covered_fen), 0)).where(
                    guarantee_covers.c.agreement_id == agreement_id,
                    guarantee_covers.c.enterprise_id == enterprise_id,
                )
            ).scalar_one()
        )

    def borrower_claimed_fen(self, agreement_id: str, enterprise_id: str) -> int:
        return int(
            self._connection.execute(
                select(func.coalesce(func.sum(guarantee_claims.c.claim_fen), 0))
                .join(guarantee_covers, guarantee_covers.c.loan_id == guarantee_claims.c.loan_id)
                .where(
                    guarantee_claims.c.agreement_id == agreement_id,
                    guarantee_covers.c.enterprise_id == enterprise_id,
                    # withdrawn and returned claims owe nothing
                    guarantee_claims.c.status.not_in(CLOSED_CLAIMS),
                )
            ).scalar_one()
        )

    def add_fee(self, fee: FeeRecord) -> None:
        self._connection.execute(
            guarantee_fees.insert().values(
                entry_key=fee.entry_key,
                loan_id=fee.loan_id,
                period_from=fee.period_from,
                period_to=fee.period_to,
                principal_fen=fee.principal_fen,
                amount_fen=fee.amount_fen,
                collected_on=fee.collected_on,
            )
        )

    def fee_for(self, loan_id: str, period_from: date) -> FeeRecord | None:
        row = self._connection.execute(
            select(guarantee_fees).where(
                guarantee_fees.c.loan_id == loan_id, guarantee_fees.c.period_from == period_from
            )
        ).one_or_none()
        if row is None:
            return None
        return FeeRecord(
            entry_key=row.entry_key,
            loan_id=row.loan_id,
            period_from=row.period_from,
            period_to=row.period_to,
            principal_fen=row.principal_fen,
            amount_fen=row.amount_fen,
            collected_on=row.collected_on,
        )

    # -- claims -----------------------------------------------------------------------

    def add_claim(self, claim: Claim) -> None:
        self._connection.execute(guarantee_claims.insert().values(**_claim_values(claim)))

    def get_claim(self, loan_id: str, *, for_update: bool = False) -> Claim | None:
        query = select(guarantee_claims).where(guarantee_claims.c.loan_id == loan_id)
        if for_update:
            query = query.with_for_update()
        row = self._connection.execute(query).one_or_none()
        return None if row is None else _claim(row)

    def save_claim(self, claim: Claim) -> None:
        values = _claim_values(claim)
        values.pop("claim_id")
        self._connection.execute(
            update(guarantee_claims)
            .where(guarantee_claims.c.claim_id == claim.claim_id)
            .values(**values)
        )

    def list_claims(self, status: str | None = None) -> list[Claim]:
        query = select(guarantee_claims).order_by(
            guarantee_claims.c.raised_on, guarantee_claims.c.claim_id
        )
        if status is not None:
            query = query.where(guarantee_claims.c.status == status)
        return [_claim(row) for row in self._connection.execute(query).all()]

    def triggered_without_claim(self, as_of: date) -> list[str]:
        rows = self._connection.execute(
            select(guarantee_covers.c.loan_id)
            .join(loans, loans.c.loan_id == guarantee_covers.c.loan_id)
            .join(
                guarantee_agreements,
                guarantee_agreements.c.agreement_id == guarantee_covers.c.agreement_id,
            )
            .outerjoin(guarantee_claims, guarantee_claims.c.loan_id == guarantee_covers.c.loan_id)
            .where(
                or_(
                    guarantee_claims.c.claim_id.is_(None),
                    guarantee_claims.c.status.in_(CLOSED_CLAIMS),
                ),
                loans.c.status == "active",
                loans.c.days_past_due >= guarantee_agreements.c.claim_trigger_days,
                guarantee_covers.c.covered_on <= as_of,
            )
            .order_by(guarantee_covers.c.loan_id)
        ).all()
        return [row.loan_id for row in rows]

    def periodic_fees_due(self, as_of: date) -> list[tuple[Cover, date | None]]:
        last = (
            select(
                guarantee_fees.c.loan_id,
                func.max(guarantee_fees.c.period_to).label("last_to"),
            )
            .group_by(guarantee_fees.c.loan_id)
            .subquery()
        )
        rows = self._connection.execute(
            select(guarantee_covers, last.c.last_to)
            .join(loans, loans.c.loan_id == guarantee_covers.c.loan_id)
            .join(
                guarantee_agreements,
                guarantee_agreements.c.agreement_id == guarantee_covers.c.agreement_id,
            )
            .outerjoin(last, last.c.loan_id == guarantee_covers.c.loan_id)
            .where(
                guarantee_agreements.c.fee_mode == FeeMode.PERIODIC.value,
                loans.c.status == "active",
                guarantee_covers.c.covered_on <= as_of,
            )
            .order_by(guarantee_covers.c.loan_id)
        ).all()
        return [
            (
                Cover(
                    loan_id=row.loan_id,
                    agreement_id=row.agreement_id,
                    enterprise_id=row.enterprise_id,
                    principal_fen=row.principal_fen,
                    covered_fen=row.covered_fen,
                    covered_on=row.covered_on,
                ),
                row.last_to,
            )
            for row in rows
        ]

    def raised_claims_cured(self) -> list[Claim]:
        return self._claims_on_loans(guarantee_claims.c.status == "raised", _LOAN_CURED)

    def paid_claims_cured(self) -> list[Claim]:
        return self._claims_on_loans(
            guarantee_claims.c.status == "paid",
            guarantee_claims.c.released_on.is_(None),
            _LOAN_CURED,
        )

    def paid_claims_to_release(self) -> list[Claim]:
        return self._claims_on_loans(
            guarantee_claims.c.status == "paid",
            guarantee_claims.c.released_on.is_(None),
            loans.c.status == "written_off",
        )

    def _claims_on_loans(self, *conditions: ColumnElement[bool]) -> list[Claim]:
        """Claims, in id order, that meet ``conditions`` on the claim and its loan."""
        rows = self._connection.execute(
            select(guarantee_claims)
            .join(loans, loans.c.loan_id == guarantee_claims.c.loan_id)
            .where(*conditions)
            .order_by(guarantee_claims.c.claim_id)
        ).all()
        return [_claim(row) for row in rows]

    def add_recovery(self, recovery: RecoveryRecord) -> None:
        self._connection.execute(
            guarantee_recoveries.insert().values(
                entry_key=recovery.entry_key,
                claim_id=recovery.claim_id,
                recovered_on=recovery.recovered_on,
                recovery_fen=recovery.recovery_fen,
                agency_fen=recovery.agency_fen,
                bank_fen=recovery.bank_fen,
            )
        )

    def get_recovery(self, entry_key: str) -> RecoveryRecord | None:
        row = self._connection.execute(
            select(guarantee_recoveries).where(guarantee_recoveries.c.entry_key == entry_key)
        ).one_or_none()
        if row is None:
            return None
        return RecoveryRecord(
            entry_key=row.entry_key,
            claim_id=row.claim_id,
            recovered_on=row.recovered_on,
            recovery_fen=row.recovery_fen,
            agency_fen=row.agency_fen,
            bank_fen=row.bank_fen,
        )

    # -- remittances --------------------------------------------------------------------

    def remitted(self, remittance_key: str) -> tuple[int, int] | None:
        """Fees and recovery shares paid on under ``remittance_key`` (None: no such key)."""
        fees = self._connection.execute(
            select(func.count(), func.coalesce(func.sum(guarantee_fees.c.amount_fen), 0)).where(
                guarantee_fees.c.remittance_key == remittance_key
            )
        ).one()
        shares = self._connection.execute(
            select(
                func.count(), func.coalesce(func.sum(guarantee_recoveries.c.agency_fen), 0)
            ).where(guarantee_recoveries.c.remittance_key == remittance_key)
        ).one()
        if fees[0] == 0 and shares[0] == 0:
            return None
        return int(fees[1]), int(shares[1])

    def mark_remitted(self, agency_id: str, remittance_key: str, on: date) -> tuple[int, int]:
        """Mark the agency's fees and recovery shares not yet paid on, up to ``on``, as paid
        under ``remittance_key``; returns their totals."""
        agreements = select(guarantee_agreements.c.agreement_id).where(
            guarantee_agreements.c.agency_id == agency_id
        )
        covered = select(guarantee_covers.c.loan_id).where(
            guarantee_covers.c.agreement_id.in_(agreements)
        )
        claims = select(guarantee_claims.c.claim_id).where(
            guarantee_claims.c.agreement_id.in_(agreements)
        )
        self._connection.execute(
            update(guarantee_fees)
            .where(
                guarantee_fees.c.loan_id.in_(covered),
                guarantee_fees.c.remittance_key.is_(None),
                guarantee_fees.c.collected_on <= on,
                guarantee_fees.c.amount_fen > 0,
            )
            .values(remittance_key=remittance_key)
        )
        self._connection.execute(
            update(guarantee_recoveries)
            .where(
                guarantee_recoveries.c.claim_id.in_(claims),
                guarantee_recoveries.c.remittance_key.is_(None),
                guarantee_recoveries.c.recovered_on <= on,
                guarantee_recoveries.c.agency_fen > 0,
            )
            .values(remittance_key=remittance_key)
        )
        return self.remitted(remittance_key) or (0, 0)

    # -- report -----------------------------------------------------------------------

    def exposure(self) -> list[ExposureRow]:
        covers = (
            select(
                guarantee_covers.c.agreement_id,
                func.count().label("loans"),
                func.coalesce(func.sum(loans.c.outstanding_principal_fen), 0).label("outstanding"),
            )
            .join(loans, loans.c.loan_id == guarantee_covers.c.loan_id)
            .group_by(guarantee_covers.c.agreement_id)
            .subquery()
        )
        fees = (
            select(
                guarantee_covers.c.agreement_id,
                func.coalesce(func.sum(guarantee_fees.c.amount_fen), 0).label("fees"),
            )
            .join(guarantee_fees, guarantee_fees.c.loan_id == guarantee_covers.c.loan_id)
            .group_by(guarantee_covers.c.agreement_id)
            .subquery()
        )
        paid = func.sum(guarantee_claims.c.claim_fen).filter(guarantee_claims.c.status == "paid")
        claims = (
            select(
                guarantee_claims.c.agreement_id,
                # Claims standing or paid: a withdrawn or returned one (the loan cured) is not.
                func.count()
                .filter(guarantee_claims.c.status.not_in(CLOSED_CLAIMS))
                .label("raised"),
                func.coalesce(paid, 0).label("paid"),
                # A returned claim's recovery shares went back with its compensation.
                func.coalesce(
                    func.sum(guarantee_claims.c.agency_recovered_fen).filter(
                        guarantee_claims.c.status.not_in(CLOSED_CLAIMS)
                    ),
                    0,
                ).label("agency_recovered"),
            )
            .group_by(guarantee_claims.c.agreement_id)
            .subquery()
        )
        a = guarantee_agreements
        rows = self._connection.execute(
            select(
                a.c.agency_id,
                guarantee_agencies.c.name,
                a.c.agreement_id,
                a.c.coverage_share,
                a.c.covered_fen,
                a.c.claimed_fen,
                a.c.portfolio_cap_fen,
                func.coalesce(covers.c.loans, 0).label("loans"),
                func.coalesce(covers.c.outstanding, 0).label("outstanding"),
                func.coalesce(fees.c.fees, 0).label("fees"),
                func.coalesce(claims.c.raised, 0).label("raised"),
                func.coalesce(claims.c.paid, 0).label("paid"),
                func.coalesce(claims.c.agency_recovered, 0).label("agency_recovered"),
            )
            .join(guarantee_agencies, guarantee_agencies.c.agency_id == a.c.agency_id)
            .outerjoin(covers, covers.c.agreement_id == a.c.agreement_id)
            .outerjoin(fees, fees.c.agreement_id == a.c.agreement_id)
            .outerjoin(claims, claims.c.agreement_id == a.c.agreement_id)
            .order_by(a.c.agency_id, a.c.agreement_id)
        ).all()
        return [
            ExposureRow(
                agency_id=row.agency_id,
                agency_name=row.name,
                agreement_id=row.agreement_id,
                coverage_share=_share_text(row.coverage_share),
                loans_covered=int(row.loans),
                covered_fen=int(row.covered_fen),
                portfolio_cap_fen=int(row.portfolio_cap_fen),
                outstanding_principal_fen=int(row.outstanding),
                fees_fen=int(row.fees),
                claims_raised=int(row.raised),
                claims_fen=int(row.claimed_fen),
                claims_paid_fen=int(row.paid),
                agency_recovered_fen=int(row.agency_recovered),
            )
            for row in rows
        ]


def _share_text(value: Decimal) -> str:
    return format(Decimal(value).normalize(), "f")


def _agency(row: Any) -> Agency:
    return Agency(agency_id=row.agency_id, name=row.name, uscc=row.uscc)


_FOR_CHANNEL = (
    select(guarantee_agreements)
    .where(guarantee_agreements.c.channel == bindparam("b_channel"))
    .order_by(guarantee_agreements.c.agreement_id)
)


def _agreement(row: Any) -> Agreement:
    return Agreement(
        agreement_id=row.agreement_id,
        agency_id=row.agency_id,
        product_id=row.product_id,
        channel=row.channel,
        coverage_share=Decimal(row.coverage_share).normalize(),
        fee_rate=Decimal(row.fee_rate).normalize(),
        fee_mode=FeeMode(row.fee_mode),
        borrower_cap_fen=row.borrower_cap_fen,
        portfolio_cap_fen=row.portfolio_cap_fen,
        claim_trigger_days=row.claim_trigger_days,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        counter_guarantee_waived=bool(row.counter_guarantee_waived),
        version=row.version,
    )


def _claim(row: Any) -> Claim:
    return Claim(
        claim_id=row.claim_id,
        loan_id=row.loan_id,
        agreement_id=row.agreement_id,
        status=row.status,
        raised_on=row.raised_on,
        days_past_due=row.days_past_due,
        principal_fen=row.principal_fen,
        interest_fen=row.interest_fen,
        claim_fen=row.claim_fen,
        paid_on=row.paid_on,
        released_on=row.released_on,
        returned_on=row.returned_on,
        agency_recovered_fen=row.agency_recovered_fen,
        bank_recovered_fen=row.bank_recovered_fen,
        version=row.version,
    )


def _claim_values(claim: Claim) -> dict[str, Any]:
    return {
        "claim_id": claim.claim_id,
        "loan_id": claim.loan_id,
        "agreement_id": claim.agreement_id,
        "status": claim.status,
        "raised_on": claim.raised_on,
        "days_past_due": claim.days_past_due,
        "principal_fen": claim.principal_fen,
        "interest_fen": claim.interest_fen,
        "claim_fen": claim.claim_fen,
        "paid_on": claim.paid_on,
        "released_on": claim.released_on,
        "returned_on": claim.returned_on,
        "agency_recovered_fen": claim.agency_recovered_fen,
        "bank_recovered_fen": claim.bank_recovered_fen,
        "version": claim.version,
    }
