"""Trigger rules are governed like strategies: draft, submit, four eyes, active, audited."""

from __future__ import annotations

import pytest
from book_support import AS_OF, build_book, uscc

from puhui.bootstrap import Platform
from puhui.decision.concentration import shipped_concentration_text
from puhui.decision.triggers import TriggersInvalid, shipped_triggers_text
from puhui.domain.errors import Conflict
from puhui.services import strategies as lifecycle
from puhui.services.monitoring.ports import AlertQuery
from puhui.services.monitoring.rules import active_concentration
from puhui.services.monitoring.run import run_monitoring
from puhui.services.strategies import DocumentKind, FourEyesViolation, StrategyStatus

KIND = DocumentKind.TRIGGERS


def _version_2() -> str:
    # DPD_EARLY becomes a high signal from the second version on.
    text = shipped_triggers_text().replace("\nversion: 1\n", "\nversion: 2\n", 1)
    early = text.index("code: DPD_EARLY")
    severity = text.index("severity: medium", early)
    return text[:severity] + "severity: high" + text[severity + len("severity: medium") :]


def test_migrate_seeds_the_shipped_rules_as_active_version_1(platform: Platform) -> None:
    platform.migrate()
    (seeded,) = lifecycle.list_versions(platform.strategy_uow, kind=KIND)
    assert (seeded.label, seeded.status, seeded.kind) == (
        "mse-post-loan@1",
        StrategyStatus.ACTIVE,
        KIND,
    )
    # Strategies list only strategies.
    assert all(
        v.kind is DocumentKind.STRATEGY for v in lifecycle.list_versions(platform.strategy_uow)
    )
    platform.migrate()  # never seeded twice
    assert len(lifecycle.list_versions(platform.strategy_uow, kind=KIND)) == 1


def test_a_new_version_needs_four_eyes_and_the_next_run_uses_it(platform: Platform) -> None:
    book = build_book(platform, 2, dpd={0: 5})
    book.close_day(AS_OF)
    uow, clock = platform.strategy_uow, platform.clock
    draft = lifecycle.create_draft(uow, text=_version_2(), actor="risk:li", clock=clock, kind=KIND)
    assert draft.kind is KIND
    lifecycle.submit(uow, "mse-post-loan", 2, actor="risk:li", clock=clock)
    with pytest.raises(FourEyesViolation):
        lifecycle.approve(uow, "mse-post-loan", 2, actor="risk:li", clock=clock)
    lifecycle.approve(uow, "mse-post-loan", 2, actor="risk:wang", clock=clock)
    lifecycle.activate(uow, "mse-post-loan", 2, actor="risk:wang", clock=clock)
    summary = run_monitoring(book.setup(), as_of=AS_OF, actor="system:monitoring")
    assert summary.rules == "mse-post-loan@2"
    with platform.monitoring_uow() as m:
        (alert,) = m.monitoring.alerts(AlertQuery())
    assert alert.alert.customer_id == uscc(0)
    assert alert.alert.severity.value == "high"
    with platform.uow() as u:
        actions = [e.action for e in u.audit.events() if e.entity == "strategy"]
    assert actions[-5:] == [
        "strategy.draft_created",
        "strategy.submitted",
        "strategy.approved",
        "strategy.retired",
        "strategy.activated",
    ]


def test_a_broken_rules_document_is_refused_as_a_draft(platform: Platform) -> None:
    platform.migrate()
    broken = _version_2().replace('days_past_due: "[1..30]"', 'days_overdue: "[1..30]"')
    with pytest.raises(TriggersInvalid):
        lifecycle.create_draft(
            platform.strategy_uow, text=broken, actor="risk:li", clock=platform.clock, kind=KIND
        )


def test_a_name_belongs_to_one_kind(platform: Platform) -> None:
    platform.migrate()
    (strategy, *_) = lifecycle.list_versions(platform.strategy_uow)
    clash = _version_2().replace("name: mse-post-loan", f"name: {strategy.name}", 1)
    with pytest.raises(Conflict, match="strategy document"):
        lifecycle.create_draft(
            platform.strategy_uow, text=clash, actor="risk:li", clock=platform.clock, kind=KIND
        )


def test_concentration_limits_take_the_same_lifecycle(platform: Platform) -> None:
    platform.migrate()  # seeds the shipped limits as the active version 1
    clock = platform.clock
    assert active_concentration(platform.strategy_uow).version_label == "mse-concentration@1"
    text = shipped_concentration_text().replace("\nversion: 1\n", "\nversion: 2\n", 1)
    text = text.replace('max_share: "0.25"', 'max_share: "0.22"', 1)
    draft = lifecycle.create_draft(
        platform.strategy_uow,
        text=text,
        actor="risk:li",
        clock=clock,
        kind=DocumentKind.CONCENTRATION,
    )
    assert draft.kind is DocumentKind.CONCENTRATION
    lifecycle.submit(platform.strategy_uow, "mse-concentration", 2, actor="risk:li", clock=clock)
    with pytest.raises(FourEyesViolation):
        lifecycle.approve(
            platform.strategy_uow, "mse-concentration", 2, actor="risk:li", clock=clock
        )
    # Until the second person approves and activates it, version 1 stays the one in force.
    assert active_concentration(platform.strategy_uow).version_label == "mse-concentration@1"
    lifecycle.approve(platform.strategy_uow, "mse-concentration", 2, actor="risk:wang", clock=clock)
    lifecycle.activate(
        platform.strategy_uow, "mse-concentration", 2, actor="risk:wang", clock=clock
    )
    active = active_concentration(platform.strategy_uow)
    assert active.version_label == "mse-concentration@2"
    assert str(active.document.dimensions["industry"].max_share) == "0.22"


def test_the_limits_in_force_are_only_concentration_documents(platform: Platform) -> None:
    platform.migrate()
    with pytest.raises(Conflict):
        active_concentration(platform.strategy_uow, "mse-post-loan")
