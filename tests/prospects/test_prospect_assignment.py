"""Which manager gets a prospect: the longest covering region code, fewest open first."""

from __future__ import annotations

from datetime import UTC, datetime

from prospect_support import row

from puhui.domain.prospects import ProspectStatus
from puhui.services.prospects.assignment import assign, managers_for
from puhui.services.prospects.ports import ProspectRecord

NOW = datetime(2026, 3, 2, tzinfo=UTC)


def _record(n: int, region: str, assigned_to: str | None = None) -> ProspectRecord:
    return ProspectRecord(
        prospect_id=f"prs_{n}",
        row=row(n, region=region),
        run_id="prun_1",
        status=ProspectStatus.NEW,
        created_at=NOW,
        updated_at=NOW,
        assigned_to=assigned_to,
    )


def test_the_longest_covering_code_wins() -> None:
    territories = {"33": ["usr_province"], "3301": ["usr_city"], "330106": ["usr_district"]}
    assert managers_for("330106", territories) == ["usr_district"]
    assert managers_for("330102", territories) == ["usr_city"]
    assert managers_for("330201", territories) == ["usr_province"]
    assert managers_for("440101", territories) == ()


def test_prospects_are_dealt_in_priority_order_to_the_least_loaded() -> None:
    prospects = [_record(n, "330102") for n in (3, 0, 2, 1, 4)]
    chosen = assign(prospects, {"3301": ["usr_b", "usr_a"]}, {"usr_a": 1})
    # usr_b starts one behind and takes the first; then they are even and alternate, ties
    # going to the smaller user id.
    assert [chosen[f"prs_{n}"] for n in range(5)] == ["usr_b", "usr_a", "usr_b", "usr_a", "usr_b"]


def test_assigned_and_uncovered_prospects_are_left_alone() -> None:
    prospects = [_record(0, "330102", "usr_kept"), _record(1, "440101"), _record(2, "330102")]
    assert assign(prospects, {"3301": ["usr_a"]}, {}) == {"prs_2": "usr_a"}
