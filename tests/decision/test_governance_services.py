"""What staff may do with strategies and models (``services.governance``): roles first, four
eyes between people, a draft renumbered from a stored version, backtests of stored versions."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from puhui.adapters.db.strategies import StrategyUnitOfWork
from puhui.bootstrap import Platform
from puhui.bootstrap.wiring import origination_units
from puhui.decision.triggers import shipped_triggers_text
from puhui.domain.clock import FixedClock
from puhui.domain.errors import InvalidInput, NotFound
from puhui.domain.origination.errors import Forbidden
from puhui.risk.errors import ApproverIsBuilder
from puhui.risk.registry import INDEX_FILE, ModelRegistry, ModelStatus, RegistryEntry
from puhui.services import governance
from puhui.services import strategies as lifecycle
from puhui.services.security.permissions import Principal, Role
from puhui.services.strategies import FourEyesViolation, StrategyStatus

Factory = Callable[[], StrategyUnitOfWork]
RISK = Principal(user_id="usr_risk1", role=Role.RISK_OFFICER)
RISK2 = Principal(user_id="usr_risk2", role=Role.RISK_OFFICER)
APPROVER = Principal(user_id="usr_appr1", role=Role.APPROVER)
AUDITOR = Principal(user_id="usr_audit", role=Role.AUDITOR)
MANAGER = Principal(user_id="usr_am1", role=Role.ACCOUNT_MANAGER)


@pytest.fixture
def uow(platform: Platform, clock: FixedClock, shipped_text: str) -> Factory:
    engine = platform.database.engine
    factory: Factory = lambda: StrategyUnitOfWork(  # noqa: E731
        engine, clock=platform.clock, audit_key=platform.audit_key
    )
    lifecycle.seed_shipped(factory, text=shipped_text, clock=clock)
    return factory


def test_a_risk_officer_proposes_and_another_approves(uow: Factory, clock: FixedClock) -> None:
    text = governance.next_draft_text(uow, actor=RISK, name="mse-online-credit", version=1)
    assert "\nversion: 2\n" in text
    assert "schema_version: 1" in text  # only the document's own version line is renumbered
    draft = governance.save_draft(
        uow, actor=RISK, text=text, kind=lifecycle.DocumentKind.STRATEGY, clock=clock
    )
    assert draft.created_by == RISK.audit_name()
    # Saving the same version again replaces the draft's text.
    edited = governance.save_draft(
        uow,
        actor=RISK,
        text=text.replace('minimum_yuan: "10000"', 'minimum_yuan: "20000"'),
        kind=lifecycle.DocumentKind.STRATEGY,
        clock=clock,
    )
    assert edited.content_hash != draft.content_hash
    governance.submit(uow, actor=RISK, name="mse-online-credit", version=2, clock=clock)
    with pytest.raises(FourEyesViolation):
        governance.approve(uow, actor=RISK, name="mse-online-credit", version=2, clock=clock)
    with pytest.raises(Forbidden):
        governance.approve(uow, actor=AUDITOR, name="mse-online-credit", version=2, clock=clock)
    approved = governance.approve(
        uow, actor=RISK2, name="mse-online-credit", version=2, clock=clock
    )
    assert approved.approved_by == RISK2.audit_name()
    active = governance.activate(
        uow, actor=APPROVER, name="mse-online-credit", version=2, clock=clock
    )
    assert active.status is StrategyStatus.ACTIVE
    changes = governance.diff_documents(uow, actor=AUDITOR, name="mse-online-credit", old=1, new=2)
    assert "minimum_yuan" in changes
    # The same diff as the command line's (`puhui strategy diff`).
    assert changes == lifecycle.diff_versions(uow, "mse-online-credit", 1, 2)


def test_roles_that_may_not_govern_are_refused(uow: Factory, clock: FixedClock) -> None:
    with pytest.raises(Forbidden):
        governance.list_documents(uow, actor=MANAGER)
    with pytest.raises(Forbidden):
        governance.next_draft_text(uow, actor=APPROVER, name="mse-online-credit", version=1)
    with pytest.raises(Forbidden):
        governance.save_draft(
            uow,
            actor=AUDITOR,
            text=shipped_triggers_text(),
            kind=lifecycle.DocumentKind.TRIGGERS,
            clock=clock,
        )
    assert [v.name for v in governance.list_documents(uow, actor=AUDITOR)] == ["mse-online-credit"]


def test_a_backtest_needs_a_credit_strategy_and_stored_decisions(
    uow: Factory, clock: FixedClock, platform: Platform
) -> None:
    units = origination_units(platform)
    day = dt.date(2026, 3, 1)
    with pytest.raises(NotFound, match="no stored decisions"):
        governance.backtest(
            uow,
            units.reader,
            actor=RISK,
            name="mse-online-credit",
            version=1,
            first_day=day,
            last_day=day,
        )
    with pytest.raises(Forbidden):
        governance.backtest(
            uow,
            units.reader,
            actor=AUDITOR,
            name="mse-online-credit",
            version=1,
            first_day=day,
            last_day=day,
        )
    lifecycle.seed_shipped(
        uow, text=shipped_triggers_text(), clock=clock, kind=lifecycle.DocumentKind.TRIGGERS
    )
    with pytest.raises(InvalidInput, match="only credit strategies"):
        governance.backtest(
            uow,
            units.reader,
            actor=RISK,
            name="mse-post-loan",
            version=1,
            first_day=day,
            last_day=day,
        )


def test_a_model_is_approved_by_someone_other_than_its_builder(
    tmp_path: Path, clock: FixedClock
) -> None:
    entry = RegistryEntry(
        version="model_a",
        name="mse_pd",
        kind="gbm",
        status=ModelStatus.CANDIDATE,
        builder=RISK.audit_name(),
        registered_at="2026-01-01T00:00:00+00:00",
        data_hash="0" * 64,
        metrics={},
    )
    (tmp_path / INDEX_FILE).write_text(json.dumps({"versions": [entry.to_dict()]}))
    registry = ModelRegistry(tmp_path)
    with pytest.raises(ApproverIsBuilder):
        governance.approve_model(registry, actor=RISK, version="model_a", at=clock.now())
    with pytest.raises(Forbidden):
        governance.approve_model(registry, actor=AUDITOR, version="model_a", at=clock.now())
    approved = governance.approve_model(registry, actor=APPROVER, version="model_a", at=clock.now())
    assert approved.approver == APPROVER.audit_name()
    with pytest.raises(Forbidden):
        governance.promote_model(registry, actor=APPROVER, version="model_a", at=clock.now())
    champion = governance.promote_model(registry, actor=RISK2, version="model_a", at=clock.now())
    assert champion.status is ModelStatus.CHAMPION
    assert [e.version for e in governance.list_models(registry, actor=AUDITOR)] == ["model_a"]


def test_a_draft_that_pre_approves_on_data_needing_consent_is_refused(
    uow: Factory, clock: FixedClock
) -> None:
    text = governance.next_draft_text(uow, actor=RISK, name="mse-online-credit", version=1)
    assert "sources_before_consent: [" in text
    widened = text.replace("sources_before_consent: [", "sources_before_consent: [tax_monthly, ", 1)
    with pytest.raises(InvalidInput, match="tax_monthly"):
        governance.save_draft(
            uow, actor=RISK, text=widened, kind=lifecycle.DocumentKind.STRATEGY, clock=clock
        )
    with uow() as unit:
        assert [v.version for v in unit.strategies.list("mse-online-credit")] == [1]
