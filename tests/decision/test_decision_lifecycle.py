"""Strategy lifecycle on SQLite and PostgreSQL: four eyes, one active version, diffs, audit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
import yaml
from sqlalchemy.exc import IntegrityError

from puhui.adapters.db.strategies import StrategyUnitOfWork
from puhui.bootstrap import Platform
from puhui.domain.clock import FixedClock
from puhui.domain.errors import Conflict, NotFound
from puhui.services import strategies as lifecycle
from puhui.services.audit import verify_audit_chain
from puhui.services.strategies import (
    FourEyesViolation,
    StrategyStateConflict,
    StrategyStatus,
    StrategyVersion,
)

Factory = Callable[[], StrategyUnitOfWork]


@pytest.fixture
def uow(platform: Platform) -> Factory:
    engine = platform.database.engine
    return lambda: StrategyUnitOfWork(engine, clock=platform.clock, audit_key=platform.audit_key)


def version_of(text: str, version: int, **changes: object) -> str:
    data = yaml.safe_load(text)
    data["version"] = version
    data["limit"].update(changes)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def approved(uow: Factory, clock: FixedClock, text: str) -> StrategyVersion:
    item = lifecycle.create_draft(uow, text=text, actor="maker", clock=clock)
    lifecycle.submit(uow, item.name, item.version, actor="maker", clock=clock)
    return lifecycle.approve(uow, item.name, item.version, actor="checker", clock=clock)


def test_a_strategy_goes_from_draft_to_active_with_four_eyes(
    uow: Factory, clock: FixedClock, shipped_text: str, platform: Platform
) -> None:
    draft = lifecycle.create_draft(uow, text=shipped_text, actor="maker", clock=clock)
    assert draft.status is StrategyStatus.DRAFT
    assert draft.created_at == clock.now()
    submitted = lifecycle.submit(uow, "mse-online-credit", 1, actor="maker", clock=clock)
    assert submitted.status is StrategyStatus.SUBMITTED
    with pytest.raises(FourEyesViolation):
        lifecycle.approve(uow, "mse-online-credit", 1, actor="maker", clock=clock)
    approved_item = lifecycle.approve(uow, "mse-online-credit", 1, actor="checker", clock=clock)
    assert approved_item.approved_by == "checker"
    active = lifecycle.activate(uow, "mse-online-credit", 1, actor="checker", clock=clock)
    assert active.status is StrategyStatus.ACTIVE
    compiled = lifecycle.load_active(uow, "mse-online-credit")
    assert compiled.version == "mse-online-credit@1"
    assert compiled.content_hash == draft.content_hash
    with platform.uow() as work:
        actions = [(e.action, e.entity_id) for e in work.audit.events()]
    assert actions == [
        ("strategy.draft_created", "mse-online-credit@1"),
        ("strategy.submitted", "mse-online-credit@1"),
        ("strategy.approved", "mse-online-credit@1"),
        ("strategy.activated", "mse-online-credit@1"),
    ]
    assert verify_audit_chain(platform.uow, key=platform.audit_key).ok


def test_activating_a_new_version_retires_the_old_and_rollback_is_one_step(
    uow: Factory, clock: FixedClock, shipped_text: str
) -> None:
    approved(uow, clock, shipped_text)
    lifecycle.activate(uow, "mse-online-credit", 1, actor="checker", clock=clock)
    approved(uow, clock, version_of(shipped_text, 2, minimum_yuan="20000"))
    lifecycle.activate(uow, "mse-online-credit", 2, actor="checker", clock=clock)
    statuses = {v.version: v.status for v in lifecycle.list_versions(uow, "mse-online-credit")}
    assert statuses == {1: StrategyStatus.RETIRED, 2: StrategyStatus.ACTIVE}
    lifecycle.activate(uow, "mse-online-credit", 1, actor="checker", clock=clock)  # rollback
    statuses = {v.version: v.status for v in lifecycle.list_versions(uow, "mse-online-credit")}
    assert statuses == {1: StrategyStatus.ACTIVE, 2: StrategyStatus.RETIRED}


def test_the_diff_between_versions_shows_what_changed(
    uow: Factory, clock: FixedClock, shipped_text: str
) -> None:
    lifecycle.create_draft(uow, text=shipped_text, actor="maker", clock=clock)
    lifecycle.create_draft(
        uow, text=version_of(shipped_text, 2, minimum_yuan="20000"), actor="maker", clock=clock
    )
    diff = lifecycle.diff_versions(uow, "mse-online-credit", 1, 2)
    changed = [
        line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert changed == [
        "-version: 1",
        "+version: 2",
        "-  minimum_yuan: '10000'",
        "+  minimum_yuan: '20000'",
    ]


def test_illegal_steps_are_refused(uow: Factory, clock: FixedClock, shipped_text: str) -> None:
    lifecycle.create_draft(uow, text=shipped_text, actor="maker", clock=clock)
    with pytest.raises(Conflict, match="already exists"):
        lifecycle.create_draft(uow, text=shipped_text, actor="maker", clock=clock)
    with pytest.raises(StrategyStateConflict):
        lifecycle.activate(uow, "mse-online-credit", 1, actor="checker", clock=clock)
    lifecycle.submit(uow, "mse-online-credit", 1, actor="maker", clock=clock)
    with pytest.raises(StrategyStateConflict, match="cannot edit"):
        lifecycle.update_draft(uow, text=shipped_text, actor="maker", clock=clock)
    with pytest.raises(NotFound):
        lifecycle.submit(uow, "mse-online-credit", 9, actor="maker", clock=clock)
    with pytest.raises(NotFound):
        lifecycle.load_active(uow, "mse-online-credit")
    rejected = lifecycle.reject(uow, "mse-online-credit", 1, actor="checker", clock=clock)
    assert rejected.status is StrategyStatus.DRAFT
    updated = lifecycle.update_draft(
        uow,
        text=shipped_text.replace("\nversion: 1\n", "\nversion: 1\n# edited\n"),
        actor="maker",
        clock=clock,
    )
    assert updated.document.count("# edited") == 1


def test_the_database_allows_only_one_active_version(
    uow: Factory, clock: FixedClock, shipped_text: str
) -> None:
    first = approved(uow, clock, shipped_text)
    second = approved(uow, clock, version_of(shipped_text, 2))
    with uow() as work:
        work.strategies.update(replace(first, status=StrategyStatus.ACTIVE))
        with pytest.raises(IntegrityError):
            work.strategies.update(replace(second, status=StrategyStatus.ACTIVE))
