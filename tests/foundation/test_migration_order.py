"""`puhui db status` lists pending migrations in an order they can be applied in."""

from __future__ import annotations

import pytest

from puhui.adapters.db.migrate import in_order


def test_branches_are_listed_by_number_once_their_parent_is_in() -> None:
    parents = {
        "0001": set(),
        "0004": {"0001"},
        "0003": {"0001"},
        "0002": {"0001"},
        "0005": {"0002", "0003", "0004"},
        "0006": {"0005"},
    }
    assert in_order(parents) == ["0001", "0002", "0003", "0004", "0005", "0006"]


def test_a_revision_waits_for_what_it_needs_whatever_its_number() -> None:
    # 0002 was written on a branch that needs 0003: the number alone would put it first.
    assert in_order({"0001": set(), "0002": {"0003"}, "0003": {"0001"}}) == [
        "0001",
        "0003",
        "0002",
    ]


def test_needs_already_applied_are_not_waited_for() -> None:
    # Only revisions in the map are pending; a parent outside it is applied already.
    assert in_order({"0043": {"0042"}, "0044": {"0043"}}) == ["0043", "0044"]


def test_a_cycle_is_refused() -> None:
    with pytest.raises(RuntimeError, match="cycle"):
        in_order({"0001": {"0002"}, "0002": {"0001"}})
