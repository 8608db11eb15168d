"""Anti-fraud, first layer: rules over facts the service gathered, each hit a reason code."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from puhui.domain.origination.assessment import Assessment, Outcome
from puhui.domain.origination.reasons import (
    CONTAGION,
    EXECUTED_PERSON,
    FRAUD_RING,
    GUARANTEE_CIRCLE_STRESS,
    IDENTITY_MISMATCH,
    INTERNAL_BLACKLIST,
    INVOICE_ROUND_TRIP,
    NEW_REGISTRATION_LARGE_REQUEST,
    PACKAGED_APPLICATION,
    SHARED_IDENTIFIER,
    VELOCITY_ADDRESS,
    VELOCITY_DEVICE,
    VELOCITY_IP,
    VELOCITY_PHONE,
    Reason,
    Severity,
)


@dataclass(frozen=True, slots=True)
class FraudPolicy:
    """Thresholds of the first layer; a strategy version may override them."""

    velocity_window_days: int = 30
    max_applications_per_phone: int = 3
    max_applications_per_device: int = 3
    max_applications_per_ip: int = 10
    max_applications_per_address: int = 5
    max_enterprises_per_identifier: int = 2
    new_registration_days: int = 180
    new_registration_large_request_fen: int = 50_000_000  # 500,000 yuan

    @property
    def count_cap(self) -> int:
        """How far the screening needs to count: one past the highest count threshold.

        Every count rule asks "more than N?", so a count that stops at ``count_cap`` decides
        each of them as the full count would, and reading stops there: a branch's network
        address or a carrier's NAT shared by thousands of applications costs no more than a
        household's.
        """
        return 1 + max(
            self.max_applications_per_phone,
            self.max_applications_per_device,
            self.max_applications_per_ip,
            self.max_applications_per_address,
            self.max_enterprises_per_identifier,
        )


@dataclass(frozen=True, slots=True)
class FraudFacts:
    """Everything the rules look at, gathered for one application at one instant.

    Velocity counts include the application being assessed; they and the sharing counts may
    stop at the policy's ``count_cap`` (a count at the cap means "at least that many").
    ``legal_representative_matches`` is ``None`` when registration data was not available (the
    rule then cannot fire).
    """

    as_of: date
    legal_representative_matches: bool | None
    on_internal_blacklist: bool
    on_executed_person_list: bool
    applications_by_phone: int
    applications_by_device: int
    applications_by_ip: int
    applications_by_address: int
    enterprises_sharing_phone: int
    enterprises_sharing_id_number: int
    registered_on: date | None
    requested_amount_fen: int | None


def screen(facts: FraudFacts, policy: FraudPolicy | None = None) -> tuple[Reason, ...]:
    """The reasons that fire, in catalogue order."""
    p = policy or FraudPolicy()
    hits: list[Reason] = []
    if facts.legal_representative_matches is False:
        hits.append(IDENTITY_MISMATCH)
    if facts.on_internal_blacklist:
        hits.append(INTERNAL_BLACKLIST)
    if facts.on_executed_person_list:
        hits.append(EXECUTED_PERSON)
    if facts.applications_by_phone > p.max_applications_per_phone:
        hits.append(VELOCITY_PHONE)
    if facts.applications_by_device > p.max_applications_per_device:
        hits.append(VELOCITY_DEVICE)
    if facts.applications_by_ip > p.max_applications_per_ip:
        hits.append(VELOCITY_IP)
    if facts.applications_by_address > p.max_applications_per_address:
        hits.append(VELOCITY_ADDRESS)
    if (
        max(facts.enterprises_sharing_phone, facts.enterprises_sharing_id_number)
        > p.max_enterprises_per_identifier
    ):
        hits.append(SHARED_IDENTIFIER)
    if (
        facts.registered_on is not None
        and facts.requested_amount_fen is not None
        and (facts.as_of - facts.registered_on).days < p.new_registration_days
        and facts.requested_amount_fen >= p.new_registration_large_request_fen
    ):
        hits.append(NEW_REGISTRATION_LARGE_REQUEST)
    return tuple(hits)


@dataclass(frozen=True, slots=True)
class GraphPolicy:
    """Thresholds of the second layer, the relationship graph (AF10-AF14).

    Scores are the batch build's (0..1); counts are the online check's, which adds the
    applications made since the snapshot to the snapshot's identifier maps.
    """

    min_ring_score: float = 0.5
    """A reported ring at or above this score knocks out its members and anyone tied to it."""
    packaging_window_days: int = 365
    """How recent another enterprise's application through the same identifier must be
    (an intermediary serves a client every few months: a quarter missed most of them on the
    synthetic market, a year did not flag more genuine applications)."""
    min_packaging_enterprises: int = 2
    """Unrelated enterprises (another legal representative) whose recent applications used
    this application's device, network, phone or address, from which it is referred."""
    min_packaging_score: float = 0.7
    min_inflation_score: float = 0.7
    """The enterprise's data freshly inflated as of the snapshot (pumped settlement inflow,
    paid out to related parties, enquiries piling up), at or above which: refer. It catches
    packaged firms whose intermediary applied from the client's own device and network."""
    max_round_trip_ratio: float = 0.3
    """Share of 12 months' sales that came back through invoice cycles, above which: refer."""
    min_circle_members_distressed: int = 1
    max_contagion_score: float = 0.9
    """Contagion at or above it refers: 0.5 referred 11% of genuine applicants on the
    synthetic market (9% of enterprises score that high), 0.9 the top few per cent."""


@dataclass(frozen=True, slots=True)
class GraphFacts:
    """What the relationship graph says of one application at the instant it is checked.

    ``None`` stands for "the graph does not know" (the enterprise is not in the snapshot):
    a rule on it cannot fire.
    """

    ring_id: str | None
    ring_score: float | None
    tied_rings: tuple[str, ...]
    """Rings (at or above the policy's score) of other enterprises sharing an identifier."""
    packaging_enterprises: int
    packaging_score: float | None
    invoice_round_trip_ratio: float | None
    guarantee_circle: str | None
    circle_members_distressed: int
    guarantors_in_distress: int
    contagion_score: float | None
    inflation_score: float | None = None
    """The snapshot's enterprise-level "inflated now" score; ``None`` for older snapshots."""


def screen_graph(facts: GraphFacts, policy: GraphPolicy | None = None) -> tuple[Reason, ...]:
    """The graph reasons that fire, in catalogue order."""
    p = policy or GraphPolicy()
    hits: list[Reason] = []
    own_ring = facts.ring_id is not None and (facts.ring_score or 0.0) >= p.min_ring_score
    if own_ring or facts.tied_rings:
        hits.append(FRAUD_RING)
    if (
        facts.packaging_enterprises >= p.min_packaging_enterprises
        or (facts.packaging_score is not None and facts.packaging_score >= p.min_packaging_score)
        or (facts.inflation_score is not None and facts.inflation_score >= p.min_inflation_score)
    ):
        hits.append(PACKAGED_APPLICATION)
    if (
        facts.invoice_round_trip_ratio is not None
        and facts.invoice_round_trip_ratio >= p.max_round_trip_ratio
    ):
        hits.append(INVOICE_ROUND_TRIP)
    if facts.guarantee_circle is not None and (
        max(facts.circle_members_distressed, facts.guarantors_in_distress)
        >= p.min_circle_members_distressed
    ):
        hits.append(GUARANTEE_CIRCLE_STRESS)
    if facts.contagion_score is not None and facts.contagion_score >= p.max_contagion_score:
        hits.append(CONTAGION)
    return tuple(hits)


def worst_severity(hits: tuple[Reason, ...]) -> Severity | None:
    if any(h.severity is Severity.KNOCKOUT for h in hits):
        return Severity.KNOCKOUT
    if any(h.severity is Severity.REFER for h in hits):
        return Severity.REFER
    return None


def apply_policy(assessment: Assessment, hits: tuple[Reason, ...]) -> Assessment:
    """Layer 1 is policy, not a score: a knockout declines, a suspicion goes to a human.

    The hits' codes lead the assessment's reasons and are noted in its trace; the evidence of
    the automatic decision is kept as it was.
    """
    codes = tuple(h.code for h in hits)
    trace = {**assessment.trace, "anti_fraud": list(codes)}
    reasons = codes + tuple(r for r in assessment.reasons if r not in codes)
    severity = worst_severity(hits)
    if severity is Severity.KNOCKOUT:
        return Assessment(
            outcome=Outcome.DECLINE,
            reasons=reasons,
            grade=assessment.grade,
            pd=assessment.pd,
            score=assessment.score,
            trace=trace,
            evidence=assessment.evidence,
        )
    if severity is Severity.REFER and assessment.outcome is Outcome.APPROVE:
        return replace(assessment, outcome=Outcome.REFER, reasons=reasons, trace=trace)
    return replace(assessment, reasons=reasons, trace=trace)
