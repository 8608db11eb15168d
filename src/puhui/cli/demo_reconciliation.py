"""The demo's reconciliation section (还款对账): the collecting channel's files of the last
month written out, and each day reconciled against the books, recorded like any other run.

The channel's record is kept as the borrowers repay (``pipelines.collecting_channel``), apart
from the books; the reconciliation is the operations service's, under the demo's operations
user, so the console's reconciliation page lists it and the files can be uploaded there.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from puhui.bootstrap import Platform
from puhui.cli.demo_report import Section
from puhui.domain.money import format_yuan
from puhui.pipelines.collecting_channel import CollectingChannel
from puhui.services.security.permissions import Principal, Role
from puhui.services.servicing.operations import reconcile_repayments

TITLE = "Repayment reconciliation (还款对账)"
DEMO_OPERATIONS = Principal(user_id="usr_demo_operations", role=Role.OPERATIONS)
DAYS = 31
"""The channel's files written out and reconciled: the simulation's last month, whose monthly
repayment day falls in any 31 days."""


def reconciliation_section(
    platform_: Platform, channel: CollectingChannel, last_day: date, folder: Path
) -> Section:
    """Write the channel's files of the 31 days ending ``last_day`` (a channel sends one each
    day, empty or not) and reconcile each closed day against the books, recorded like any
    run."""
    days = [last_day - timedelta(days=n) for n in range(DAYS - 1, -1, -1)]
    runs = [
        reconcile_repayments(
            platform_.servicing_uow,
            actor=DEMO_OPERATIONS,
            value_date=path_day,
            channel_file=path.read_bytes().decode("utf-8"),
            file_name=path.name,
        )
        for path_day, path in zip(days, channel.write(folder, days), strict=True)
    ]
    broken = [r for r in runs if not r.agrees]
    verdict = (
        "the books and the channel agree on every day"
        if not broken
        else f"{sum(r.breaks_count for r in broken):,} breaks on "
        f"{', '.join(r.value_date.isoformat() for r in broken)} (see the console)"
    )
    return Section(
        TITLE,
        ("", ""),
        rows=[
            ("value dates:", f"{days[0]} .. {days[-1]}, {len(runs)} days reconciled"),
            (
                "matched:",
                f"{sum(r.matched for r in runs):,} repayments, "
                f"{format_yuan(sum(r.matched_fen for r in runs))} yuan",
            ),
            ("result:", verdict),
            ("last recorded:", runs[-1].run_id),
        ],
        notes=[
            f"the channel's files are in {folder}; each day's run is on the console's "
            "end-of-day and reconciliation pages, and `puhui ledger reconciliations` lists them"
        ],
    )
