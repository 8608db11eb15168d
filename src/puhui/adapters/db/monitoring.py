"""Model monitoring's view of the database: stored decisions and how their loans turned out."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Engine, and_, func, select

from puhui.adapters.db.documents import document_from_text
from puhui.adapters.db.engine import READ_ONLY_OPTION
from puhui.adapters.db.origination.tables import applications, decision_records
from puhui.adapters.db.servicing.tables import category_history, credit_lines, loans

BAD_DAYS_PAST_DUE = 90
"""A loan is bad from the day it is more than 90 days past due (substandard or worse)."""


def _months_between(first: date, last: date) -> int:
    """Whole months from ``first`` to ``last`` (a day short of a month counts nothing)."""
    months = (last.year - first.year) * 12 + last.month - first.month
    return months - (1 if last.day < first.day else 0)


def _month(day: date) -> date:
    return date(day.year, day.month, 1)


class SqlDecisionHistory:
    """``services.model_monitoring.DecisionHistory`` over stored decisions and servicing."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _rows(self, query: Any) -> list[Any]:
        with self._engine.connect() as connection:
            connection.execution_options(**{READ_ONLY_OPTION: True})
            rows = list(connection.execute(query))
            connection.rollback()
        return rows

    def scored_applications(
        self, model_version: str, first_month: date, last_month: date
    ) -> pl.DataFrame:
        following = date(last_month.year + last_month.month // 12, last_month.month % 12 + 1, 1)
        column = decision_records.c
        rows = self._rows(
            select(column.record_json)
            .where(
                column.model_version == model_version,
                column.as_of >= first_month,
                column.as_of < following,
            )
            .order_by(column.as_of, column.application_id)
        )
        records: list[dict[str, Any]] = []
        for row in rows:
            document = document_from_text(row.record_json)
            evidence = document["evidence"]
            records.append(
                {
                    "month": _month(date.fromisoformat(evidence["as_of"])),
                    "score": evidence["model_score"],
                    "pd": evidence["model_pd"],
                    "outcome": document["outcome"],
                    **evidence["features"],
                }
            )
        if not records:
            return pl.DataFrame(
                schema={
                    "month": pl.Date(),
                    "score": pl.Float64(),
                    "pd": pl.Float64(),
                    "outcome": pl.String(),
                }
            )
        return pl.DataFrame(records, infer_schema_length=None)

    def booked_outcomes(self, model_version: str, as_of: date) -> pl.DataFrame:
        decisions, apps = decision_records.c, applications.c
        first_bad = (
            select(
                loans.c.line_id,
                func.min(category_history.c.changed_on).label("bad_on"),
            )
            .join(category_history, category_history.c.loan_id == loans.c.loan_id)
            .where(
                category_history.c.days_past_due > BAD_DAYS_PAST_DUE,
                category_history.c.changed_on <= as_of,
                loans.c.line_id.is_not(None),
            )
            .group_by(loans.c.line_id)
            .subquery()
        )
        rows = self._rows(
            select(
                credit_lines.c.opened_on,
                decisions.record_json,
                first_bad.c.bad_on,
            )
            .join(applications, apps.application_id == decisions.application_id)
            .join(credit_lines, credit_lines.c.line_id == apps.credit_line_id)
            .join(first_bad, first_bad.c.line_id == credit_lines.c.line_id, isouter=True)
            .where(
                and_(decisions.model_version == model_version, credit_lines.c.opened_on <= as_of)
            )
            .order_by(credit_lines.c.opened_on)
        )
        booked = []
        for row in rows:
            evidence = document_from_text(row.record_json)["evidence"]
            bad_on: date | None = row.bad_on
            booked.append(
                {
                    "booking_month": _month(row.opened_on),
                    "pd": evidence["model_pd"],
                    "months_on_book": _months_between(row.opened_on, as_of),
                    "bad": 0 if bad_on is None else 1,
                    "months_to_bad": None
                    if bad_on is None
                    else _months_between(row.opened_on, bad_on),
                }
            )
        return pl.DataFrame(
            booked,
            schema={
                "booking_month": pl.Date(),
                "pd": pl.Float64(),
                "months_on_book": pl.Int64(),
                "bad": pl.Int64(),
                "months_to_bad": pl.Int64(),
            },
        )
