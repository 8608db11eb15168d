"""Load a pre-approval run into the configured platform (``puhui prospect run --load``).

The batch hands over its rows once they are all computed; this loads them in one transaction
on the platform's database (``services.prospects.loading``): a batch that fails before the
hand-over, or a load that fails, leaves the month's list as it was.
"""

from __future__ import annotations

from collections.abc import Sequence

from puhui.adapters.notify.log import LogNotifier
from puhui.bootstrap.container import Platform, build_platform
from puhui.bootstrap.settings import Settings
from puhui.domain.errors import ConfigurationError, InvalidInput
from puhui.domain.prospects import ProspectRow
from puhui.services.prospects import loading, offers
from puhui.services.prospects.loading import LoadReport
from puhui.services.prospects.offers import DispatchReport
from puhui.services.prospects.ports import RunMeta
from puhui.services.security.permissions import SYSTEM, Principal

BATCH = Principal(user_id="prospect-run", role=SYSTEM.role)
"""The pre-approval batch as it is audited (``admin:prospect-run``)."""


def load_run(settings: Settings, rows: Sequence[ProspectRow], *, run_meta: RunMeta) -> LoadReport:
    """Load ``rows`` (one month's full list) as that month's current list.

    The month is the rows' own; an empty list names no month and is refused (a run that
    pre-approves nobody has nothing to load: the month's list stays as it was).
    """
    if not rows:
        raise InvalidInput("the run pre-approved no enterprise: nothing to load")
    platform = build_platform(settings)
    try:
        return load_run_on(platform, rows, run_meta=run_meta)
    finally:
        platform.close()


def load_run_on(
    platform: Platform, rows: Sequence[ProspectRow], *, run_meta: RunMeta
) -> LoadReport:
    """:func:`load_run` on a platform already built: the demo's, whose clock is simulated
    (the run is stamped with the simulated day, not the machine's)."""
    if not rows:
        raise InvalidInput("the run pre-approved no enterprise: nothing to load")
    status = platform.database.status()
    if not status.up_to_date:
        raise ConfigurationError(
            "the platform database is not migrated to the latest schema: run `puhui db upgrade`"
        )
    return loading.load_run(
        platform.prospect_access(),
        actor=BATCH,
        month=rows[0].month,
        rows=rows,
        meta=run_meta,
    )


def dispatch(settings: Settings, *, limit: int = 100) -> DispatchReport:
    """Deliver the outbox's pending offers through the log notifier (masked phones)."""
    platform = build_platform(settings)
    try:
        return offers.dispatch_outbox(
            platform.prospect_access(), LogNotifier(), actor=BATCH, limit=limit
        )
    finally:
        platform.close()
