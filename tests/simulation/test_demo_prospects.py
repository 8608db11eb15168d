"""The demo's prospect channel on a small market: a month's run loaded on the platform, a
prospect's application fast-tracked and its conversion recorded, a walk-in left alone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from puhui.adapters.sources.market import MarketDataSource
from puhui.bootstrap import Platform, Settings, build_platform
from puhui.bootstrap.demo_prospects import PlatformProspects, shipped_strategy, train_demo_models
from puhui.bootstrap.wiring import build_origination, origination_ports, register_champion
from puhui.domain.clock import FixedClock
from puhui.domain.origination.application import ApplicationStatus
from puhui.domain.origination.consent import DataScope
from puhui.domain.prospects import ProspectStatus
from puhui.market import store
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.pipelines.preapproval_models import ProspectModels
from puhui.pipelines.simulation import DEMO_APPROVER, DEMO_MANAGER, train_market_model
from puhui.risk.artefact import ModelKind
from puhui.services.origination import use_cases as uc
from puhui.services.origination.use_cases import NewApplication, Origination
from puhui.services.prospects.ports import Conversion
from puhui.services.security.permissions import Principal, Role

MONTH = date(2024, 11, 1)
"""The month the list is worked in: the run reads the market up to 2024-10."""
MARKET = MarketParams(enterprises=2_500, months=23, start=date(2023, 1, 1), seed=7)


@dataclass(frozen=True)
class Trained:
    market: Path
    pd_model: Path
    models: ProspectModels


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Trained:
    root = tmp_path_factory.mktemp("demo-prospects")
    generate_market(MARKET, root / "market")
    trained_at = datetime(2024, 11, 1, tzinfo=UTC)
    train_market_model(root / "market", MONTH, ModelKind.GBM, root / "pd", trained_at=trained_at)
    models, _ = train_demo_models(root / "market", MONTH, shipped_strategy())
    return Trained(root / "market", root / "pd", models)


@pytest.fixture
def demo_platform(trained: Trained, sqlite_url: str, tmp_path: Path) -> Iterator[Platform]:
    clock = FixedClock(datetime(2024, 11, 1, 2, tzinfo=UTC))
    settings = Settings(
        database_url=sqlite_url,
        environment="test",
        market_dir=trained.market,
        model_registry_dir=tmp_path / "models",
        _env_file=None,
    )  # type: ignore[call-arg]
    platform = build_platform(settings, clock=clock)
    platform.migrate()
    register_champion(
        platform,
        trained.pd_model,
        builder="test:modeller",
        approver="test:validator",
        promoter="test:risk",
        at=clock.now(),
    )
    try:
        yield platform
    finally:
        platform.close()


def _apply(o: Origination, market: Path, uscc: str) -> tuple[str, Principal]:
    firm = store.read(market, "enterprises").filter(pl.col("uscc") == uscc).row(0, named=True)
    created = uc.create_application(
        o,
        actor=DEMO_MANAGER,
        request=NewApplication(
            uscc=uscc,
            id_number=firm["legal_rep_id_number"],
            phone=firm["phone"],
            requested_amount_fen=20_000_000,
            requested_term_months=12,
            address=firm["address"],
        ),
        idempotency_key=f"test-{uscc}",
    )
    owner = Principal(user_id=created.applicant_user_id or "", role=Role.APPLICANT)
    return created.application_id, owner


def _decide(o: Origination, application_id: str, owner: Principal) -> ApplicationStatus:
    uc.give_consent(
        o, actor=owner, application_id=application_id, scopes=tuple(DataScope), purpose="test"
    )
    view = uc.assess_application(o, actor=DEMO_MANAGER, application_id=application_id)
    if view.application.status is ApplicationStatus.REFERRED:
        view = uc.review_application(
            o, actor=DEMO_APPROVER, application_id=application_id, approve=False, note="test"
        )
    return view.application.status


@pytest.mark.slow
def test_a_prospect_is_fast_tracked_and_converted_a_walk_in_is_not(
    trained: Trained, demo_platform: Platform
) -> None:
    channel = PlatformProspects(demo_platform, trained.market, trained.models, shipped_strategy())
    listed = channel.month_started(MONTH)
    # The month's run is loaded on the platform, as of the month before, one row per USCC.
    assert listed
    assert [m.listed for m in channel.months] == [len(listed)]
    access = demo_platform.prospect_access()
    with access.units() as uow:
        run = uow.prospects.latest_run(date(2024, 10, 1))
        stored = uow.prospects.listed(date(2024, 10, 1))
    assert run is not None
    assert run.rows_loaded == len(listed)
    assert run.meta.strategy_version is not None
    assert "need-" in (run.meta.model_version or "")
    assert sorted(stored) == sorted(listed)
    assert all(r.status is ProspectStatus.NEW for r in stored.values())

    origination = build_origination(
        demo_platform,
        origination_ports(demo_platform, data_source=MarketDataSource(trained.market)),
    )
    prospect = listed[0]
    walk_in = next(
        u
        for u in store.read(trained.market, "enterprises").get_column("uscc").to_list()
        if u not in stored
    )
    application_id, owner = _apply(origination, trained.market, prospect)
    # The platform links it on submission; the manager keying it in confirms the link.
    with access.units() as uow:
        submitted = uow.prospects.by_application(application_id)
    assert submitted is not None
    assert submitted.row.uscc == prospect
    channel.applied(prospect, application_id, MONTH)
    walk_in_id, walk_in_owner = _apply(origination, trained.market, walk_in)
    channel.applied(walk_in, walk_in_id, MONTH)
    # Fast-track: the prospect's application is linked before it is decided; no conversion yet.
    with access.units() as uow:
        linked = uow.prospects.by_application(application_id)
        assert uow.prospects.by_application(walk_in_id) is None
    assert linked is not None
    assert linked.row.uscc == prospect
    assert linked.status is ProspectStatus.APPLIED
    assert linked.conversion is None
    assert channel.linked == 1
    assert channel.conversions() == {"pending": 1}

    # Another application told for the same prospect is counted, not linked: the first stays.
    channel.applied(prospect, walk_in_id, MONTH)
    assert (channel.linked, channel.again) == (1, 1)

    status = _decide(origination, application_id, owner)
    _decide(origination, walk_in_id, walk_in_owner)
    assert channel.record_conversions() == 1
    assert channel.record_conversions() == 0  # recorded once
    with access.units() as uow:
        converted = uow.prospects.by_application(application_id)
    expected = Conversion.APPROVED if status is ApplicationStatus.OFFERED else Conversion.DECLINED
    assert converted is not None
    assert converted.conversion is expected
    assert converted.application_id == application_id
    assert channel.conversions() == {expected.value: 1}
