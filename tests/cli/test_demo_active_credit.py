"""The demo's active credit section, from hand-made figures."""

from __future__ import annotations

from datetime import date

from puhui.bootstrap.demo_prospects import LoadedMonth
from puhui.cli.demo_prospects import LinesGroup, ProspectResults
from puhui.cli.demo_report import active_credit_section, plain_lines


def test_the_section_shows_each_run_the_fast_track_conversions_and_both_groups() -> None:
    results = ProspectResults(
        models="need need-1 and PD gbm@abc",
        months=[
            LoadedMonth(date(2025, 1, 1), listed=166, customers=7, assigned=0, seconds=3.84),
            LoadedMonth(date(2025, 2, 1), listed=1_118, customers=5, assigned=2, seconds=3.5),
        ],
        linked=6,
        lapsed=1,
        again=2,
        conversions={"approved": 5, "pending": 1},
        prospects=LinesGroup(lines=5, defaulted=1, mean_pd=0.0072),
        walk_ins=LinesGroup(lines=69, defaulted=0, mean_pd=0.0099),
        last_day=date(2025, 3, 31),
    )
    lines = plain_lines(active_credit_section(results))
    assert lines[1] == "== Active credit on the platform (主动授信) =="
    assert lines[2] == "models:                need need-1 and PD gbm@abc"
    assert lines[3] == (
        "run for 2025-01:       166 pre-approved (7 already customers), 0 assigned, "
        "run and loaded in 3.8s"
    )
    assert lines[4].startswith("run for 2025-02:       1,118 pre-approved (5 already customers)")
    assert lines[5] == (
        "fast-tracked:          6 applications linked "
        "(not linked: 1 after their offer lapsed, 2 applying again)"
    )
    assert lines[6] == "conversions recorded:  approved 5, declined 0, pending 1"
    assert lines[7] == (
        "from prospects:        5 lines, defaulted by 2025-03-31 1 (20.00%), "
        "mean 12-month PD at booking 0.72%"
    )
    assert lines[8] == (
        "from walk-ins:         69 lines, defaulted by 2025-03-31 0 (0.00%), "
        "mean 12-month PD at booking 0.99%"
    )


def test_no_lines_reads_not_available_rather_than_zero() -> None:
    assert LinesGroup().bad_rate is None
    assert LinesGroup(lines=4, defaulted=1).bad_rate == 0.25
