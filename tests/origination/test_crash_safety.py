"""A process killed between the decision and the line opening leaves nothing half-done."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from crash_child import FileLineOpener
from flow_scenarios import apply_and_consent
from origination_wiring import Wired

from puhui.domain.origination.application import ApplicationStatus
from puhui.services.origination import use_cases as uc

HERE = Path(__file__).parent


def _accept_in_a_process_that_dies(
    database_url: str, lines: Path, die: str, user_id: str, app_id: str
) -> int:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    return subprocess.run(
        [
            sys.executable,
            str(HERE / "crash_child.py"),
            database_url,
            str(lines),
            die,
            user_id,
            app_id,
        ],
        env=env,
        check=False,
        capture_output=True,
    ).returncode


@pytest.mark.slow
@pytest.mark.parametrize("die", ["before", "after"])
def test_killed_during_line_opening_then_retried_opens_exactly_one_line(
    db: Wired, database_url: str, tmp_path: Path, die: str
) -> None:
    owner, app_id = apply_and_consent(db)
    uc.assess_application(db.origination, actor=owner, application_id=app_id)
    lines = tmp_path / "lines.json"

    code = _accept_in_a_process_that_dies(database_url, lines, die, owner.user_id, app_id)

    assert code == 137
    after_crash = uc.get_application(db.origination, actor=owner, application_id=app_id)
    assert after_crash.application.status is ApplicationStatus.ACCEPTED
    assert after_crash.contract is not None
    db.origination.line_opener = FileLineOpener(lines)
    first = uc.accept_offer(db.origination, actor=owner, application_id=app_id)
    second = uc.accept_offer(db.origination, actor=owner, application_id=app_id)
    assert first.application.status is ApplicationStatus.LINE_OPENED
    assert first.application.credit_line_id == second.application.credit_line_id == "line_0001"
    assert json.loads(lines.read_text()) == {f"line-for-{app_id}": "line_0001"}
    assert first.contract == after_crash.contract
    with db.origination.uow_factory() as uow:
        actions = [e.action for e in uow.audit.events() if e.entity_id == app_id]
    assert actions.count("application.accepted") == 1
    assert actions.count("application.line_opened") == 1
