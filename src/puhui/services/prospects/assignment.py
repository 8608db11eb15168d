"""Which account manager works a prospect: the managers of its region, in turn.

A manager covers region codes (GB/T 2260: a province's 2 digits, a city's 4, a district's 6);
a prospect goes to the managers of the longest code that prefixes its own, so a district's
managers take its prospects before the city's do. Within those managers prospects are dealt in
priority order to whoever holds the fewest open prospects of the month (ties by user id): round
robin when they start even, and it evens out a manager who joins mid-month. Deterministic: the
same list, territories and holdings give the same assignment. A prospect of a region nobody
covers stays unassigned (the branch queue, any manager may take it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from puhui.services.prospects.ports import ProspectRecord


def managers_for(region_code: str, territories: Mapping[str, Sequence[str]]) -> Sequence[str]:
    """The managers of the longest covered code prefixing ``region_code`` (none: empty)."""
    for length in range(len(region_code), 0, -1):
        managers = territories.get(region_code[:length])
        if managers:
            return managers
    return ()


def assign(
    prospects: Sequence[ProspectRecord],
    territories: Mapping[str, Sequence[str]],
    holdings: Mapping[str, int],
) -> dict[str, str]:
    """Prospect id -> manager for the unassigned ``prospects`` (those nobody covers omitted)."""
    held = dict(holdings)
    chosen: dict[str, str] = {}
    for record in sorted(prospects, key=lambda r: (r.row.priority, r.row.uscc)):
        if record.assigned_to is not None:
            continue
        managers = managers_for(record.row.region_code, territories)
        if not managers:
            continue
        manager = min(sorted(managers), key=lambda user: held.get(user, 0))
        held[manager] = held.get(manager, 0) + 1
        chosen[record.prospect_id] = manager
    return chosen
