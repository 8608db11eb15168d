"""Assessment: pull the consented data, screen for fraud, decide, record the evidence."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from puhui.domain.audit import AuditRecord
from puhui.domain.errors import Conflict, InvalidInput
from puhui.domain.origination import fraud
from puhui.domain.origination.application import Application, ApplicationStatus
from puhui.domain.origination.assessment import Assessment, Outcome
from puhui.domain.origination.consent import Consent, DataScope
from puhui.domain.origination.decision_record import DecisionRecord
from puhui.domain.origination.errors import (
    ApplicationChanged,
    ConsentRequired,
)
from puhui.domain.origination.offer import Offer
from puhui.domain.origination.reasons import Reason
from puhui.services import audit
from puhui.services.origination.context import (
    ApplicationView,
    Origination,
    load_visible,
    make_offer,
    transition_record,
    view_of,
)
from puhui.services.origination.graph_check import GraphScreening, check_graph
from puhui.services.origination.green_input import recorded_green
from puhui.services.origination.ports import (
    AssessmentRequest,
    EarlierApplication,
    OriginationUnitOfWork,
    VelocityField,
)
from puhui.services.security.permissions import Permission, Principal, require


def _pull(
    origination: Origination, consents: Iterable[Consent], uscc: str
) -> dict[DataScope, Mapping[str, Any]]:
    now = origination.clock.now()
    allowed = {s for c in consents if c.is_active(now) for s in c.scopes}
    if not allowed:
        raise ConsentRequired("no active consent covers a data pull for this application")
    today = origination.clock.today()
    return {
        scope: origination.data_source.pull(uscc, scope, as_of=today)
        for scope in sorted(allowed, key=lambda s: s.value)
    }


def _fraud_facts(
    origination: Origination,
    uow: OriginationUnitOfWork,
    application: Application,
    data: Mapping[DataScope, Mapping[str, Any]],
    policy: fraud.FraudPolicy,
) -> fraud.FraudFacts:
    """The facts ``policy``'s rules read (its window; counts up to its ``count_cap``)."""
    applicant = application.applicant
    since = origination.clock.now() - timedelta(days=policy.velocity_window_days)
    registration = data.get(DataScope.REGISTRATION, {})
    court = data.get(DataScope.COURT, {})
    legal_rep = registration.get("legal_representative_id_number")
    registered = registration.get("registered_on")
    identifiers: dict[VelocityField, str | None] = {
        "phone": applicant.phone,
        "device_id": applicant.device_id,
        "ip_address": applicant.ip_address,
        "address": applicant.address,
    }
    counts = uow.applications.screening_counts(
        velocity={k: v for k, v in identifiers.items() if v is not None},
        phone=applicant.phone,
        id_number=applicant.id_number,
        since=since,
        uscc=applicant.uscc,
        up_to=policy.count_cap,
    )
    lists = counts.lists
    if lists is None:
        lists = uow.fraud_lists.lists_naming(uscc=applicant.uscc, id_number=applicant.id_number)
    velocity = counts.applications_by

    return fraud.FraudFacts(
        as_of=origination.clock.today(),
        legal_representative_matches=None
        if legal_rep is None
        else legal_rep == applicant.id_number,
        on_internal_blacklist="blacklist" in lists,
        on_executed_person_list=bool(court.get("executed_person")) or "executed_person" in lists,
        applications_by_phone=velocity.get("phone", 0),
        applications_by_device=velocity.get("device_id", 0),
        applications_by_ip=velocity.get("ip_address", 0),
        applications_by_address=velocity.get("address", 0),
        enterprises_sharing_phone=counts.enterprises_sharing_phone,
        enterprises_sharing_id_number=counts.enterprises_sharing_id_number,
        registered_on=registered
        if isinstance(registered, date)
        else (date.fromisoformat(registered) if isinstance(registered, str) else None),
        requested_amount_fen=application.requested_amount_fen,
    )


def channel_of(application: Application) -> str:
    """How an application came in: a partner's key, an account manager, or the owner's phone.

    The names are the market's (``partner``, ``branch``, ``qr``: a scanned QR code opens the
    H5 application on the owner's phone), so models trained on it read them alike.
    """
    if application.partner_id is not None:
        return "partner"
    if application.account_manager_id is not None:
        return "branch"
    return "qr"


def decision_record(
    application_id: str, decided_at: datetime, assessment: Assessment, hits: tuple[Reason, ...]
) -> DecisionRecord:
    """The stored record of an automatic assessment (after the anti-fraud policy)."""
    if assessment.evidence is None:
        raise InvalidInput("only an assessment with its evidence can be recorded")
    return DecisionRecord(
        application_id=application_id,
        decided_at=decided_at,
        evidence=assessment.evidence,
        outcome=assessment.outcome.value,
        reasons=assessment.reasons,
        grade=assessment.grade,
        limit_fen=assessment.limit_fen,
        annual_rate=None if assessment.annual_rate is None else str(assessment.annual_rate),
        term_months=assessment.term_months,
        pd=None if assessment.pd is None else str(assessment.pd),
        score=assessment.score,
        fraud_hits=tuple(h.code for h in hits),
        trace=assessment.trace,
    )


_OUTCOME_STATUS = {
    Outcome.APPROVE: ApplicationStatus.OFFERED,
    Outcome.DECLINE: ApplicationStatus.DECLINED,
    Outcome.REFER: ApplicationStatus.REFERRED,
}


def assess_application(
    origination: Origination, *, actor: Principal, application_id: str
) -> ApplicationView:
    """Step 3: pull consented data, screen for fraud, ask the decision engine, record it.

    Asking again after a decision returns that decision: assessment happens once. On SQLite
    the data pull, the screening and the decision run on a read-only snapshot, outside any
    write transaction (they are the slow part, and SQLite admits one writer at a time); the
    outcome is then written only if the application has not moved meanwhile. On PostgreSQL
    (``decide_in_one_transaction``) it all happens in one transaction, with the same check
    made by the versioned update itself: one transaction instead of two, and the application
    read once.
    """
    require(actor, Permission.APPLICATION_ASSESS)
    if origination.decide_in_one_transaction:
        return _assess_in_one_transaction(origination, actor, application_id)
    with origination.reading() as uow:
        gathered = _gather(origination, uow, actor, application_id)
        if isinstance(gathered, ApplicationView):
            return gathered
    decided = _decided(origination, actor, gathered, _assess(origination, gathered))
    # The writer lock is held from here to the commit: only the writes happen inside. The
    # versioned update is the check that the application has not moved since the snapshot.
    with origination.uow_factory() as uow:
        view = _record(uow, gathered, decided)
        if view is None:
            uow.rollback()
            return _changed(uow, actor, application_id)
        uow.commit()
    return view


def _assess_in_one_transaction(
    origination: Origination, actor: Principal, application_id: str
) -> ApplicationView:
    with origination.uow_factory() as uow:
        gathered = _gather(origination, uow, actor, application_id)
        if isinstance(gathered, ApplicationView):
            return gathered
        decided = _decided(origination, actor, gathered, _assess(origination, gathered))
        view = _record(uow, gathered, decided)
        if view is None:
            # Nothing was written: the versioned update comes first and matched no row.
            uow.rollback()
            return _changed(uow, actor, application_id)
        uow.commit()
    return view


@dataclass(frozen=True, slots=True)
class _Gathered:
    """What an assessment reads before it decides."""

    application: Application
    consents: tuple[Consent, ...]
    data: Mapping[DataScope, Mapping[str, Any]]
    hits: tuple[Reason, ...]
    """Both layers' hits: the first layer's rules, then the graph's."""
    earlier: tuple[Application, ...]
    graph: GraphScreening


def _gather(
    origination: Origination, uow: OriginationUnitOfWork, actor: Principal, application_id: str
) -> _Gathered | ApplicationView:
    """The application, its consents, the pulled data and the fraud screening; or, when it
    was decided already, that decision's view."""
    application = load_visible(uow, actor, application_id)
    if application.status is not ApplicationStatus.CONSENTED:
        if application.assessment is not None:
            return view_of(uow, application)
        raise ConsentRequired(
            f"an application that is {application.status.value} cannot be assessed; "
            "the owner must consent first",
            details={"status": application.status.value},
        )
    consents = tuple(uow.consents.for_application(application_id))
    data = _pull(origination, consents, application.applicant.uscc)
    policy = origination.fraud_policy  # read once: the counts stop at its cap
    hits = fraud.screen(_fraud_facts(origination, uow, application, data, policy), policy)
    graph = check_graph(origination, uow, application)
    earlier = uow.applications.earlier_of_enterprise(
        application.applicant.uscc, before=application.created_at
    )
    return _Gathered(application, consents, data, hits + graph.hits, tuple(earlier), graph)


def _assess(origination: Origination, gathered: _Gathered) -> Assessment:
    application = gathered.application
    raw = origination.assessor.assess(
        AssessmentRequest(
            application_id=application.application_id,
            uscc=application.applicant.uscc,
            requested_amount_fen=application.requested_amount_fen,
            as_of=origination.clock.today(),
            data=gathered.data,
            fraud_hits=gathered.hits,
            requested_term_months=application.requested_term_months,
            channel=channel_of(application),
            application_channel=None if application.channel is None else application.channel.value,
            partner_score=application.partner_score,
            earlier_applications=tuple(
                EarlierApplication(
                    application_date=a.created_at.date(),
                    channel=channel_of(a),
                    requested_amount_fen=a.requested_amount_fen,
                    requested_term_months=a.requested_term_months,
                )
                for a in gathered.earlier
            ),
            graph_inputs=gathered.graph.inputs,
        )
    )
    screened = fraud.apply_policy(raw, gathered.hits)
    return replace(screened, trace={**screened.trace, "graph": gathered.graph.trace})


def _changed(uow: OriginationUnitOfWork, actor: Principal, application_id: str) -> ApplicationView:
    """The application moved during its assessment: its decision if another request made
    one (it stands), else ``ApplicationChanged`` (a revoked consent: nothing may be recorded
    from this pull)."""
    current = load_visible(uow, actor, application_id)
    if current.assessment is not None:
        return view_of(uow, current)
    raise ApplicationChanged(
        f"the application changed during its assessment and is now "
        f"{current.status.value}; ask again",
        details={"status": current.status.value},
    )


@dataclass(frozen=True, slots=True)
class _Decided:
    """What recording an assessment writes, made before the write transaction begins."""

    final: Application
    audit: list[AuditRecord]
    record: DecisionRecord | None
    offer: Offer | None


def _decided(
    origination: Origination, actor: Principal, gathered: _Gathered, assessment: Assessment
) -> _Decided:
    """The application's final state, its audit records, the stored decision and the offer."""
    application, data, hits = gathered.application, gathered.data, gathered.hits
    now = origination.clock.now()
    target = _OUTCOME_STATUS[assessment.outcome]
    assessed = application.moved_to(ApplicationStatus.ASSESSED, at=now)
    green_label, green_category = recorded_green(assessment.evidence)
    final = replace(
        assessed.moved_to(target, at=now),
        assessment=assessment,
        green_label=green_label,
        green_category=green_category,
    )
    records = [
        transition_record(
            actor,
            application,
            ApplicationStatus.ASSESSED,
            {"scopes_pulled": sorted(s.value for s in data)},
        ),
        transition_record(
            actor,
            assessed,
            target,
            {
                "outcome": assessment.outcome.value,
                "reasons": list(assessment.reasons),
                "grade": assessment.grade,
                "limit_fen": assessment.limit_fen,
            },
        ),
    ]
    record = (
        None
        if assessment.evidence is None
        else decision_record(application.application_id, now, assessment, hits)
    )
    offer = (
        make_offer(origination, final, assessment)
        if assessment.outcome is Outcome.APPROVE
        else None
    )
    return _Decided(final, records, record, offer)


def _record(
    uow: OriginationUnitOfWork, gathered: _Gathered, decided: _Decided
) -> ApplicationView | None:
    """Write the outcome: the application first (None, and nothing written, if it moved
    since it was read), then the audit trail, the decision record and the offer. The caller
    commits."""
    # Two transitions, one row write: the intermediate state is recorded in the audit
    # trail, and nobody can observe it in the table mid-transaction anyway.
    try:
        uow.applications.update(decided.final, previous=gathered.application)
    except Conflict:
        return None
    audit.record_all(uow, decided.audit)
    if decided.record is not None:
        uow.decisions.add(decided.record)
    if decided.offer is not None:
        uow.offers.add(decided.offer)
    return ApplicationView(decided.final, gathered.consents, decided.offer, None)
