"""The post-loan pages over HTTP: alerts with their evidence, tasks claimed and completed with
the outcomes the role may record, and who may open which page."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent.parent.parent / "monitoring"))
sys.path.insert(0, str(Path(__file__).parent))

from api_support import Api, build_servicing_api
from book_support import AS_OF, Book, add_term_borrower, build_book, uscc
from ops_pages_support import Staff, sign_in

from puhui.bootstrap import Settings, build_platform
from puhui.domain.clock import FixedClock
from puhui.domain.monitoring import AlertStatus, TaskStatus
from puhui.services.monitoring import alerts, tasks
from puhui.services.monitoring.ports import AlertQuery, TaskQuery
from puhui.services.monitoring.run import run_monitoring
from puhui.services.security.permissions import SYSTEM, Principal, Role
from puhui.services.security.users import user_by_username

TERM_BORROWER = uscc(9)
"""A customer with a term loan and no credit line."""
BEHIND_BORROWER = uscc(8)
"""Another, whose loan the end of day of the last business date has not reached."""
READER = Principal(user_id="reader", role=Role.RISK_OFFICER)
"""Reads alerts and tasks behind the pages' backs, to check what they did."""


@dataclass
class World:
    api: Api
    book: Book

    def staff(self, role: Role, name: str | None = None) -> Staff:
        return sign_in(self.api.deps, self.api.client.app, name or role.value, role)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    clock = FixedClock(datetime(2026, 4, 1, 1, 30, tzinfo=UTC))
    url = f"sqlite:///{tmp_path / 'puhui.db'}"
    api, engine = build_servicing_api(url, clock, tmp_path / "models")
    platform = build_platform(
        Settings(  # type: ignore[call-arg]
            database_url=url, environment="test", audit_key="a" * 32, _env_file=None
        ),
        clock=clock,
    )
    book = build_book(platform, 3, dpd={0: 40, 2: 7})
    # The pages' clock is on 1 April: the end of day of 31 March has run.
    add_term_borrower(book, TERM_BORROWER, days_past_due=40, accrued_through=AS_OF)
    # ...but not for this one's loan.
    add_term_borrower(book, BEHIND_BORROWER, days_past_due=40)
    book.close_day(AS_OF)
    run_monitoring(book.setup(), as_of=AS_OF, actor="system:monitoring")
    try:
        yield World(api, book)
    finally:
        api.client.close()
        platform.close()
        engine.dispose()  # type: ignore[attr-defined]


def _access(world: World):  # type: ignore[no-untyped-def]
    access = world.api.deps.monitoring
    assert access is not None
    return access


def test_alerts_page_lists_filters_and_shows_the_evidence(world: World) -> None:
    manager = world.staff(Role.ACCOUNT_MANAGER)
    page = manager.get("/console/alerts")
    assert "贷后预警" in page
    assert uscc(0) in page
    assert uscc(2) in page
    high = manager.get("/console/alerts?severity=high")
    assert uscc(0) in high
    assert uscc(2) not in high
    # An unknown filter value means "any", never an error.
    assert uscc(2) in manager.get("/console/alerts?status=nonsense")
    (alert,) = alerts.list_alerts(
        _access(world), actor=READER, query=AlertQuery(customer_id=uscc(0))
    )
    detail = manager.get(f"/console/alerts/{alert.alert.alert_id}")
    assert "DPD_SERIOUS" in detail
    assert "days_past_due" in detail  # the data behind the signal
    assert alert.alert.signals[0].text_zh in detail
    # Managers read alerts; acknowledging and closing is a supervisor's.
    assert "关闭预警" not in detail
    refused = manager.post(f"/console/alerts/{alert.alert.alert_id}/acknowledge")
    assert refused.status_code == 403
    english = manager.client.get(f"/console/alerts/{alert.alert.alert_id}?lang=en").text
    assert alert.alert.signals[0].text_en in english


def test_a_supervisor_acknowledges_and_closes_an_alert_with_a_reason(world: World) -> None:
    supervisor = world.staff(Role.SUPERVISOR)
    found = alerts.list_alerts(_access(world), actor=READER, query=AlertQuery())
    alert = found[0]
    # The home counts the alerts waiting to be acknowledged, for whoever acknowledges them.
    assert len(found) > 1
    assert f"尚未确认的预警：{len(found)} 条" in supervisor.get("/console/")
    assert "尚未确认的预警：" not in world.staff(Role.ACCOUNT_MANAGER).get("/console/")
    path = f"/console/alerts/{alert.alert.alert_id}"
    supervisor.get(path)
    without_token = supervisor.post(f"{path}/acknowledge", csrf=False)
    assert without_token.status_code == 403
    done = supervisor.post(f"{path}/acknowledge")
    assert done.status_code == 303
    assert done.headers["location"] == f"{path}?done=acknowledged"
    assert "预警已确认" in supervisor.get(done.headers["location"])
    assert f"尚未确认的预警：{len(found) - 1} 条" in supervisor.get("/console/")
    empty = supervisor.post(f"{path}/close", {"reason": "  "})
    assert empty.status_code == 422
    closed = supervisor.post(f"{path}/close", {"reason": "repaid in full"})
    assert closed.status_code == 303
    stored = alerts.get_alert(_access(world), actor=READER, alert_id=alert.alert.alert_id)
    assert stored.alert.status is AlertStatus.CLOSED
    assert stored.alert.close_reason == "repaid in full"
    again = supervisor.post(f"{path}/acknowledge")
    assert again.status_code == 409
    assert "预警当前状态不允许此操作" in again.text


def test_a_manager_claims_a_task_and_completes_it_with_a_permitted_outcome(world: World) -> None:
    manager = world.staff(Role.ACCOUNT_MANAGER)
    listing = manager.get("/console/tasks")
    assert "网点待领" in listing  # the branch queue: no manager on record
    (task,) = tasks.list_tasks(_access(world), actor=READER, query=TaskQuery(customer_id=uscc(0)))
    task_id = task.task.task_id
    assert task_id in listing
    path = f"/console/tasks/{task_id}"
    manager.get(path)
    assert "待您处理的任务：" not in manager.get("/console/")  # queue tasks are nobody's yet
    claimed = manager.post(f"{path}/claim")
    assert claimed.status_code == 303
    assert "待您处理的任务：1 项" in manager.get("/console/")
    form = manager.get(path)
    # Only the outcomes the monitoring rule allows an account manager are offered.
    assert 'value="freeze"' in form
    assert 'value="reduce_limit"' not in form
    assert 'value="recall_early"' not in form
    refused = manager.post(f"{path}/complete", {"outcome": "recall_early"})
    assert refused.status_code == 403
    assert "您的角色不能" in refused.text
    done = manager.post(f"{path}/complete", {"outcome": "freeze", "note": "owner unreachable"})
    assert done.status_code == 303, done.text
    assert "待您处理的任务：" not in manager.get("/console/")
    stored = tasks.get_task(_access(world), actor=READER, task_id=task_id)
    assert stored.task.status is TaskStatus.COMPLETED
    assert stored.action is not None
    assert stored.action["frozen"] == [world.book.lines[uscc(0)]]
    shown = manager.get(done.headers["location"])
    assert "冻结额度" in shown
    assert "owner unreachable" in shown
    line = world.book.lines[uscc(0)]
    assert f"授信额度 {line} 已冻结：不再接受新的用款。" in shown
    english = manager.get(f"{done.headers['location']}&lang=en")
    assert f"Credit line {line} frozen: it takes no new draws." in english


def test_a_supervisor_may_reduce_the_limit_in_yuan(world: World) -> None:
    supervisor = world.staff(Role.SUPERVISOR)
    (task,) = tasks.list_tasks(_access(world), actor=READER, query=TaskQuery(customer_id=uscc(0)))
    path = f"/console/tasks/{task.task.task_id}"
    assert "全部任务" in supervisor.get("/console/tasks?view=all")
    supervisor.get(path)
    assert supervisor.post(f"{path}/claim").status_code == 303
    form = supervisor.get(path)
    assert 'value="reduce_limit"' in form
    assert 'value="recall_early"' not in form
    bad = supervisor.post(f"{path}/complete", {"outcome": "reduce_limit", "new_limit": "abc"})
    assert bad.status_code == 422
    done = supervisor.post(f"{path}/complete", {"outcome": "reduce_limit", "new_limit": "1000.00"})
    assert done.status_code == 303, done.text
    stored = tasks.get_task(_access(world), actor=READER, task_id=task.task.task_id)
    assert stored.task.status is TaskStatus.COMPLETED


def test_a_supervisor_assigns_a_queue_task_to_one_of_their_managers(world: World) -> None:
    supervisor = world.staff(Role.SUPERVISOR)
    manager = world.staff(Role.ACCOUNT_MANAGER, "wang")
    (task,) = tasks.list_tasks(_access(world), actor=READER, query=TaskQuery(customer_id=uscc(0)))
    path = f"/console/tasks/{task.task.task_id}"
    alone = supervisor.get(path)
    assert "分派给客户经理" in alone
    assert 'data-team="none"' in alone  # nobody on record yet: no form, a way to get one
    assert f'action="{path}/assign"' not in alone
    security = world.api.deps.security
    wang = user_by_username(security, "wang").user_id
    lead = user_by_username(security, Role.SUPERVISOR.value).user_id
    tasks.set_supervisor(
        world.book.platform.monitoring_uow, actor=SYSTEM, user_id=wang, supervisor_id=lead
    )
    page = supervisor.get(path)
    assert f'<option value="{wang}">wang</option>' in page
    assert "<dd>网点待领</dd>" in page
    assert f'action="{path}/assign"' in page
    assert "分派给客户经理" not in manager.get(path)  # managers do not assign
    stranger = supervisor.post(f"{path}/assign", {"assignee": "usr_01M97GEBT7CCJTMT31HSJDFZQ4"})
    assert stranger.status_code == 422
    assigned = supervisor.post(f"{path}/assign", {"assignee": wang})
    assert assigned.status_code == 303
    assert assigned.headers["location"] == f"{path}?done=assigned"
    shown = supervisor.get(assigned.headers["location"])
    assert "任务已分派：等待该客户经理认领。" in shown
    assert "<dd>wang</dd>" in shown  # held by the manager, by name
    assert f'<option value="{wang}">' not in shown  # the holder is not offered again
    assert "待您处理的任务：1 项" in manager.get("/console/")
    stored = tasks.get_task(_access(world), actor=READER, task_id=task.task.task_id)
    assert (stored.task.status, stored.task.assignee) == (TaskStatus.OPEN, wang)
    assert manager.post(f"{path}/assign", {"assignee": wang}).status_code == 403
    english = supervisor.get(f"{path}?lang=en")
    assert "Assign to a manager" in english


def test_the_task_page_shows_the_customers_lines_and_loans(world: World) -> None:
    manager = world.staff(Role.ACCOUNT_MANAGER)
    (task,) = tasks.list_tasks(_access(world), actor=READER, query=TaskQuery(customer_id=uscc(0)))
    path = f"/console/tasks/{task.task.task_id}"
    page = manager.get(path)
    assert "客户的授信额度与贷款" in page
    line = world.book.lines[uscc(0)]
    assert f'data-line="{line}"' in page
    assert "1,000,000.00" in page  # the line's limit
    assert "（预警所涉额度）" in page
    receipt = world.book.receipts[uscc(0)]
    row = page[page.index(f'data-loan="{receipt}"') :]
    row = row[: row.index("</tr>")]
    assert "借据" in row
    assert "100,000.00" in row
    assert ">40<" in row  # days past due
    english = manager.get(f"{path}?lang=en")
    assert "The customer's lines and loans" in english
    assert "Receipt" in english


def test_a_term_borrowers_task_offers_a_recall_and_no_line_outcomes(world: World) -> None:
    risk = world.staff(Role.RISK_OFFICER)
    (task,) = tasks.list_tasks(
        _access(world), actor=READER, query=TaskQuery(customer_id=TERM_BORROWER)
    )
    path = f"/console/tasks/{task.task.task_id}"
    risk.get(path)
    assert risk.post(f"{path}/claim").status_code == 303
    form = risk.get(path)
    assert 'data-credit="no-line"' in form
    assert 'data-credit="not-offered"' in form
    assert "固定期限贷款" in form
    # Nothing to freeze or reduce: only the outcomes that can act are offered.
    assert 'value="freeze"' not in form
    assert 'value="reduce_limit"' not in form
    assert 'value="recall_early"' in form
    refused = risk.post(f"{path}/complete", {"outcome": "freeze"})
    assert refused.status_code == 409
    assert "没有可冻结或压降的授信额度" in refused.text
    done = risk.post(f"{path}/complete", {"outcome": "recall_early", "note": "factory shut"})
    assert done.status_code == 303, done.text
    stored = tasks.get_task(_access(world), actor=READER, task_id=task.task.task_id)
    assert stored.action is not None
    assert [loan["called_fen"] for loan in stored.action["term_loans"]] == [100_000_00]
    shown = risk.get(done.headers["location"])
    assert "提前收回贷款" in shown
    (loan_id,) = [loan["loan_id"] for loan in stored.action["term_loans"]]
    assert f"贷款 {loan_id} 已提前收回：本金 100,000.00 元及截至当日的利息当日到期。" in shown
    # A branch's term-loan borrower never applied online: no phone, so no SMS; the page says so.
    assert stored.action["notice_missing"] == "no_phone"
    assert "没有借款人的手机号：未发送短信，请以书面形式通知借款人。" in shown
    # The loan, still owed, is marked as called in on the day in the customer's loans.
    row = shown[shown.index(f'data-loan="{loan_id}"') :]
    row = row[: row.index("</tr>")]
    assert "已提前收回" in row
    assert f'data-called-in="{world.api.clock.today().isoformat()}"' in row


def test_a_recall_before_the_end_of_day_has_run_says_so_and_changes_nothing(
    world: World,
) -> None:
    risk = world.staff(Role.RISK_OFFICER)
    (task,) = tasks.list_tasks(
        _access(world), actor=READER, query=TaskQuery(customer_id=BEHIND_BORROWER)
    )
    path = f"/console/tasks/{task.task.task_id}"
    risk.get(path)
    assert risk.post(f"{path}/claim").status_code == 303
    refused = risk.post(f"{path}/complete", {"outcome": "recall_early"})
    assert refused.status_code == 409
    assert "上一营业日的日终处理尚未完成" in refused.text
    stored = tasks.get_task(_access(world), actor=READER, task_id=task.task.task_id)
    assert (stored.task.status, stored.action) == (TaskStatus.CLAIMED, None)


def test_who_may_open_the_post_loan_pages(world: World) -> None:
    ops = world.staff(Role.OPERATIONS)
    assert ops.client.get("/console/alerts").status_code == 403
    assert ops.client.get("/console/tasks").status_code == 403
    assert ops.client.get("/console/collections").status_code == 200
    home = ops.get("/console/")
    assert "/console/collections" in home
    assert "/console/alerts" not in home
    auditor = world.staff(Role.AUDITOR)
    assert auditor.client.get("/console/alerts").status_code == 200
    assert auditor.client.get("/console/tasks").status_code == 403
    approver = world.staff(Role.APPROVER)
    assert approver.client.get("/console/collections").status_code == 403
    missing = world.staff(Role.RISK_OFFICER).client.get("/console/alerts/alrt_none")
    assert missing.status_code == 404
    assert "未找到" in missing.text


def test_signed_out_visitors_are_sent_to_sign_in(world: World) -> None:
    client = world.staff(Role.SUPERVISOR).client
    client.cookies.clear()
    response = client.get("/console/tasks", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/sign-in")
