"""Which customers are under an early-warning alert, for the concentration evaluation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from puhui.adapters.db.post_loan.unit_of_work import MonitoringUnitOfWork


class SqlUnderAlert:
    """A customer is under alert on a day when an alert raised on or before that day is still
    open or acknowledged (an evaluation of a past day sees the alerts as they stand now)."""

    def __init__(self, units: Callable[[], MonitoringUnitOfWork]) -> None:
        self._units = units

    def customers_under_alert(
        self, customer_ids: Sequence[str], *, as_of: dt.date
    ) -> frozenset[str]:
        with self._units() as uow:
            alerts = uow.monitoring.open_alerts(customer_ids)
        return frozenset(
            record.alert.customer_id for record in alerts if record.alert.run_date <= as_of
        )
