"""Live decisions follow governance, are stored with their evidence and replay exactly."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

import pytest

from puhui.adapters.db.strategies.live import SqlLiveStampReader
from puhui.bootstrap import Platform
from puhui.bootstrap.wiring import strategy_input_schema
from puhui.decision.strategy import load_shipped_strategy, shipped_strategy_text
from puhui.domain.clock import FixedClock
from puhui.domain.errors import InvalidInput, NotFound
from puhui.domain.origination.assessment import Outcome
from puhui.domain.origination.decision_record import (
    CHALLENGER,
    CHAMPION,
    record_from_document,
    record_to_document,
)
from puhui.risk.registry import ModelStatus, RegistryEntry
from puhui.risk.scorer import Assessment as RiskAssessment
from puhui.services import strategies
from puhui.services.origination.assessment import StrategyAssessor, route
from puhui.services.origination.governance import (
    FixedSetup,
    LiveChallenger,
    LiveDecisioning,
    LiveModel,
    LiveSetup,
    LiveStrategy,
)
from puhui.services.origination.ports import AssessmentRequest
from puhui.services.origination.replay import replay_record
from puhui.services.origination.use_cases import decision_record
from puhui.services.strategies import ChallengerMode

NAME = "mse-online-credit"


class StubScorer:
    """A model that gives every applicant the same PD: enough for routing and replay."""

    def __init__(self, pd: float, feature_names: tuple[str, ...] = ("sales_12m_log",)) -> None:
        self.pd = pd
        self.feature_names = feature_names

    def assess(self, features: Any, *, with_reasons: bool = True) -> RiskAssessment:
        return RiskAssessment(pd=self.pd, score=700.0 - 1000 * self.pd, grade="B", reasons=())


@dataclass
class FakeModels:
    """A registry whose champion the test changes; ``stamp`` moves with every change."""

    champion_version: str | None = "model_a"
    stamp_value: int = 0
    loads: list[str] = field(default_factory=list)

    def promote(self, version: str) -> None:
        self.champion_version = version
        self.stamp_value += 1

    def stamp(self) -> object:
        return self.stamp_value

    def champion(self, name: str) -> RegistryEntry | None:
        if self.champion_version is None:
            return None
        return RegistryEntry(
            version=self.champion_version,
            name=name,
            kind="gbm",
            status=ModelStatus.CHAMPION,
            builder="b",
            registered_at="2026-01-01",
            data_hash="h",
            metrics={},
        )

    def load(self, version: str) -> Any:
        self.loads.append(version)
        return version


def _scorer_of(version: object) -> StubScorer:
    return StubScorer(0.01 if version == "model_a" else 0.2)


def _live(platform: Platform, models: FakeModels) -> LiveDecisioning:
    return LiveDecisioning(
        strategy_name=NAME,
        model_name="mse_pd",
        stamp=lambda name: strategies.live_stamp(platform.strategy_reader, name),
        load_version=lambda name, version: strategies.get_version(
            platform.strategy_reader, name, version
        ),
        models=models,
        make_scorer=_scorer_of,
    )


def _version_two(description: str = "second version") -> str:
    text = shipped_strategy_text(NAME)
    text = text.replace("\nversion: 1\n", "\nversion: 2\n", 1)
    return text.replace(
        'description: "小微企业线上信用贷默认策略 / Default online credit strategy for MSEs"',
        f'description: "{description}"',
        1,
    )


def _approve_two(platform: Platform, clock: FixedClock, text: str | None = None) -> None:
    uow = platform.strategy_uow
    strategies.create_draft(uow, text=text or _version_two(), actor="alice", clock=clock)
    strategies.submit(uow, NAME, 2, actor="alice", clock=clock)
    strategies.approve(uow, NAME, 2, actor="bob", clock=clock)


def test_a_fresh_database_decides_with_the_packaged_strategy_as_version_one(
    platform: Platform,
) -> None:
    platform.migrate()
    platform.migrate()  # seeding happens once
    versions = strategies.list_versions(platform.strategy_uow, NAME)
    assert [(v.version, v.status.value) for v in versions] == [(1, "active")]
    assert versions[0].document == shipped_strategy_text(NAME)
    live = _live(platform, FakeModels()).current()
    assert live.champion is not None
    assert live.champion.label == f"{NAME}@1"
    assert live.model is not None
    assert live.model.version == "model_a"


def test_activation_and_promotion_take_effect_for_the_next_application(
    platform: Platform, clock: FixedClock
) -> None:
    platform.migrate()
    models = FakeModels()
    live = _live(platform, models)
    first = live.current()
    assert first.champion is not None
    assert first.champion.version == 1
    assert live.current() is first  # nothing changed: nothing reloaded
    _approve_two(platform, clock)
    strategies.activate(platform.strategy_uow, NAME, 2, actor="carol", clock=clock)
    models.promote("model_b")
    second = live.current()
    assert second.champion is not None
    assert second.champion.version == 2
    assert second.model is not None
    assert second.model.version == "model_b"
    # Rollback is one activation away, and is seen as promptly.
    strategies.activate(platform.strategy_uow, NAME, 1, actor="carol", clock=clock)
    rolled = live.current().champion
    assert rolled is not None
    assert rolled.version == 1
    assert models.loads == ["model_a", "model_b"]


def test_a_version_that_cannot_be_loaded_leaves_the_last_good_one_deciding(
    platform: Platform, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    platform.migrate()
    good = _live(platform, FakeModels())
    assert good.current().champion is not None

    def broken_loader(name: str, version: int) -> strategies.StrategyVersion:
        if version == 2:
            raise NotFound("the stored document of version 2 cannot be read")
        return strategies.get_version(platform.strategy_reader, name, version)

    good._load_version = broken_loader
    _approve_two(platform, clock)
    strategies.activate(platform.strategy_uow, NAME, 2, actor="carol", clock=clock)
    with caplog.at_level(logging.ERROR):
        kept = good.current()
    assert kept.champion is not None
    assert kept.champion.version == 1
    assert "cannot load strategy" in caplog.text


def test_without_an_active_version_or_a_champion_nothing_decides_automatically(
    platform: Platform,
) -> None:
    platform.database.upgrade()  # migrated but not seeded
    setup = _live(platform, FakeModels(champion_version=None)).current()
    assert setup.champion is None
    assert setup.model is None


def test_activating_a_version_that_reads_unknown_inputs_is_refused_with_their_names(
    platform: Platform, clock: FixedClock
) -> None:
    platform.migrate()
    text = _version_two().replace(
        "inputs:\n",
        "inputs:\n  supplier_rating: {type: integer, required: true, description: new}\n",
        1,
    )
    _approve_two(platform, clock, text)
    with pytest.raises(strategies.StrategyDoesNotFit) as refused:
        strategies.activate(
            platform.strategy_uow,
            NAME,
            2,
            actor="carol",
            clock=clock,
            schema=strategy_input_schema(),
        )
    assert "supplier_rating" in refused.value.message
    assert refused.value.details["unknown_inputs"] == ["supplier_rating"]
    still = strategies.get_version(platform.strategy_uow, NAME, 2)
    assert still.status is strategies.StrategyStatus.APPROVED
    assert strategies.live_stamp(platform.strategy_uow, NAME).active_version == 1


def test_the_shipped_strategy_fits_the_platforms_inputs() -> None:
    assert strategy_input_schema().problems(load_shipped_strategy(NAME)) == {}


def test_the_one_statement_stamp_reads_what_the_repository_reads(
    platform: Platform, clock: FixedClock
) -> None:
    reader = SqlLiveStampReader(platform.database.engine)
    assert reader.read(NAME) == strategies.live_stamp(platform.strategy_uow, NAME)
    platform.migrate()
    _approve_two(platform, clock)
    strategies.start_challenger(
        platform.strategy_uow,
        NAME,
        2,
        mode=ChallengerMode.SHADOW,
        share_bp=0,
        actor="c",
        clock=clock,
    )
    fast = reader.read(NAME)
    assert fast == strategies.live_stamp(platform.strategy_uow, NAME)
    assert fast.active_version == 1
    assert fast.challenger is not None
    assert fast.challenger.mode is ChallengerMode.SHADOW
    assert reader.read("no-such-strategy") == strategies.LiveStamp(None, None, None)


def test_a_challenger_needs_an_approved_version_and_a_sane_share(
    platform: Platform, clock: FixedClock
) -> None:
    platform.migrate()
    uow = platform.strategy_uow
    strategies.create_draft(uow, text=_version_two(), actor="alice", clock=clock)
    with pytest.raises(strategies.StrategyStateConflict):
        strategies.start_challenger(
            uow, NAME, 2, mode=ChallengerMode.LIVE, share_bp=1000, actor="x", clock=clock
        )
    strategies.submit(uow, NAME, 2, actor="alice", clock=clock)
    strategies.approve(uow, NAME, 2, actor="bob", clock=clock)
    for share in (0, 5001):
        with pytest.raises(InvalidInput):
            strategies.start_challenger(
                uow, NAME, 2, mode=ChallengerMode.LIVE, share_bp=share, actor="x", clock=clock
            )
    started = strategies.start_challenger(
        uow, NAME, 2, mode=ChallengerMode.LIVE, share_bp=2500, actor="carol", clock=clock
    )
    live = _live(platform, FakeModels()).current()
    assert live.challenger is not None
    assert live.challenger.strategy.version == 2
    assert live.challenger.share_bp == 2500
    assert live.challenger.salt == started.salt
    strategies.stop_challenger(uow, NAME, actor="carol")
    assert _live(platform, FakeModels()).current().challenger is None


# --- routing, evidence and replay (no storage) -----------------------------------------


@cache
def _strategy(version: int = 1) -> LiveStrategy:
    if version == 1:
        compiled = load_shipped_strategy(NAME)
    else:
        from puhui.decision.strategy import load_strategy

        compiled = load_strategy("v2", text=_version_two())
    return LiveStrategy(NAME, version, compiled.content_hash, compiled)


def test_live_routing_splits_enterprises_by_their_hash_and_keeps_each_in_its_arm() -> None:
    challenger = LiveChallenger(_strategy(2), ChallengerMode.LIVE, 2500, "mse:challenger:2")
    usccs = [f"9135010{n:04d}X" for n in range(4000)]
    arms = [route(_strategy(1), challenger, uscc)[0] for uscc in usccs]
    share = arms.count(CHALLENGER) / len(arms)
    assert 0.22 < share < 0.28
    assert arms == [route(_strategy(1), challenger, uscc)[0] for uscc in usccs]
    shadow_only = LiveChallenger(_strategy(2), ChallengerMode.SHADOW, 0, "mse:challenger:2")
    assert {route(_strategy(1), shadow_only, uscc)[0] for uscc in usccs} == {CHAMPION}


def _request(uscc: str = "91350100M000100Y43") -> AssessmentRequest:
    return AssessmentRequest(
        application_id="app_1",
        uscc=uscc,
        requested_amount_fen=30_000_000,
        as_of=date(2025, 4, 9),
        data={},
        fraud_hits=(),
        requested_term_months=12,
        channel="qr",
    )


@dataclass
class FixedValues(StrategyAssessor):
    """The assessor with the enterprise's values given, as the feature store would."""

    def enterprise_values(self, request: AssessmentRequest) -> Any:
        from puhui.services.origination.assessment import EnterpriseValues

        return EnterpriseValues(
            features={"sales_12m_log": 14.2, "enterprise_age_months": 60.0},
            inputs={
                "verified_monthly_sales_fen": 90_000_000,
                "verified_monthly_tax_fen": 900_000,
                "tax_filing_gap_months": 0,
                "sales_growth_12m": 0.1,
                "overdue_count_24m": 0,
                "current_overdue_count": 0,
                "court_cases_open": 0,
                "enterprise_age_months": 60,
                "owner_age_years": 40,
                "tax_grade": "A",
            },
            source="store",
            lineage={"month": "2025-04-01"},
        )


def _assessor(challenger: LiveChallenger | None = None, pd: float = 0.01) -> FixedValues:
    model = LiveModel("mse_pd", "model_a", "gbm", StubScorer(pd))
    return FixedValues(FixedSetup(LiveSetup(_strategy(1), challenger, model)))


def test_an_assessment_carries_the_versions_inputs_and_shadow_decision() -> None:
    shadow = LiveChallenger(_strategy(2), ChallengerMode.SHADOW, 0, "mse:challenger:2")
    assessment = _assessor(shadow).assess(_request())
    evidence = assessment.evidence
    assert evidence is not None
    assert evidence.strategy_label == f"{NAME}@1"
    assert evidence.model_version == "model_a"
    assert evidence.arm == CHAMPION
    assert evidence.experiment == "mse:challenger:2"
    assert evidence.bucket is not None
    assert evidence.shadow["strategy_version"] == f"{NAME}@2"
    assert evidence.shadow["arm"] == CHALLENGER
    assert evidence.inputs["requested_amount_fen"] == 30_000_000
    assert evidence.features["sales_12m_log"] == 14.2
    assert evidence.feature_source == "store"
    assert evidence.model_pd == 0.01


def _stored(assessor: FixedValues) -> Any:
    assessment = assessor.assess(_request())
    record = decision_record("app_1", datetime(2025, 4, 9, 2, tzinfo=UTC), assessment, ())
    # Through the stored form, as replay reads it a year later.
    return record_from_document(record_to_document(record))


def test_a_stored_decision_replays_to_the_same_result() -> None:
    record = _stored(_assessor())
    assert record.outcome in {o.value for o in Outcome}
    result = replay_record(
        record,
        strategy=_strategy(1).compiled,
        model=LiveModel("mse_pd", "model_a", "gbm", StubScorer(0.01)),
    )
    assert result.matches, result.first_difference


def test_a_replay_names_the_first_difference() -> None:
    record = _stored(_assessor())
    other_model = replay_record(
        record,
        strategy=_strategy(1).compiled,
        model=LiveModel("mse_pd", "model_a", "gbm", StubScorer(0.3)),
    )
    assert not other_model.matches
    assert other_model.differences[0].field == "model_pd"
    other_rules = replay_record(
        record,
        strategy=_strategy(2).compiled,
        model=LiveModel("mse_pd", "model_a", "gbm", StubScorer(0.01)),
    )
    assert other_rules.differences[0].field == "strategy_hash"
