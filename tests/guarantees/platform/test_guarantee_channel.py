"""Online assessment reads a guarantee agreement's coverage for the application's channel:
an application through the covered channel is decided with ``guarantee_coverage``, one
through another channel without it (docs/guarantees.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.guarantees.platform.conftest import AGENCY_USCC, terms

from puhui.adapters.db.guarantees.tables import guarantee_agreements
from puhui.adapters.sources.market import MarketDataSource
from puhui.bootstrap import Platform
from puhui.decision.strategy import load_shipped_strategy
from puhui.domain.guarantees.errors import InvalidAgreement
from puhui.domain.origination.assessment import Outcome
from puhui.domain.origination.consent import DataScope
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.risk.features import MarketTables, compute_features
from puhui.risk.scorer import Assessment as RiskAssessment
from puhui.services.guarantees.use_cases import GuaranteeService
from puhui.services.origination.assessment import StrategyAssessor
from puhui.services.origination.governance import FixedSetup, LiveModel, LiveSetup, LiveStrategy
from puhui.services.origination.ports import AssessmentRequest

APPLIED_ON = date(2025, 4, 9)


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("market")
    generate_market(MarketParams(enterprises=60, months=18, start=date(2024, 1, 1), seed=5), out)
    return out


class _GradeB:
    feature_names = ("sales_12m_log",)

    def assess(self, features: Any, *, with_reasons: bool = True) -> RiskAssessment:
        return RiskAssessment(pd=0.01, score=700.0, grade="B", reasons=())


def _assessor(guarantees: GuaranteeService) -> StrategyAssessor:
    compiled = load_shipped_strategy("mse-online-credit")
    strategy = LiveStrategy("mse-online-credit", 1, compiled.content_hash, compiled)
    model = LiveModel("mse_pd", "m1", "gbm", _GradeB())
    return StrategyAssessor(FixedSetup(LiveSetup(strategy, None, model)), guarantees=guarantees)


def _request(market: Path, uscc: str, channel: str) -> AssessmentRequest:
    source = MarketDataSource(market)
    return AssessmentRequest(
        application_id=f"app_{channel}",
        uscc=uscc,
        requested_amount_fen=150_000_000,
        as_of=APPLIED_ON,
        data={scope: source.pull(uscc, scope, as_of=APPLIED_ON) for scope in DataScope},
        fraud_hits=(),
        channel=channel,
    )


def _read_coverage(trace: dict[str, Any]) -> list[Any]:
    return [
        step["read"]["guarantee_coverage"]
        for step in trace["steps"]
        if "guarantee_coverage" in step["read"]
    ]


def test_an_application_through_a_covered_channel_is_decided_with_the_coverage(
    service: GuaranteeService, market: Path
) -> None:
    agency = service.create_agency(name="国家融资担保基金", uscc=AGENCY_USCC, actor="risk")
    service.create_agreement(
        terms(
            agency.agency_id,
            coverage_share=Decimal("0.8"),
            valid_from=date(2025, 1, 1),
            valid_to=date(2025, 12, 31),
            channel="partner",
        ),
        actor="risk",
    )
    assessor = _assessor(service)
    # An applicant no knockout stops, so that the decision reaches the referral rules.
    usccs = compute_features(MarketTables.from_dir(market), date(2025, 4, 1))["uscc"]
    uscc = next(
        u
        for u in usccs
        if assessor.assess(_request(market, u, "branch")).outcome is not Outcome.DECLINE
    )

    covered = assessor.assess(_request(market, uscc, "partner"))
    assert covered.evidence is not None
    assert covered.evidence.inputs["guarantee_coverage"] == 0.8
    # The large-exposure rules read the coverage: the trace shows the value they saw.
    assert _read_coverage(covered.trace)
    assert set(_read_coverage(covered.trace)) == {0.8}

    other = assessor.assess(_request(market, uscc, "branch"))
    assert other.evidence is not None
    assert "guarantee_coverage" not in other.evidence.inputs
    assert set(_read_coverage(other.trace)) <= {None}


def test_an_agreement_out_of_force_or_for_no_channel_gives_no_coverage(
    service: GuaranteeService,
) -> None:
    agency = service.create_agency(name="省再担保", uscc=AGENCY_USCC, actor="risk")
    service.create_agreement(terms(agency.agency_id, channel="partner"), actor="risk")
    service.create_agreement(terms(agency.agency_id, coverage_share=Decimal("0.5")), actor="risk")
    valid_from = terms(agency.agency_id).valid_from
    assert service.coverage_for_channel("partner", valid_from) is not None
    assert service.coverage_for_channel("branch", valid_from) is None
    before = date.fromordinal(valid_from.toordinal() - 1)
    assert service.coverage_for_channel("partner", before) is None


def test_the_coverage_read_neither_waits_for_a_writer_nor_sees_its_uncommitted_change(
    service: GuaranteeService, guarantee_platform: Platform
) -> None:
    """Every decision reads the coverage: in a read-only unit of work, so on SQLite it takes
    no write lock (a writer holding it would make every decision wait, or fail after the busy
    timeout) and reads the last committed agreement."""
    agency = service.create_agency(name="省再担保", uscc=AGENCY_USCC, actor="risk")
    agreement = service.create_agreement(
        terms(agency.agency_id, channel="partner", coverage_share=Decimal("0.5")), actor="risk"
    )
    with guarantee_platform.database.engine.connect() as writer:
        writer.begin()  # SQLite: BEGIN IMMEDIATE, the database's one write lock
        writer.execute(sa.update(guarantee_agreements).values(coverage_share=Decimal("0.9")))
        assert service.coverage_for_channel("partner", agreement.valid_from) == Decimal("0.5")
        writer.rollback()


def test_an_agreement_naming_an_unknown_channel_is_refused(service: GuaranteeService) -> None:
    agency = service.create_agency(name="省再担保", uscc=AGENCY_USCC, actor="risk")
    with pytest.raises(InvalidAgreement):
        service.create_agreement(terms(agency.agency_id, channel="carrier-pigeon"), actor="risk")
    assert service.coverage_for_channel("carrier-pigeon", date(2026, 3, 1)) is None
