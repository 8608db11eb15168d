"""Build one date's portfolio aggregates in SQL: set-based, inside the caller's transaction.

The end of day calls :func:`build_snapshot` as its last step, in the step's transaction, so a
date's aggregates appear with its close or not at all; a rebuild deletes that date's rows
and writes them again, atomically. Every statement reads the book once with GROUP BY; only
the vintage curves are cumulated in Python, over a few hundred grouped rows.

This module names the servicing and origination tables in its SQL instead of importing their
definitions: servicing's end of day imports it, and packages never import each other.
"""

# The SQL below is composed from module constants and enum values only; values are bound.
# ruff: noqa: S608

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, Date, bindparam, inspect, text
from sqlalchemy.sql.elements import TextClause

from puhui.adapters.db.columns import UtcDateTime
from puhui.adapters.db.reporting.tables import (
    report_snapshots,
    report_vintage_pd,
    report_vintages,
)
from puhui.domain.clock import BANK_ZONE
from puhui.domain.lending.delinquency import FiveCategory
from puhui.services.reporting.model import (
    BAD30_AFTER_DAYS,
    BAD90_AFTER_DAYS,
    CLOSED,
    WRITTEN_OFF,
    DpdBucket,
)

VINTAGE_MONTHS = 36
"""Vintage curves cover loans disbursed in the last 36 months (the as-of month included)."""

PER_DATE_TABLES = (
    "report_portfolio",
    "report_dpd_buckets",
    "report_categories",
    "report_roll_rates",
    "report_loan_changes",
    "report_vintages",
    "report_vintage_pd",
    "report_snapshots",
)
"""Tables holding one set of rows per snapshot date (origination is per day, see below)."""


def bucket_sql(days_column: str) -> str:
    """The DPD bucket of a loan, as SQL over its days-past-due column."""
    arms = " ".join(
        f"WHEN {days_column} <= {b.upper_days} THEN '{b.value}'"
        for b in DpdBucket
        if b.upper_days is not None
    )
    return f"(CASE {arms} ELSE '{DpdBucket.DPD_90_PLUS.value}' END)"


_NON_PERFORMING = ", ".join(f"'{c.value}'" for c in FiveCategory if c.is_non_performing)

# Lines count per product beside loans: one pass over each table, summed per product.
_INSERT_PORTFOLIO = """
INSERT INTO report_portfolio
    (as_of, product_id, loans_active, outstanding_principal_fen, overdue_principal_fen,
     interest_receivable_fen, penalty_receivable_fen, non_accrual_interest_fen,
     lines_open, lines_frozen, limit_fen, drawn_fen, available_fen)
SELECT :d, product_id, SUM(loans_active), SUM(outstanding), SUM(overdue), SUM(interest),
       SUM(penalty), SUM(memo), SUM(lines_open), SUM(lines_frozen), SUM(limit_fen),
       SUM(drawn_fen), SUM(available_fen)
FROM (
    SELECT product_id, COUNT(*) AS loans_active,
           SUM(outstanding_principal_fen) AS outstanding,
           SUM(overdue_principal_fen) AS overdue,
           SUM(interest_accrued_fen + interest_billed_fen) AS interest,
           SUM(penalty_accrued_fen + penalty_billed_fen + compound_accrued_fen
               + compound_billed_fen) AS penalty,
           SUM(CASE WHEN non_accrual THEN memo_interest_fen + memo_penalty_fen ELSE 0 END)
               AS memo,
           0 AS lines_open, 0 AS lines_frozen, 0 AS limit_fen, 0 AS drawn_fen,
           0 AS available_fen
    FROM loans WHERE status = 'active' GROUP BY product_id
    UNION ALL
    SELECT product_id, 0, 0, 0, 0, 0, 0,
           SUM(CASE WHEN expiry_date >= :d THEN 1 ELSE 0 END),
           SUM(CASE WHEN expiry_date >= :d AND status = 'frozen' THEN 1 ELSE 0 END),
           SUM(CASE WHEN expiry_date >= :d THEN limit_fen ELSE 0 END),
           SUM(drawn_fen),
           SUM(CASE WHEN expiry_date >= :d AND status = 'active' AND limit_fen > drawn_fen
                    THEN limit_fen - drawn_fen ELSE 0 END)
    FROM credit_lines GROUP BY product_id
) AS parts
GROUP BY product_id
"""
_INSERT_BUCKETS = f"""
INSERT INTO report_dpd_buckets (as_of, bucket, loans, principal_fen)
SELECT :d, {bucket_sql("days_past_due")}, COUNT(*), SUM(outstanding_principal_fen)
FROM loans WHERE status = 'active'
GROUP BY {bucket_sql("days_past_due")}
"""
_INSERT_CATEGORIES = """
INSERT INTO report_categories (as_of, category, loans, principal_fen)
SELECT :d, category, COUNT(*), SUM(outstanding_principal_fen)
FROM loans WHERE status = 'active' GROUP BY category
"""
# Renewed (the new loan, 无还本续贷), extended (展期) and restructured (重组) loans still
# active: counted and summed by the kind of approved change in force, so that reporting flags
# them; their category is the 2023 rules' (a renewal itself downgrades nothing).
_INSERT_LOAN_CHANGES = f"""
INSERT INTO report_loan_changes (as_of, kind, loans, principal_fen, non_performing_loans)
SELECT :d, k.kind, COUNT(*), COALESCE(SUM(l.outstanding_principal_fen), 0),
       SUM(CASE WHEN l.category IN ({_NON_PERFORMING}) THEN 1 ELSE 0 END)
FROM (SELECT DISTINCT c.kind,
             CASE WHEN c.kind = 'renewal' THEN c.new_loan_id ELSE c.loan_id END AS loan_id
      FROM loan_changes c WHERE c.status = 'approved' AND c.effective_on <= :d) k
JOIN loans l ON l.loan_id = k.loan_id
WHERE l.status = 'active'
GROUP BY k.kind
"""
_INSERT_LOAN_BUCKETS = f"""
INSERT INTO report_loan_buckets (as_of, loan_id, bucket, principal_fen)
SELECT :d, loan_id, {bucket_sql("days_past_due")}, outstanding_principal_fen
FROM loans WHERE status = 'active'
"""
_TARGET = (
    f"(CASE WHEN l.status = 'active' THEN {bucket_sql('l.days_past_due')}"
    f" WHEN l.status = 'written_off' THEN '{WRITTEN_OFF}' ELSE '{CLOSED}' END)"
)
_INSERT_ROLL_RATES = f"""
INSERT INTO report_roll_rates (as_of, from_bucket, to_bucket, loans, principal_fen)
SELECT :d, b.bucket, {_TARGET}, COUNT(*), SUM(b.principal_fen)
FROM report_loan_buckets b JOIN loans l ON l.loan_id = b.loan_id
WHERE b.as_of = :roll_from
GROUP BY b.bucket, {_TARGET}
"""
_HAS_LOAN_BUCKETS = "SELECT COUNT(*) FROM report_loan_buckets WHERE as_of = :roll_from"
_PRUNE_LOAN_BUCKETS = "DELETE FROM report_loan_buckets WHERE as_of < :roll_from OR as_of = :d"

_FIRST_90_SQL = f"""(SELECT loan_id, MIN(changed_on) AS first90 FROM category_history
    WHERE to_category IN ({_NON_PERFORMING}) GROUP BY loan_id)"""


def _add_days(column: str, days: int, dialect: str) -> str:
    if dialect == "sqlite":
        return f"date({column}, '{days:+d} days')"
    return f"({column} + {days})"


def _first_bad_statements(dialect: str) -> tuple[str, ...]:
    """Record when loans first went 30+ and 90+, from the current delinquency episode
    (DPD is 1 on ``overdue_since``, so it passes N days on ``overdue_since + N``) and from the
    classification history (the first move to 次级 or worse is the first day beyond 90)."""
    spread = BAD90_AFTER_DAYS - BAD30_AFTER_DAYS
    bad30 = (
        f"CASE WHEN h.first90 IS NOT NULL THEN {_add_days('h.first90', -spread, dialect)}"
        f" WHEN l.days_past_due > {BAD30_AFTER_DAYS}"
        f" THEN {_add_days('l.overdue_since', BAD30_AFTER_DAYS, dialect)} END"
    )
    bad90 = (
        f"CASE WHEN h.first90 IS NOT NULL THEN h.first90"
        f" WHEN l.days_past_due > {BAD90_AFTER_DAYS}"
        f" THEN {_add_days('l.overdue_since', BAD90_AFTER_DAYS, dialect)} END"
    )
    insert = f"""
INSERT INTO report_first_bad (loan_id, bad30_on, bad90_on)
SELECT l.loan_id, {bad30}, {bad90}
FROM loans l LEFT JOIN {_FIRST_90_SQL} h ON h.loan_id = l.loan_id
WHERE ((l.days_past_due > {BAD30_AFTER_DAYS} AND l.overdue_since IS NOT NULL)
       OR h.first90 IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM report_first_bad b WHERE b.loan_id = l.loan_id)
"""
    update = f"""
UPDATE report_first_bad SET bad90_on = (
    SELECT {_add_days("l.overdue_since", BAD90_AFTER_DAYS, dialect)} FROM loans l
    WHERE l.loan_id = report_first_bad.loan_id)
WHERE bad90_on IS NULL AND EXISTS (
    SELECT 1 FROM loans l WHERE l.loan_id = report_first_bad.loan_id
    AND l.days_past_due > {BAD90_AFTER_DAYS} AND l.overdue_since IS NOT NULL)
"""
    return insert, update


def month_key_sql(column: str, dialect: str) -> str:
    """Months since year 0 (year × 12 + month − 1) of a date column."""
    if dialect == "sqlite":
        year = f"CAST(strftime('%Y', {column}) AS INTEGER)"
        month = f"CAST(strftime('%m', {column}) AS INTEGER)"
    else:
        year = f"CAST(EXTRACT(YEAR FROM {column}) AS INTEGER)"
        month = f"CAST(EXTRACT(MONTH FROM {column}) AS INTEGER)"
    return f"({year} * 12 + {month} - 1)"


def month_key(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_of_key(key: int) -> date:
    return date(key // 12, key % 12 + 1, 1)


def _pd_ppm_sql(dialect: str) -> str:
    """The decision's PD (stored as decimal text in its JSON record) in parts per million."""
    if dialect == "sqlite":
        value = "CAST(json_extract(d.record_json, '$.pd') AS REAL)"
        return f"CAST(ROUND({value} * 1000000) AS INTEGER)"
    value = "CAST(CAST(d.record_json AS json) ->> 'pd' AS NUMERIC)"
    return f"CAST(ROUND({value} * 1000000) AS BIGINT)"


def _line_pd_sql(dialect: str) -> str:
    """Copy the PD of lines opened since the last night: each decision's JSON is read once."""
    return f"""
INSERT INTO report_line_pd (line_id, pd_ppm)
SELECT a.credit_line_id, MAX({_pd_ppm_sql(dialect)})
FROM origination_applications a
JOIN origination_decisions d ON d.application_id = a.application_id
WHERE a.credit_line_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM report_line_pd p WHERE p.line_id = a.credit_line_id)
GROUP BY a.credit_line_id
"""


def _vintage_sql(dialect: str) -> str:
    vintage = month_key_sql("l.disbursed_on", dialect)

    def mob(column: str) -> str:
        return (
            f"CASE WHEN {column} IS NOT NULL AND {column} <= :d"
            f" THEN {month_key_sql(column, dialect)} - {vintage} END"
        )

    return f"""
SELECT {vintage} AS vintage_key, {mob("b.bad30_on")} AS mob30, {mob("b.bad90_on")} AS mob90,
       COUNT(*), SUM(l.principal_fen), COUNT(p.pd_ppm), SUM(p.pd_ppm)
FROM loans l
LEFT JOIN report_first_bad b ON b.loan_id = l.loan_id
LEFT JOIN report_line_pd p ON p.line_id = l.line_id
WHERE l.disbursed_on <= :d AND l.disbursed_on >= :first_vintage
GROUP BY 1, 2, 3
"""


# The channel an application came through when it recorded none: the names
# ``services.origination.assessing.channel_of`` gives (a partner's key, an account manager,
# or the owner's phone after scanning a QR code).
_DERIVED_CHANNEL = (
    "(CASE WHEN a.partner_id IS NOT NULL THEN 'partner'"
    " WHEN a.account_manager_id IS NOT NULL THEN 'branch' ELSE 'qr' END)"
)


def origination_groups(connection: Connection) -> tuple[str, str]:
    """The channel and branch expressions over ``origination_applications a``: its own
    ``channel`` and ``branch_code`` columns where the schema has them, else what can be
    derived (the channel from who applied; no branch)."""
    columns = {c["name"] for c in inspect(connection).get_columns("origination_applications")}
    channel = (
        f"COALESCE(a.channel, {_DERIVED_CHANNEL})" if "channel" in columns else _DERIVED_CHANNEL
    )
    branch = "COALESCE(a.branch_code, '')" if "branch_code" in columns else "''"
    return channel, branch


def _origination_sql(channel: str, branch: str) -> str:
    return f"""
INSERT INTO report_origination
    (as_of, channel, branch_code, applications, decided, approved, declined, referred)
SELECT :d, channel, branch_code, SUM(applications), SUM(decided), SUM(approved),
       SUM(declined), SUM(referred)
FROM (
    SELECT {channel} AS channel, {branch} AS branch_code, COUNT(*) AS applications,
           0 AS decided, 0 AS approved, 0 AS declined, 0 AS referred
    FROM origination_applications a
    WHERE a.created_at >= :day_start AND a.created_at < :day_end
    GROUP BY 1, 2
    UNION ALL
    SELECT {channel}, {branch}, 0, COUNT(*),
           SUM(CASE WHEN d.outcome = 'approve' THEN 1 ELSE 0 END),
           SUM(CASE WHEN d.outcome = 'decline' THEN 1 ELSE 0 END),
           SUM(CASE WHEN d.outcome = 'refer' THEN 1 ELSE 0 END)
    FROM origination_decisions d
    JOIN origination_applications a ON a.application_id = d.application_id
    WHERE d.as_of = :d
    GROUP BY 1, 2
) AS events
GROUP BY channel, branch_code
"""


_DATE_PARAMS = ("d", "roll_from", "first_vintage")
_TIME_PARAMS = ("day_start", "day_end")


def _statement(sql: str) -> TextClause:
    binds = [bindparam(n, type_=Date) for n in _DATE_PARAMS if f":{n}" in sql]
    binds += [bindparam(n, type_=UtcDateTime()) for n in _TIME_PARAMS if f":{n}" in sql]
    return text(sql).bindparams(*binds)


def _execute(connection: Connection, sql: str, params: dict[str, Any]) -> int:
    statement = _statement(sql)
    needed = {k: v for k, v in params.items() if f":{k}" in sql}
    return max(0, connection.execute(statement, needed).rowcount)


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The business day in UTC instants: [00:00, next 00:00) in the bank's zone."""
    start = datetime.combine(day, time(), BANK_ZONE)
    end = datetime.combine(day + timedelta(days=1), time(), BANK_ZONE)
    return start.astimezone(UTC), end.astimezone(UTC)


def build_origination(
    connection: Connection, day: date, groups: tuple[str, str] | None = None
) -> int:
    """Replace one business day's origination figures; returns rows written. ``groups``:
    :func:`origination_groups` of this database, when the caller knows them already."""
    connection.execute(_statement("DELETE FROM report_origination WHERE as_of = :d"), {"d": day})
    start, end = day_bounds(day)
    channel, branch = groups or origination_groups(connection)
    return _execute(
        connection,
        _origination_sql(channel, branch),
        {"d": day, "day_start": start, "day_end": end},
    )


def build_snapshot(connection: Connection, as_of: date, built_at: datetime) -> int:
    """Replace the aggregates of ``as_of`` from the book as it stands; returns rows written.

    The caller vouches that the book is that of ``as_of`` (its end of day ran through
    classification) and owns the transaction.
    """
    dialect = connection.dialect.name
    month_start = as_of.replace(day=1)
    roll_from = month_start - timedelta(days=1)
    first_vintage = month_of_key(month_key(as_of) - VINTAGE_MONTHS + 1)
    params: dict[str, Any] = {"d": as_of, "roll_from": roll_from, "first_vintage": first_vintage}
    for table in PER_DATE_TABLES:
        _execute(connection, f"DELETE FROM {table} WHERE as_of = :d", params)
    rows = _execute(connection, _INSERT_PORTFOLIO, params)
    rows += _execute(connection, _INSERT_BUCKETS, params)
    rows += _execute(connection, _INSERT_CATEGORIES, params)
    rows += _execute(connection, _INSERT_LOAN_CHANGES, params)
    for sql in _first_bad_statements(dialect):
        rows += _execute(connection, sql, params)
    has_start = connection.execute(_statement(_HAS_LOAN_BUCKETS), {"roll_from": roll_from})
    rolls_known = bool(has_start.scalar_one())
    if rolls_known:
        rows += _execute(connection, _INSERT_ROLL_RATES, params)
    if (as_of + timedelta(days=1)).day == 1:
        # A month end: keep each loan's bucket for next month's roll rates, and only the
        # states a later roll can still start from.
        _execute(connection, _PRUNE_LOAN_BUCKETS, params)
        rows += _execute(connection, _INSERT_LOAN_BUCKETS, params)
    rows += _execute(connection, _line_pd_sql(dialect), params)
    rows += _write_vintages(connection, as_of, first_vintage, dialect)
    rows += build_origination(connection, as_of)
    connection.execute(
        report_snapshots.insert().values(
            as_of=as_of, built_at=built_at, roll_from=roll_from if rolls_known else None
        )
    )
    return rows + 1


@dataclass
class _VintageTally:
    loans: int = 0
    principal_fen: int = 0
    pd_loans: int = 0
    pd_sum_ppm: int = 0
    bad30: dict[int, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    bad90: dict[int, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))


def _write_vintages(connection: Connection, as_of: date, first_vintage: date, dialect: str) -> int:
    tallies: dict[int, _VintageTally] = defaultdict(_VintageTally)
    grouped = connection.execute(
        _statement(_vintage_sql(dialect)), {"d": as_of, "first_vintage": first_vintage}
    )
    for vintage_key, mob30, mob90, loans, principal, pd_loans, pd_sum in grouped:
        tally = tallies[int(vintage_key)]
        tally.loans += int(loans)
        tally.principal_fen += int(principal or 0)
        tally.pd_loans += int(pd_loans)
        tally.pd_sum_ppm += int(pd_sum or 0)
        for events, mob in ((tally.bad30, mob30), (tally.bad90, mob90)):
            if mob is not None:
                counted = events[max(0, int(mob))]
                counted[0] += int(loans)
                counted[1] += int(principal or 0)
    curves = list(_curve_rows(as_of, tallies))
    if curves:
        connection.execute(report_vintages.insert(), curves)
    pds = [
        {
            "as_of": as_of,
            "vintage": month_of_key(key),
            "pd_loans": t.pd_loans,
            "pd_sum_ppm": t.pd_sum_ppm,
        }
        for key, t in sorted(tallies.items())
    ]
    if pds:
        connection.execute(report_vintage_pd.insert(), pds)
    return len(curves) + len(pds)


def _curve_rows(as_of: date, tallies: dict[int, _VintageTally]) -> Iterable[dict[str, Any]]:
    """Each vintage's cumulative bad counts at every month on book up to ``as_of``."""
    last = month_key(as_of)
    for key, tally in sorted(tallies.items()):
        bad30 = [0, 0]
        bad90 = [0, 0]
        for months_on_book in range(last - key + 1):
            for running, events in ((bad30, tally.bad30), (bad90, tally.bad90)):
                seen = events.get(months_on_book)
                if seen is not None:
                    running[0] += seen[0]
                    running[1] += seen[1]
            yield {
                "as_of": as_of,
                "vintage": month_of_key(key),
                "months_on_book": months_on_book,
                "loans": tally.loans,
                "principal_fen": tally.principal_fen,
                "bad30_loans": bad30[0],
                "bad30_principal_fen": bad30[1],
                "bad90_loans": bad90[0],
                "bad90_principal_fen": bad90[1],
            }


__all__ = [
    "VINTAGE_MONTHS",
    "bucket_sql",
    "build_origination",
    "build_snapshot",
    "day_bounds",
    "month_key",
    "month_of_key",
    "origination_groups",
]
