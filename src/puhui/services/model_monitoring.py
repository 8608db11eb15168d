"""Monitor a model in production: stability, decisions and outcomes; alerts into the audit trail."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from typing import Protocol

import polars as pl

from puhui.domain.errors import InvalidDate
from puhui.risk.monitoring import MonitoringResult, MonitoringThresholds, ReferenceProfile, monitor
from puhui.services.audit import record
from puhui.services.ports import UnitOfWork

logger = logging.getLogger(__name__)

ALERT_ACTION = "model.monitoring_alert"
ALERT_ENTITY = "model"


class DecisionHistory(Protocol):
    """What monitoring reads from the stored decisions and from servicing."""

    def scored_applications(
        self, model_version: str, first_month: date, last_month: date
    ) -> pl.DataFrame:
        """Applications the model scored with a decision date in the months (inclusive).

        Columns: ``month`` (``YYYY-MM`` text or the first day of the month), ``score``,
        ``pd``, ``outcome`` (approve / decline / refer) and one column per model input,
        named as the model names it, holding the value the model was given.
        """
        ...

    def booked_outcomes(self, model_version: str, as_of: date) -> pl.DataFrame:
        """Every loan booked on a decision of the model, with its outcome as of ``as_of``.

        Columns: ``booking_month``, ``pd`` (at decision), ``months_on_book`` (whole months
        from booking to ``as_of``, closed loans included), ``bad`` (1 if it reached 90+ days
        past due by ``as_of``) and ``months_to_bad`` (months on book when it first did; null
        when it has not).
        """
        ...


def month_start(text: str) -> date:
    """``YYYY-MM`` → the first day of that month; anything else is refused."""
    year, sep, month = text.partition("-")
    if not (sep and len(year) == 4 and len(month) == 2 and year.isdigit() and month.isdigit()):
        raise InvalidDate(f"a month is written YYYY-MM, got {text!r}")
    if not 1 <= int(month) <= 12:
        raise InvalidDate(f"month {month} must be 01..12")
    return date(int(year), int(month), 1)


def month_end(first_day: date) -> date:
    """The last day of the month that ``first_day`` opens."""
    following = date(first_day.year + first_day.month // 12, first_day.month % 12 + 1, 1)
    return following - timedelta(days=1)


def monitor_model(
    history: DecisionHistory,
    uow_factory: Callable[[], UnitOfWork],
    *,
    model_version: str,
    first_month: str,
    last_month: str,
    reference: ReferenceProfile | None,
    today: date,
    actor: str,
    thresholds: MonitoringThresholds | None = None,
    notes: tuple[str, ...] = (),
) -> MonitoringResult:
    """Measure the model over the decision months and record one audit event per alert.

    Outcomes are read as of the end of ``last_month`` (or ``today`` if that is earlier), so a
    run over a past window gives the same vintages whenever it is repeated.
    """
    first, last = month_start(first_month), month_start(last_month)
    if last < first:
        raise InvalidDate(f"--to {last_month} is before --from {first_month}")
    as_of = min(month_end(last), today)
    scored = history.scored_applications(model_version, first, last)
    booked = history.booked_outcomes(model_version, as_of)
    result = monitor(
        scored,
        booked,
        reference,
        model_version=model_version,
        first_month=f"{first:%Y-%m}",
        last_month=f"{last:%Y-%m}",
        thresholds=thresholds,
    )
    if notes:
        result = replace(result, notes=(*notes, *result.notes))
    if result.alerts:
        with uow_factory() as uow:
            for alert in result.alerts:
                record(
                    uow,
                    actor=actor,
                    action=ALERT_ACTION,
                    entity=ALERT_ENTITY,
                    entity_id=model_version,
                    payload={
                        **alert.to_dict(),
                        "first_month": result.first_month,
                        "last_month": result.last_month,
                        "outcomes_as_of": as_of.isoformat(),
                    },
                )
            uow.commit()
        logger.warning(
            "model %s: %d monitoring alert(s): %s",
            model_version,
            len(result.alerts),
            ", ".join(a.code.value for a in result.alerts),
        )
    return result
