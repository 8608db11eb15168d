"""Guarantee use cases: agreements, covering loans, fees, claims at the trigger, recoveries.

One call, one transaction; every state change is audited and every money movement is a
balanced ledger entry (docs/guarantees.md, docs/adr/0039). Loans are read from servicing's
end-of-day state and never edited here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from puhui.domain.clock import Clock
from puhui.domain.errors import IdempotencyConflict, InvalidDate, InvalidInput
from puhui.domain.guarantees.agreements import Agency, Agreement, FeeMode
from puhui.domain.guarantees.errors import (
    AgencyNotFound,
    AgreementNotFound,
    AlreadyCovered,
    BorrowerCapExceeded,
    ClaimExists,
    ClaimNotFound,
    ClaimNotPaid,
    ClaimNotPayable,
    ClaimNotTriggered,
    CoverNotFound,
    FeeAlreadyCollected,
    FeeModeMismatch,
    InvalidAgreement,
    LoanNotFound,
    PortfolioCapExceeded,
)
from puhui.domain.guarantees.postings import (
    claim_paid_entry,
    claim_raised_entry,
    claim_withdrawn_entry,
    compensation_released_entry,
    compensation_returned_entry,
    fee_collected_entry,
    fee_due_entry,
    fee_remitted_entry,
    recovery_remitted_entry,
    recovery_shared_entry,
)
from puhui.domain.guarantees.terms import claim_amount, fee_fen, share_of, split_recovery
from puhui.domain.ids import new_id
from puhui.domain.lending.schedule import add_months
from puhui.domain.money import require_positive
from puhui.services.audit import record
from puhui.services.guarantees.ports import (
    CLOSED_CLAIMS,
    AgreementTotals,
    Claim,
    Cover,
    ExposureRow,
    FeeRecord,
    GuaranteeUnitOfWork,
    LoanFacts,
    RecoveryRecord,
    Remittance,
)
from puhui.services.servicing.idempotency import check_key

logger = logging.getLogger(__name__)

FEES_JOB_ACTOR = "system:guarantee-fees"
CLAIMS_JOB_ACTOR = "system:guarantee-claims"


@dataclass(frozen=True, slots=True)
class AgreementTerms:
    """What an agreement is created from (validated by :class:`Agreement`)."""

    agency_id: str
    coverage_share: Decimal
    fee_rate: Decimal
    fee_mode: FeeMode
    borrower_cap_fen: int
    portfolio_cap_fen: int
    valid_from: date
    valid_to: date
    claim_trigger_days: int = 90
    counter_guarantee_waived: bool = False
    product_id: str | None = None
    channel: str | None = None


@dataclass(frozen=True, slots=True)
class CoverResult:
    cover: Cover
    fee: FeeRecord | None
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class ClaimsRun:
    """What one run of the daily claims job did."""

    as_of: date
    raised: tuple[Claim, ...]
    released: tuple[Claim, ...]
    withdrawn: tuple[Claim, ...] = ()
    """Raised claims of loans that cured (current again, or repaid) before the agency paid."""
    returned: tuple[Claim, ...] = ()
    """Paid claims of loans that cured before any write-off: the compensation went back."""


class GuaranteeService:
    def __init__(
        self,
        *,
        units: Callable[[], GuaranteeUnitOfWork],
        clock: Clock,
        readers: Callable[[], GuaranteeUnitOfWork] | None = None,
    ) -> None:
        self._units = units
        self._readers = units if readers is None else readers
        """Read-only units for the one-statement read on the decision path (no write lock;
        on PostgreSQL one round trip)."""
        self.clock = clock

    # -- agencies and agreements -------------------------------------------------------

    def create_agency(self, *, name: str, uscc: str, actor: str) -> Agency:
        agency = Agency(agency_id=new_id("gag"), name=name.strip(), uscc=uscc.strip().upper())
        with self._units() as uow:
            existing = uow.guarantees.agency_by_uscc(agency.uscc)
            if existing is not None:
                return existing
            uow.guarantees.add_agency(agency, actor=actor)
            record(
                uow,
                actor=actor,
                action="guarantee.agency_created",
                entity="guarantee_agency",
                entity_id=agency.agency_id,
                payload={"name": agency.name, "uscc": agency.uscc},
            )
            uow.commit()
        return agency

    def agencies(self) -> list[Agency]:
        with self._units() as uow:
            return uow.guarantees.list_agencies()

    def create_agreement(
        self, terms: AgreementTerms, *, actor: str, key: str | None = None
    ) -> Agreement:
        """Record a batch agreement; with ``key``, the same key and terms return the first."""
        agreement = Agreement(
            agreement_id=new_id("gagr"),
            agency_id=terms.agency_id,
            product_id=terms.product_id,
            channel=terms.channel,
            coverage_share=terms.coverage_share,
            fee_rate=terms.fee_rate,
            fee_mode=terms.fee_mode,
            borrower_cap_fen=terms.borrower_cap_fen,
            portfolio_cap_fen=terms.portfolio_cap_fen,
            claim_trigger_days=terms.claim_trigger_days,
            valid_from=terms.valid_from,
            valid_to=terms.valid_to,
            counter_guarantee_waived=terms.counter_guarantee_waived,
        )
        with self._units() as uow:
            if key is not None:
                stored = uow.guarantees.agreement_by_key(check_key(key))
                if stored is not None:
                    if _terms_of(stored) != _terms_of(agreement):
                        raise IdempotencyConflict(f"key {key} created another agreement")
                    return stored
            if uow.guarantees.get_agency(terms.agency_id) is None:
                raise AgencyNotFound(f"no guarantee agency {terms.agency_id}")
            uow.guarantees.add_agreement(agreement, actor=actor, request_key=key)
            record(
                uow,
                actor=actor,
                action="guarantee.agreement_created",
                entity="guarantee_agreement",
                entity_id=agreement.agreement_id,
                payload=_agreement_payload(agreement),
            )
            uow.commit()
        logger.info("guarantee agreement %s created", agreement.agreement_id)
        return agreement

    def agreements(self, agency_id: str | None = None) -> list[Agreement]:
        with self._units() as uow:
            return uow.guarantees.list_agreements(agency_id)

    def agreement(self, agreement_id: str) -> Agreement:
        with self._units() as uow:
            return _agreement(uow, agreement_id)

    # -- covering loans and fees -------------------------------------------------------

    def cover_loan(self, *, loan_id: str, agreement_id: str, on: date, actor: str) -> CoverResult:
        """Put a drawn loan under an agreement, within its caps; an at-draw fee is collected.

        Covering the same loan under the same agreement again returns the first cover.
        """
        with self._units() as uow:
            agreement = _agreement(uow, agreement_id, for_update=True)
            existing = uow.guarantees.get_cover(loan_id)
            if existing is not None:
                if existing.agreement_id != agreement_id:
                    raise AlreadyCovered(
                        f"loan {loan_id} is covered by agreement {existing.agreement_id}",
                        details={"agreement_id": existing.agreement_id},
                    )
                fee = uow.guarantees.fee_for(loan_id, existing.covered_on)
                return CoverResult(cover=existing, fee=fee, replayed=True)
            loan = _loan(uow, loan_id)
            agreement.require_in_force(on)
            if agreement.product_id is not None and loan.product_id != agreement.product_id:
                raise InvalidAgreement(
                    f"agreement {agreement_id} covers product {agreement.product_id} only",
                    details={"product_id": loan.product_id},
                )
            if loan.status != "active" or on < loan.disbursed_on:
                raise InvalidDate(f"loan {loan_id} is {loan.status} or not drawn on {on}")
            covered = share_of(loan.principal_fen, agreement.coverage_share)
            borrower = uow.guarantees.borrower_covered_fen(agreement_id, loan.enterprise_id)
            if borrower + covered > agreement.borrower_cap_fen:
                raise BorrowerCapExceeded(
                    f"covering loan {loan_id} takes the borrower to {borrower + covered} fen "
                    f"above the cap of {agreement.borrower_cap_fen} fen",
                    details={"cap_fen": agreement.borrower_cap_fen, "covered_fen": borrower},
                )
            totals = uow.guarantees.totals(agreement_id)
            if totals.covered_fen + covered > agreement.portfolio_cap_fen:
                raise PortfolioCapExceeded(
                    f"covering loan {loan_id} takes agreement {agreement_id} above its "
                    f"portfolio cap of {agreement.portfolio_cap_fen} fen",
                    details={
                        "cap_fen": agreement.portfolio_cap_fen,
                        "covered_fen": totals.covered_fen,
                    },
                )
            cover = Cover(
                loan_id=loan_id,
                agreement_id=agreement_id,
                enterprise_id=loan.enterprise_id,
                principal_fen=loan.principal_fen,
                covered_fen=covered,
                covered_on=on,
            )
            uow.guarantees.add_cover(cover, actor=actor)
            uow.guarantees.save_totals(
                agreement_id, replace(totals, covered_fen=totals.covered_fen + covered)
            )
            fee = None
            if agreement.fee_mode is FeeMode.AT_DRAW:
                fee = _collect_fee(
                    uow,
                    agreement,
                    loan_id=loan_id,
                    principal_fen=loan.principal_fen,
                    period_from=on,
                    period_to=loan.maturity_date,
                    on=on,
                )
            record(
                uow,
                actor=actor,
                action="guarantee.loan_covered",
                entity="guarantee_cover",
                entity_id=loan_id,
                payload={
                    "agreement_id": agreement_id,
                    "covered_fen": covered,
                    "fee_fen": fee.amount_fen if fee else 0,
                },
            )
            uow.commit()
        return CoverResult(cover=cover, fee=fee)

    def collect_periodic_fee(
        self, *, loan_id: str, period_from: date, period_to: date, actor: str
    ) -> FeeRecord:
        """The fee of one period on the principal outstanding now (periodic agreements).

        Collecting the same period again returns the first collection.
        """
        if period_to <= period_from:
            raise InvalidDate("a fee period ends after it starts")
        with self._units() as uow:
            cover = _cover(uow, loan_id)
            agreement = _agreement(uow, cover.agreement_id)
            if agreement.fee_mode is not FeeMode.PERIODIC:
                raise FeeModeMismatch(f"agreement {agreement.agreement_id} collects at draw")
            existing = uow.guarantees.fee_for(loan_id, period_from)
            if existing is not None:
                if existing.period_to != period_to:
                    raise FeeAlreadyCollected(
                        f"the fee from {period_from} was collected to {existing.period_to}"
                    )
                return existing
            loan = _loan(uow, loan_id)
            fee = _collect_fee(
                uow,
                agreement,
                loan_id=loan_id,
                principal_fen=loan.outstanding_principal_fen,
                period_from=period_from,
                period_to=period_to,
                on=period_from,
            )
            record(
                uow,
                actor=actor,
                action="guarantee.fee_collected",
                entity="guarantee_cover",
                entity_id=loan_id,
                payload={"period_from": period_from.isoformat(), "amount_fen": fee.amount_fen},
            )
            uow.commit()
        return fee

    def collect_due_fees(self, as_of: date) -> list[FeeRecord]:
        """The fee schedule of periodic agreements: for every covered, active loan, each
        monthly period from the cover's day (the same day of each month) that has started by
        ``as_of`` and not been collected, up to the loan's maturity, on the principal
        outstanding now. Running it again collects nothing twice; a late run catches up."""
        collected: list[FeeRecord] = []
        with self._units() as uow:
            for cover, last_to in uow.guarantees.periodic_fees_due(as_of):
                agreement = _agreement(uow, cover.agreement_id)
                loan = _loan(uow, cover.loan_id)
                start = last_to or cover.covered_on
                months = 0
                while start <= as_of and start < loan.maturity_date:
                    months += 1
                    end = min(
                        add_months(cover.covered_on, months, anchor_day=cover.covered_on.day),
                        loan.maturity_date,
                    )
                    if end <= start:
                        continue
                    fee = _collect_fee(
                        uow,
                        agreement,
                        loan_id=cover.loan_id,
                        principal_fen=loan.outstanding_principal_fen,
                        period_from=start,
                        period_to=end,
                        on=start,
                    )
                    record(
                        uow,
                        actor=FEES_JOB_ACTOR,
                        action="guarantee.fee_collected",
                        entity="guarantee_cover",
                        entity_id=cover.loan_id,
                        payload={"period_from": start.isoformat(), "amount_fen": fee.amount_fen},
                    )
                    collected.append(fee)
                    start = end
            uow.commit()
        logger.info("guarantee fees on %s: %d periods collected", as_of, len(collected))
        return collected

    # -- claims ------------------------------------------------------------------------

    def raise_claim(self, *, loan_id: str, on: date, actor: str) -> Claim:
        """Claim the covered share from the agency once the loan reached its trigger.

        Refused with ``claim_not_triggered`` before; a second claim on a loan returns the
        first when it was raised on the same day, and is refused otherwise.
        """
        with self._units() as uow:
            cover = _cover(uow, loan_id)
            existing = uow.guarantees.get_claim(loan_id, for_update=True)
            if existing is not None and existing.status not in CLOSED_CLAIMS:
                if existing.raised_on == on:
                    return existing
                raise ClaimExists(f"loan {loan_id} was claimed on {existing.raised_on}")
            claim = _raise(uow, cover, on=on, withdrawn=existing)
            record(
                uow,
                actor=actor,
                action="guarantee.claim_raised",
                entity="guarantee_claim",
                entity_id=claim.claim_id,
                payload=_claim_payload(claim),
            )
            uow.commit()
        return claim

    def pay_claim(self, *, loan_id: str, on: date, actor: str) -> Claim:
        """The agency paid the claim: cash in, the claim receivable cleared."""
        with self._units() as uow:
            claim = _claim(uow, loan_id)
            if claim.status == "withdrawn":
                raise ClaimNotPayable(
                    f"the claim on loan {loan_id} was withdrawn: the loan cured before payment"
                )
            if claim.status == "returned":
                raise ClaimNotPayable(
                    f"the claim on loan {loan_id} was paid on {claim.paid_on} and its "
                    f"compensation returned on {claim.returned_on}: the loan cured"
                )
            if claim.status == "paid":
                if claim.paid_on == on:
                    return claim
                raise ClaimNotPayable(f"the claim on loan {loan_id} was paid on {claim.paid_on}")
            if on < claim.raised_on:
                raise InvalidDate(f"a claim is paid on or after it is raised ({claim.raised_on})")
            paid = replace(claim, status="paid", paid_on=on, version=claim.version + 1)
            if claim.claim_fen > 0:
                uow.ledger.post(
                    claim_paid_entry(f"guarantee:claim-paid:{loan_id}", claim.claim_fen, on)
                )
            uow.guarantees.save_claim(paid)
            record(
                uow,
                actor=actor,
                action="guarantee.claim_paid",
                entity="guarantee_claim",
                entity_id=claim.claim_id,
                payload=_claim_payload(paid),
            )
            uow.commit()
        return paid

    def claims(self, status: str | None = None) -> list[Claim]:
        if status not in {None, "raised", "paid", *CLOSED_CLAIMS}:
            raise InvalidInput(
                f"claim status {status!r} is not raised, paid, withdrawn or returned"
            )
        with self._units() as uow:
            return uow.guarantees.list_claims(status)

    def share_recovery(
        self, *, loan_id: str, amount_fen: int, on: date, idempotency_key: str, actor: str
    ) -> RecoveryRecord:
        """A recovery on a claimed loan (servicing posted the cash): the agency's share is
        set aside for it; the bank keeps the remainder."""
        key = check_key(idempotency_key)
        amount = require_positive(amount_fen, "recovery amount")
        entry_key = f"guarantee:recovery:{key}"
        with self._units() as uow:
            claim = _claim(uow, loan_id)
            stored = uow.guarantees.get_recovery(entry_key)
            if stored is not None:
                if stored.claim_id != claim.claim_id or stored.recovery_fen != amount:
                    raise IdempotencyConflict(f"key {key} was used for another recovery")
                return stored
            if claim.status != "paid" or claim.paid_on is None:
                raise ClaimNotPaid(f"the claim on loan {loan_id} is not paid")
            if on < claim.paid_on:
                raise InvalidDate("a recovery is shared on or after the claim's payment")
            agreement = _agreement(uow, claim.agreement_id)
            split = split_recovery(
                amount,
                agreement.coverage_share,
                claim_fen=claim.claim_fen,
                agency_recovered_fen=claim.agency_recovered_fen,
            )
            if split.agency_fen > 0:
                uow.ledger.post(recovery_shared_entry(entry_key, split.agency_fen, on))
            recovery = RecoveryRecord(
                entry_key=entry_key,
                claim_id=claim.claim_id,
                recovered_on=on,
                recovery_fen=amount,
                agency_fen=split.agency_fen,
                bank_fen=split.bank_fen,
            )
            uow.guarantees.add_recovery(recovery)
            uow.guarantees.save_claim(
                replace(
                    claim,
                    agency_recovered_fen=claim.agency_recovered_fen + split.agency_fen,
                    bank_recovered_fen=claim.bank_recovered_fen + split.bank_fen,
                    version=claim.version + 1,
                )
            )
            record(
                uow,
                actor=actor,
                action="guarantee.recovery_shared",
                entity="guarantee_claim",
                entity_id=claim.claim_id,
                payload={
                    "recovery_fen": amount,
                    "agency_fen": split.agency_fen,
                    "bank_fen": split.bank_fen,
                },
            )
            uow.commit()
        return recovery

    def run_claims(self, as_of: date) -> ClaimsRun:
        """The daily job: withdraw raised claims of loans that cured, raise claims on covered
        loans at their trigger, and turn paid claims of loans written off since into income.
        Running it twice changes nothing."""
        with self._units() as uow:
            withdrawn = [
                _job_done(uow, _withdraw(uow, claim, on=as_of), "guarantee.claim_withdrawn")
                for claim in uow.guarantees.raised_claims_cured()
            ]
            returned = [
                _job_done(uow, _return(uow, claim, on=as_of), "guarantee.compensation_returned")
                for claim in uow.guarantees.paid_claims_cured()
            ]
            raised = [
                _job_done(
                    uow,
                    _raise(
                        uow,
                        _cover(uow, loan_id),
                        on=as_of,
                        withdrawn=uow.guarantees.get_claim(loan_id, for_update=True),
                    ),
                    "guarantee.claim_raised",
                )
                for loan_id in uow.guarantees.triggered_without_claim(as_of)
            ]
            released = [
                _job_done(uow, _release(uow, claim, on=as_of), "guarantee.compensation_released")
                for claim in uow.guarantees.paid_claims_to_release()
            ]
            uow.commit()
        logger.info(
            "guarantee claims on %s: %d raised, %d released, %d withdrawn, %d returned",
            as_of,
            len(raised),
            len(released),
            len(withdrawn),
            len(returned),
        )
        return ClaimsRun(
            as_of=as_of,
            raised=tuple(raised),
            released=tuple(released),
            withdrawn=tuple(withdrawn),
            returned=tuple(returned),
        )

    def remit(self, *, agency_id: str, on: date, idempotency_key: str, actor: str) -> Remittance:
        """Pay on to the agency the fees collected for it and its recovery shares not paid
        yet (up to ``on``): Dr 2250 / Cr 1002 and Dr 2252 / Cr 1002. The same key returns the
        first remittance."""
        key = f"guarantee:remit:{check_key(idempotency_key)}"
        with self._units() as uow:
            if uow.guarantees.get_agency(agency_id) is None:
                raise AgencyNotFound(f"no guarantee agency {agency_id}")
            done = uow.guarantees.remitted(key)
            if done is None:
                done = uow.guarantees.mark_remitted(agency_id, key, on)
                fees, shares = done
                if fees > 0:
                    uow.ledger.post(fee_remitted_entry(f"{key}:fees", fees, on))
                if shares > 0:
                    uow.ledger.post(recovery_remitted_entry(f"{key}:recoveries", shares, on))
                record(
                    uow,
                    actor=actor,
                    action="guarantee.remitted",
                    entity="guarantee_agency",
                    entity_id=agency_id,
                    payload={"fees_fen": fees, "recoveries_fen": shares, "on": on.isoformat()},
                )
                uow.commit()
        return Remittance(
            agency_id=agency_id, remitted_on=on, fees_fen=done[0], recoveries_fen=done[1]
        )

    # -- reports -----------------------------------------------------------------------

    def exposure(self) -> list[ExposureRow]:
        with self._units() as uow:
            return uow.guarantees.exposure()

    def coverage_for_product(self, product_id: str, on: date) -> Decimal:
        """The coverage share an applicant for ``product_id`` would get on ``on`` (0 if none):
        the strategy's ``guarantee_coverage`` input."""
        with self._units() as uow:
            shares = [
                a.coverage_share
                for a in uow.guarantees.list_agreements()
                if a.in_force(on) and a.product_id in {None, product_id}
            ]
        return max(shares, default=Decimal(0))

    def coverage_for_channel(self, channel: str, on: date) -> Decimal | None:
        """The coverage share of the agreements in force on ``on`` that name ``channel`` (the
        highest), or None when none does: the strategy's ``guarantee_coverage`` input for an
        application through that channel (docs/guarantees.md)."""
        with self._readers() as uow:
            shares = [
                a.coverage_share
                for a in uow.guarantees.agreements_for_channel(channel)
                if a.in_force(on)
            ]
        return max(shares, default=None)


def _collect_fee(
    uow: GuaranteeUnitOfWork,
    agreement: Agreement,
    *,
    loan_id: str,
    principal_fen: int,
    period_from: date,
    period_to: date,
    on: date,
) -> FeeRecord:
    days = (period_to - period_from).days
    amount = fee_fen(principal_fen, agreement.fee_rate, days)
    key = f"guarantee:fee:{loan_id}:{period_from.isoformat()}"
    if amount > 0:
        # Due to the agency, then collected online from the borrower: two entries.
        uow.ledger.post(fee_due_entry(f"{key}:due", amount, on))
        uow.ledger.post(fee_collected_entry(f"{key}:collected", amount, on))
    fee = FeeRecord(
        entry_key=key,
        loan_id=loan_id,
        period_from=period_from,
        period_to=period_to,
        principal_fen=principal_fen,
        amount_fen=amount,
        collected_on=on,
    )
    uow.guarantees.add_fee(fee)
    return fee


def _raise(
    uow: GuaranteeUnitOfWork, cover: Cover, *, on: date, withdrawn: Claim | None = None
) -> Claim:
    """Raise the claim; ``withdrawn``: the loan's earlier claim, withdrawn when it cured, is
    raised again in its row (one claim row per loan) under a new ledger key."""
    agreement = _agreement(uow, cover.agreement_id, for_update=True)
    loan = _loan(uow, cover.loan_id)
    if loan.days_past_due < agreement.claim_trigger_days or loan.written_off:
        raise ClaimNotTriggered(
            f"loan {loan.loan_id} is {loan.days_past_due} days past due; the claim "
            f"trigger is {agreement.claim_trigger_days}",
            details={
                "days_past_due": loan.days_past_due,
                "trigger_days": agreement.claim_trigger_days,
            },
        )
    totals = uow.guarantees.totals(agreement.agreement_id)
    borrower_claimed = uow.guarantees.borrower_claimed_fen(
        agreement.agreement_id, cover.enterprise_id
    )
    amount = claim_amount(
        coverage_share=agreement.coverage_share,
        outstanding_principal_fen=loan.outstanding_principal_fen,
        interest_owed_fen=loan.interest_owed_fen,
        borrower_room_fen=agreement.borrower_cap_fen - borrower_claimed,
        portfolio_room_fen=agreement.portfolio_cap_fen - totals.claimed_fen,
    )
    claim = Claim(
        claim_id=new_id("gcl") if withdrawn is None else withdrawn.claim_id,
        loan_id=loan.loan_id,
        agreement_id=agreement.agreement_id,
        status="raised",
        raised_on=on,
        days_past_due=loan.days_past_due,
        principal_fen=amount.covered_principal_fen,
        interest_fen=amount.covered_interest_fen,
        claim_fen=amount.claim_fen,
        paid_on=None,
        released_on=None,
        returned_on=None,
        agency_recovered_fen=0,
        bank_recovered_fen=0,
        version=1 if withdrawn is None else withdrawn.version + 1,
    )
    key = f"guarantee:claim:{loan.loan_id}"
    if withdrawn is not None:
        key += f":{claim.version}"
    if claim.claim_fen > 0:
        uow.ledger.post(claim_raised_entry(key, claim.claim_fen, on))
    if withdrawn is None:
        uow.guarantees.add_claim(claim)
    else:
        uow.guarantees.save_claim(claim)
    uow.guarantees.save_totals(
        agreement.agreement_id,
        AgreementTotals(
            covered_fen=totals.covered_fen, claimed_fen=totals.claimed_fen + claim.claim_fen
        ),
    )
    return claim


def _withdraw(uow: GuaranteeUnitOfWork, claim: Claim, *, on: date) -> Claim:
    """Reverse a raised claim whose loan cured: Dr compensation held / Cr claim receivable."""
    if claim.claim_fen > 0:
        key = f"guarantee:claim-withdrawn:{claim.loan_id}:{claim.version}"
        uow.ledger.post(claim_withdrawn_entry(key, claim.claim_fen, on))
    done = replace(claim, status="withdrawn", version=claim.version + 1)
    uow.guarantees.save_claim(done)
    totals = uow.guarantees.totals(claim.agreement_id)
    uow.guarantees.save_totals(
        claim.agreement_id, replace(totals, claimed_fen=totals.claimed_fen - claim.claim_fen)
    )
    return done


def _release(uow: GuaranteeUnitOfWork, claim: Claim, *, on: date) -> Claim:
    """The loan of a paid claim was written off: the compensation held becomes income."""
    if claim.claim_fen > 0:
        uow.ledger.post(
            compensation_released_entry(f"guarantee:released:{claim.loan_id}", claim.claim_fen, on)
        )
    done = replace(claim, released_on=on, version=claim.version + 1)
    uow.guarantees.save_claim(done)
    return done


def _job_done(uow: GuaranteeUnitOfWork, claim: Claim, action: str) -> Claim:
    """Audit what the daily claims job did to ``claim`` (its state after)."""
    record(
        uow,
        actor=CLAIMS_JOB_ACTOR,
        action=action,
        entity="guarantee_claim",
        entity_id=claim.claim_id,
        payload=_claim_payload(claim),
    )
    return claim


def _return(uow: GuaranteeUnitOfWork, claim: Claim, *, on: date) -> Claim:
    """Hand back the compensation of a paid claim whose loan cured before any write-off: the
    bank has its loan whole again. What the agency already got back as recovery shares counts
    towards it (ADR 0039)."""
    if claim.claim_fen > 0:
        key = f"guarantee:compensation-returned:{claim.loan_id}:{claim.version}"
        uow.ledger.post(
            compensation_returned_entry(key, claim.claim_fen, claim.agency_recovered_fen, on)
        )
    done = replace(claim, status="returned", returned_on=on, version=claim.version + 1)
    uow.guarantees.save_claim(done)
    totals = uow.guarantees.totals(claim.agreement_id)
    uow.guarantees.save_totals(
        claim.agreement_id, replace(totals, claimed_fen=totals.claimed_fen - claim.claim_fen)
    )
    return done


def _agreement(
    uow: GuaranteeUnitOfWork, agreement_id: str, *, for_update: bool = False
) -> Agreement:
    agreement = uow.guarantees.get_agreement(agreement_id, for_update=for_update)
    if agreement is None:
        raise AgreementNotFound(f"no guarantee agreement {agreement_id}")
    return agreement


def _loan(uow: GuaranteeUnitOfWork, loan_id: str) -> LoanFacts:
    loan = uow.guarantees.loan(loan_id)
    if loan is None:
        raise LoanNotFound(f"no loan {loan_id}")
    return loan


def _cover(uow: GuaranteeUnitOfWork, loan_id: str) -> Cover:
    cover = uow.guarantees.get_cover(loan_id)
    if cover is None:
        raise CoverNotFound(f"loan {loan_id} is not covered by a guarantee agreement")
    return cover


def _claim(uow: GuaranteeUnitOfWork, loan_id: str) -> Claim:
    # Locked: a payment and recoveries of the same claim are applied one after the other, so
    # the agency's recovered total is never read stale (it may not pass the claim).
    claim = uow.guarantees.get_claim(loan_id, for_update=True)
    if claim is None:
        raise ClaimNotFound(f"no claim on loan {loan_id}")
    return claim


def _terms_of(agreement: Agreement) -> dict[str, object]:
    terms = _agreement_payload(agreement)
    terms["coverage_share"] = agreement.coverage_share
    terms["fee_rate"] = agreement.fee_rate
    return terms


def _agreement_payload(agreement: Agreement) -> dict[str, object]:
    return {
        "agency_id": agreement.agency_id,
        "product_id": agreement.product_id,
        "channel": agreement.channel,
        "coverage_share": str(agreement.coverage_share),
        "fee_rate": str(agreement.fee_rate),
        "fee_mode": agreement.fee_mode.value,
        "borrower_cap_fen": agreement.borrower_cap_fen,
        "portfolio_cap_fen": agreement.portfolio_cap_fen,
        "claim_trigger_days": agreement.claim_trigger_days,
        "valid_from": agreement.valid_from.isoformat(),
        "valid_to": agreement.valid_to.isoformat(),
        "counter_guarantee_waived": agreement.counter_guarantee_waived,
    }


def _claim_payload(claim: Claim) -> dict[str, object]:
    return {
        "loan_id": claim.loan_id,
        "status": claim.status,
        "claim_fen": claim.claim_fen,
        "days_past_due": claim.days_past_due,
        **({} if claim.returned_on is None else {"returned_on": claim.returned_on.isoformat()}),
    }
