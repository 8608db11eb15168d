"""The demo's reconciliation section (还款对账): the collecting channel's files of the last
week written out, and the last day reconciled against the books, recorded like any other run.

The channel's record is kept as the borrowers repay (``pipelines.collecting_channel``), apart
from the books; the reconciliation is the operations service's, under the demo's operations
user, so the console's reconciliation page lists it and the files can be uploaded there.
"""

from __future__ import annotations

from pathlib import Path

from puhui.bootstrap import Platform
from puhui.cli.demo_report import Section
from puhui.domain.money import format_yuan
from puhui.pipelines.collecting_channel import CollectingChannel
from puhui.services.security.permissions import Principal, Role
from puhui.services.servicing.operations import reconcile_repayments

TITLE = "Repayment reconciliation (还款对账)"
DEMO_OPERATIONS = Principal(user_id="usr_demo_operations", role=Role.OPERATIONS)
FILES_KEPT = 7
"""The channel's files written out: the last week it collected on."""


def reconciliation_section(
    platform_: Platform, channel: CollectingChannel, folder: Path
) -> Section:
    """Write the channel's last files; reconcile the last day it collected on (closed by the
    simulation's last end of day) and report the recorded run."""
    days = channel.days()
    if not days:
        return Section(TITLE, ("", ""), notes=["the channel collected nothing"])
    files = channel.write(folder, days[-FILES_KEPT:])
    last = files[-1]
    run = reconcile_repayments(
        platform_.servicing_uow,
        actor=DEMO_OPERATIONS,
        value_date=days[-1],
        channel_file=last.read_bytes().decode("utf-8"),
        file_name=last.name,
    )
    verdict = (
        "the books and the channel agree"
        if run.agrees
        else f"{run.breaks_count:,} breaks (see the console)"
    )
    return Section(
        TITLE,
        ("", ""),
        rows=[
            ("value date:", run.value_date.isoformat()),
            ("channel file:", str(last)),
            ("matched:", f"{run.matched:,} repayments, {format_yuan(run.matched_fen)} yuan"),
            ("result:", verdict),
            ("recorded as:", run.run_id),
        ],
        notes=[
            f"the channel's files of its last {len(files)} days are in {folder}; "
            "reconcile any of them in the console (/console/reconciliation) or with "
            "`puhui ledger reconcile-repayments`"
        ],
    )
