"""The prospects seam: asked each month, applications of prospects marked and counted."""

from __future__ import annotations

from datetime import date

from puhui.pipelines.prospect_channel import MonthConversion, ProspectTally

JAN, FEB = date(2025, 1, 1), date(2025, 2, 1)


class Listed:
    """A hand-written pre-approval by month."""

    def __init__(self, listed: dict[date, list[str]]) -> None:
        self.listed = listed
        self.told: list[tuple[str, str, date]] = []

    def month_started(self, month: date) -> list[str]:
        return self.listed[month]

    def applied(self, uscc: str, application_id: str, on: date) -> None:
        self.told.append((uscc, application_id, on))


def test_only_the_month_s_prospects_are_marked_told_and_counted() -> None:
    channel = Listed({JAN: ["U1", "U2"], FEB: ["U3"]})
    tally = ProspectTally(channel)
    tally.applied("U1", "AP0", "app_0", date(2024, 12, 30))  # before any list: not a prospect
    tally.month_started(JAN)
    tally.applied("U1", "AP1", "app_1", date(2025, 1, 9))
    tally.applied("U9", "AP2", "app_2", date(2025, 1, 9))  # never pre-approved
    tally.line_opened("AP1")
    tally.line_opened("AP2")
    tally.month_started(FEB)
    tally.applied("U2", "AP3", "app_3", date(2025, 2, 3))  # January's list only
    tally.applied("U3", "AP4", "app_4", date(2025, 2, 4))
    assert channel.told == [("U1", "app_1", date(2025, 1, 9)), ("U3", "app_4", date(2025, 2, 4))]
    assert tally.applications == {"AP1", "AP4"}
    assert tally.months == [MonthConversion(JAN, 2, 1, 1), MonthConversion(FEB, 1, 1, 0)]
    assert [m.conversion for m in tally.months] == [0.5, 1.0]
    assert MonthConversion(FEB, 0).conversion is None
