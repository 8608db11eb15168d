"""The monitoring use case: reads the decision history, records one audit event per alert."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

from puhui.domain.errors import InvalidDate
from puhui.risk.monitoring import AlertCode, MonitoringResult
from puhui.services.model_monitoring import ALERT_ACTION, monitor_model, month_end, month_start

sys.path.insert(0, str(Path(__file__).parent))

from model_monitoring_fakes import (
    AuditStore,
    FakeDecisionHistory,
    FakeUnitOfWork,
    booked_frame,
    reference_profile,
    scored_frame,
)


def _run(
    history: FakeDecisionHistory, store: AuditStore, *, today: date = date(2026, 6, 15)
) -> MonitoringResult:
    return monitor_model(
        history,
        lambda: FakeUnitOfWork(store),
        model_version="model_abc",
        first_month="2026-01",
        last_month="2026-03",
        reference=reference_profile(),
        today=today,
        actor="model-monitor",
    )


def test_a_shifted_score_raises_an_alert_recorded_in_the_audit_trail() -> None:
    history = FakeDecisionHistory(
        scored_frame(650.0, 3000, ["2026-01", "2026-02", "2026-03"]),
        booked_frame(400, bad_share=0.05),
    )
    store = AuditStore()
    result = _run(history, store)
    # the window and each of its three months
    assert [(a.code, a.subject) for a in result.alerts] == [
        (AlertCode.SCORE_PSI_SHIFTED, "score"),
        (AlertCode.SCORE_PSI_SHIFTED, "score 2026-01"),
        (AlertCode.SCORE_PSI_SHIFTED, "score 2026-02"),
        (AlertCode.SCORE_PSI_SHIFTED, "score 2026-03"),
    ]
    assert store.commits == 1
    assert len(store.committed) == 4
    event, record = store.committed[0]
    assert (event.action, event.entity, event.entity_id, event.actor) == (
        ALERT_ACTION,
        "model",
        "model_abc",
        "model-monitor",
    )
    assert record.payload["code"] == "score_psi_shifted"
    assert record.payload["severity"] == "alert"
    assert record.payload["subject"] == "score"
    assert record.payload["value"] == result.score_psi
    assert record.payload["first_month"] == "2026-01"
    assert record.payload["outcomes_as_of"] == "2026-03-31"
    assert [r.payload["subject"] for _, r in store.committed[1:]] == [
        "score 2026-01",
        "score 2026-02",
        "score 2026-03",
    ]


def test_every_alert_is_its_own_audit_event() -> None:
    history = FakeDecisionHistory(
        scored_frame(650.0, 3000, ["2026-01"]),
        booked_frame(400, bad_share=0.20),  # four times the predicted 5%
    )
    store = AuditStore()
    result = monitor_model(
        history,
        lambda: FakeUnitOfWork(store),
        model_version="model_abc",
        first_month="2026-01",
        last_month="2026-01",
        reference=reference_profile(),
        today=date(2026, 6, 15),
        actor="model-monitor",
    )
    codes = [a.code for a in result.alerts]
    assert AlertCode.BAD_RATE_ABOVE_PREDICTED in codes
    assert [r.payload["code"] for _, r in store.committed] == [c.value for c in codes]
    assert store.commits == 1


def test_a_stable_model_writes_nothing_to_the_audit_trail() -> None:
    history = FakeDecisionHistory(
        scored_frame(600.0, 3000, ["2026-01"], seed=9), booked_frame(400, bad_share=0.05)
    )
    store = AuditStore()
    result = _run(history, store)
    assert result.alerts == ()
    assert store.committed == []
    assert store.commits == 0


def test_outcomes_are_read_at_the_end_of_the_window_or_today_if_earlier() -> None:
    history = FakeDecisionHistory(
        scored_frame(600.0, 10, ["2026-01"]), booked_frame(0, bad_share=0)
    )
    _run(history, AuditStore(), today=date(2026, 6, 15))
    _run(history, AuditStore(), today=date(2026, 3, 10))
    assert history.calls == [
        ("scored", "model_abc", date(2026, 1, 1), date(2026, 3, 1)),
        ("booked", "model_abc", date(2026, 3, 31)),
        ("scored", "model_abc", date(2026, 1, 1), date(2026, 3, 1)),
        ("booked", "model_abc", date(2026, 3, 10)),
    ]


def test_a_window_that_ends_before_it_starts_or_a_bad_month_is_refused() -> None:
    history = FakeDecisionHistory(
        scored_frame(600.0, 10, ["2026-01"]), booked_frame(0, bad_share=0)
    )
    with pytest.raises(InvalidDate):
        monitor_model(
            history,
            lambda: FakeUnitOfWork(AuditStore()),
            model_version="m",
            first_month="2026-03",
            last_month="2026-01",
            reference=None,
            today=date(2026, 6, 1),
            actor="model-monitor",
        )
    for text in ("2026-1", "2026-13", "26-01", "2026/01"):
        with pytest.raises(InvalidDate):
            month_start(text)
    assert month_end(date(2024, 2, 1)) == date(2024, 2, 29)
    assert month_end(date(2026, 12, 1)) == date(2026, 12, 31)


def test_without_a_reference_the_use_case_says_so_and_still_reports_outcomes() -> None:
    history = FakeDecisionHistory(
        scored_frame(650.0, 3000, ["2026-01"]), booked_frame(400, bad_share=0.05)
    )
    store = AuditStore()
    result = monitor_model(
        history,
        lambda: FakeUnitOfWork(store),
        model_version="model_old",
        first_month="2026-01",
        last_month="2026-01",
        reference=None,
        today=date(2026, 6, 15),
        actor="model-monitor",
        notes=("an extra note from the caller",),
    )
    assert result.score_psi is None
    assert result.notes[0] == "an extra note from the caller"
    assert any("without a reference profile" in n for n in result.notes)
    assert result.vintages[0].n == 400
    assert store.committed == []
