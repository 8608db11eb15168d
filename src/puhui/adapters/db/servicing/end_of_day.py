"""The end of day in SQL: each step is a few statements over all loans, one transaction each.

Portable SQL (SQLite 3.33+ and PostgreSQL). Money stays in 64-bit integers: the balance-days
accumulators (积数) are fen×days, rates are integers of 1e-8, and each price is rounded once
with integer division, so SQLite and PostgreSQL agree to the fen with the loan account's rule
``puhui.domain.lending.integer_interest.price_accumulator_fen``.
"""

# The SQL below is composed from module constants only, never from input: values are bound.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Date, Engine, bindparam, func, select, text
from sqlalchemy.sql.elements import TextClause

from puhui.adapters.db.audit_repository import SqlAuditLog
from puhui.adapters.db.reporting.snapshot import build_snapshot
from puhui.adapters.db.servicing.observation import restart_observations
from puhui.adapters.db.servicing.repositories import BUSINESS_DAY_LOCK, SqlLedger
from puhui.adapters.db.servicing.tables import eod_runs, eod_steps
from puhui.domain.audit import AuditRecord
from puhui.domain.clock import Clock
from puhui.domain.ledger import JournalEntry
from puhui.domain.lending.delinquency import (
    DOUBTFUL_AFTER_DAYS,
    LOSS_AFTER_DAYS,
    SUBSTANDARD_AFTER_DAYS,
    FiveCategory,
)
from puhui.domain.lending.integer_interest import RATE_SCALE
from puhui.services.servicing.end_of_day import AccrualKind, AccrualTotal, RunState, Step

_ELIGIBLE = (
    "status = 'active' AND (accrued_through = :prev"
    " OR (accrued_through IS NULL AND disbursed_on <= :d))"
)
# Overdue transitions seen at the start of day D: principal after maturity, billed amounts
# after their due date. Right-hand sides of an UPDATE read the old row, so these compose.
_OVERDUE_PRINCIPAL = (
    "(CASE WHEN maturity_date < :d THEN outstanding_principal_fen"
    " WHEN billed_due_on IS NOT NULL AND billed_due_on < :d THEN billed_principal_fen"
    " ELSE overdue_principal_fen END)"
)
_OVERDUE_INTEREST = (
    "(CASE WHEN billed_due_on IS NOT NULL AND billed_due_on < :d"
    " THEN interest_billed_fen ELSE overdue_interest_fen END)"
)
_NEWLY_OVERDUE = (
    f"({_OVERDUE_PRINCIPAL} > 0 OR {_OVERDUE_INTEREST} > 0 OR (billed_due_on IS NOT NULL"
    " AND billed_due_on < :d AND penalty_billed_fen + compound_billed_fen > 0))"
)
_SETTLES = "(settlement_day = :day OR maturity_date = :d)"
# Settling makes what is billed due tomorrow, but never pulls in a later due date: billed
# amounts a restructuring brought forward fall due with its first new instalment
# (``LoanAccount.arrears_brought_forward``). No other path sets a date beyond tomorrow.
_KEEP_LATER_DUE = "(CASE WHEN billed_due_on > :next THEN billed_due_on ELSE :next END)"
# A term loan's interest is billed with its instalment, due on the instalment's date: settling
# its penalties that night (on the settlement day, or at maturity with the last instalment or a
# recall) must not carry what is billed one day later. Only a receipt's settled interest is
# new on the night, and so due tomorrow.
_SETTLED_DUE = (
    "(CASE WHEN kind = 'term' AND billed_due_on IS NOT NULL THEN billed_due_on"
    f" ELSE {_KEEP_LATER_DUE} END)"
)
# A receipt's interest is settled with its penalties; a term loan's is billed per instalment.
_SETTLES_INTEREST = f"(kind = 'receipt' AND {_SETTLES})"

# Only receipts accrue interest by balance-days; term loans spread the scheduled interest.
_INTEREST_ACCUM = (
    "(interest_accum_fen_days + CASE WHEN kind = 'receipt'"
    f" THEN outstanding_principal_fen - {_OVERDUE_PRINCIPAL} ELSE 0 END)"
)
_PENALTY_ACCUM = f"(penalty_accum_fen_days + {_OVERDUE_PRINCIPAL})"
_COMPOUND_ACCUM = f"(compound_accum_fen_days + {_OVERDUE_INTEREST})"


def price_sql(accumulator: str, rate_column: str) -> str:
    """accumulator × rate / (year days × 1e8), rounded half-up or half-even, integers only:
    ``domain.lending.integer_interest.price_accumulator_fen`` in SQL."""
    product = f"({accumulator} * {rate_column})"
    divisor = f"(CAST(year_days AS BIGINT) * {RATE_SCALE})"
    quotient = f"({product} / {divisor})"
    twice_remainder = f"(2 * ({product} % {divisor}))"
    return (
        f"({quotient} + CASE WHEN {twice_remainder} > {divisor} OR ({twice_remainder} = {divisor}"
        f" AND (NOT half_even OR {quotient} % 2 = 1)) THEN 1 ELSE 0 END)"
    )


# A term loan accrues its running instalment's interest pro rata to the days elapsed,
# rounded half-up; at the instalment's due date the accrual is exactly the scheduled interest
# (``domain.lending.integer_interest.running_interest_fen`` in SQL).
TERM_INTEREST_SQL = (
    "((2 * period_interest_fen * (period_days_elapsed + 1) + period_days) / (2 * period_days))"
)
_INTEREST_PRICE = (
    f"(CASE WHEN kind = 'term' THEN {TERM_INTEREST_SQL}"
    f" ELSE {price_sql(_INTEREST_ACCUM, 'rate_e8')} END)"
)
_PENALTY_PRICE = price_sql(_PENALTY_ACCUM, "penalty_rate_e8")
_COMPOUND_PRICE = price_sql(_COMPOUND_ACCUM, "penalty_rate_e8")

_INSERT_ACCRUALS = f"""
INSERT INTO accrual_entries
    (as_of, loan_id, product_id, kind, memo, interest_fen, penalty_fen, compound_fen)
SELECT :d, loan_id, product_id, 'accrual', non_accrual,
       new_interest - interest_accrued_fen,
       new_penalty - penalty_accrued_fen,
       new_compound - compound_accrued_fen
FROM (
    SELECT loan_id, product_id, non_accrual,
           interest_accrued_fen, penalty_accrued_fen, compound_accrued_fen,
           {_INTEREST_PRICE} AS new_interest,
           {_PENALTY_PRICE} AS new_penalty,
           {_COMPOUND_PRICE} AS new_compound
    FROM loans WHERE {_ELIGIBLE}
) AS priced
WHERE new_interest <> interest_accrued_fen
   OR new_penalty <> penalty_accrued_fen
   OR new_compound <> compound_accrued_fen
"""


def _settled(accumulated: str, settles: str = _SETTLES) -> str:
    return f"CASE WHEN {settles} THEN 0 ELSE {accumulated} END"


def _billed(column: str, price: str, settles: str = _SETTLES) -> str:
    return f"{column} + CASE WHEN {settles} THEN {price} ELSE 0 END"


_UPDATE_LOANS = f"""
UPDATE loans SET
    overdue_principal_fen = {_OVERDUE_PRINCIPAL},
    overdue_interest_fen = {_OVERDUE_INTEREST},
    overdue_since = CASE WHEN overdue_since IS NOT NULL THEN overdue_since
                         WHEN {_NEWLY_OVERDUE} THEN :d ELSE NULL END,
    days_past_due = CASE WHEN overdue_since IS NOT NULL THEN days_past_due + 1
                         WHEN {_NEWLY_OVERDUE} THEN 1 ELSE 0 END,
    memo_interest_fen = memo_interest_fen + CASE WHEN non_accrual
                         THEN {_INTEREST_PRICE} - interest_accrued_fen ELSE 0 END,
    memo_penalty_fen = memo_penalty_fen + CASE WHEN non_accrual
                         THEN {_PENALTY_PRICE} - penalty_accrued_fen
                            + {_COMPOUND_PRICE} - compound_accrued_fen ELSE 0 END,
    interest_billed_fen = {_billed("interest_billed_fen", _INTEREST_PRICE, _SETTLES_INTEREST)},
    penalty_billed_fen = {_billed("penalty_billed_fen", _PENALTY_PRICE)},
    compound_billed_fen = {_billed("compound_billed_fen", _COMPOUND_PRICE)},
    billed_due_on = CASE WHEN {_SETTLES} AND interest_billed_fen + penalty_billed_fen
                         + compound_billed_fen + {_PENALTY_PRICE}
                         + CASE WHEN kind = 'receipt' THEN {_INTEREST_PRICE} ELSE 0 END
                         + {_COMPOUND_PRICE} > 0
                         THEN {_SETTLED_DUE} ELSE billed_due_on END,
    interest_accum_fen_days = {_settled(_INTEREST_ACCUM)},
    interest_accrued_fen = {_settled(_INTEREST_PRICE, _SETTLES_INTEREST)},
    penalty_accum_fen_days = {_settled(_PENALTY_ACCUM)},
    penalty_accrued_fen = {_settled(_PENALTY_PRICE)},
    compound_accum_fen_days = {_settled(_COMPOUND_ACCUM)},
    compound_accrued_fen = {_settled(_COMPOUND_PRICE)},
    period_days_elapsed = CASE WHEN kind = 'term' THEN period_days_elapsed + 1 ELSE 0 END,
    accrued_through = :d
WHERE {_ELIGIBLE}
"""

# Term loans whose instalment falls due tomorrow: bill it tonight (interest and principal,
# payable tomorrow, overdue the day after) and start accruing the next instalment.
_BILLED_TONIGHT = (
    "status = 'active' AND kind = 'term' AND accrued_through = :d AND next_due_date = :next"
)
_INSERT_BILLING = f"""
INSERT INTO accrual_entries
    (as_of, loan_id, product_id, kind, memo, interest_fen, penalty_fen, compound_fen)
SELECT :d, loan_id, product_id, 'billing', non_accrual,
       period_interest_fen - interest_accrued_fen, 0, 0
FROM loans WHERE {_BILLED_TONIGHT} AND period_interest_fen <> interest_accrued_fen
"""


def _next_instalment(column: str, default: str) -> str:
    return (
        f"COALESCE((SELECT i.{column} FROM loan_instalments i WHERE i.loan_id = loans.loan_id"
        f" AND i.period = loans.current_period + 1), {default})"
    )


_UPDATE_BILLING = f"""
UPDATE loans SET
    interest_billed_fen = interest_billed_fen + period_interest_fen,
    billed_principal_fen = billed_principal_fen + period_principal_fen,
    billed_due_on = :next,
    memo_interest_fen = memo_interest_fen + CASE WHEN non_accrual
                         THEN period_interest_fen - interest_accrued_fen ELSE 0 END,
    interest_accrued_fen = 0,
    current_period = current_period + 1,
    period_days_elapsed = 0,
    next_due_date = (SELECT i.due_date FROM loan_instalments i WHERE i.loan_id = loans.loan_id
                     AND i.period = loans.current_period + 1),
    period_interest_fen = {_next_instalment("interest_fen", "0")},
    period_principal_fen = {_next_instalment("principal_fen", "0")},
    period_days = {_next_instalment("period_days", "1")}
WHERE {_BILLED_TONIGHT}
"""

# Floors of the 2023 risk-classification measures (CBIRC/PBOC Order 2023 No. 1), the same
# rule as ``puhui.domain.lending.delinquency.classify``: overdue beyond the technical grace is
# 关注, more than 90 days 次级, more than 270 可疑, more than 360 损失.
CATEGORY_SQL = f"""(CASE WHEN days_past_due > {LOSS_AFTER_DAYS} THEN '{FiveCategory.LOSS.value}'
    WHEN days_past_due > {DOUBTFUL_AFTER_DAYS} THEN '{FiveCategory.DOUBTFUL.value}'
    WHEN days_past_due > {SUBSTANDARD_AFTER_DAYS} THEN '{FiveCategory.SUBSTANDARD.value}'
    WHEN days_past_due > grace_days THEN '{FiveCategory.SPECIAL_MENTION.value}'
    ELSE '{FiveCategory.PASS.value}' END)"""
_CLOSED_TODAY = "status = 'active' AND accrued_through = :d"


def _rank(category: str) -> str:
    whens = " ".join(f"WHEN '{c.value}' THEN {c.rank}" for c in FiveCategory)
    return f"(CASE {category} {whens} END)"


def _worse(a: str, b: str) -> str:
    return f"(CASE WHEN {a} >= {b} THEN {a} ELSE {b} END)"


# Restructured loans (docs/loan-changes.md, ``domain.lending.loan_changes``): inside the
# observation period at least 关注, 可疑 after a second restructuring inside it, and a
# non-performing loan is not upgraded (the row's category before tonight stays the floor).
_OBSERVATION_FLOOR = (
    "(SELECT MAX(CASE WHEN c.second_in_observation THEN 3 ELSE 1 END) FROM loan_changes c"
    " WHERE c.loan_id = loans.loan_id AND c.status = 'approved'"
    " AND (c.kind = 'restructuring' OR c.in_difficulty) AND c.effective_on <= :d"
    " AND (c.observation_ends_on IS NULL OR c.observation_ends_on >= :d))"
)
_KEPT_NON_PERFORMING = (
    f"(CASE WHEN {_rank('category')} >= {FiveCategory.SUBSTANDARD.rank}"
    f" THEN {_rank('category')} ELSE 0 END)"
)
_RESTRUCTURING_FLOOR = (
    f"(CASE WHEN {_OBSERVATION_FLOOR} IS NULL THEN 0"
    f" ELSE {_worse(_OBSERVATION_FLOOR, _KEPT_NON_PERFORMING)} END)"
)
CLASSIFIED_SQL = (
    "(CASE "
    + _worse(_rank(CATEGORY_SQL), _RESTRUCTURING_FLOOR)
    + " "
    + " ".join(f"WHEN {c.rank} THEN '{c.value}'" for c in FiveCategory)
    + " END)"
)
"""The DPD floors, then the restructuring floors of the 2023 measures."""

_INSERT_HISTORY = f"""
INSERT INTO category_history (loan_id, changed_on, from_category, to_category, days_past_due)
SELECT loan_id, :d, category, {CLASSIFIED_SQL}, days_past_due
FROM loans WHERE {_CLOSED_TODAY} AND category <> {CLASSIFIED_SQL}
"""
_UPDATE_CATEGORY = f"""
UPDATE loans SET category = {CLASSIFIED_SQL} WHERE {_CLOSED_TODAY} AND category <> {CLASSIFIED_SQL}
"""
_ENTERS_NON_ACCRUAL = f"{_CLOSED_TODAY} AND NOT non_accrual AND days_past_due > non_accrual_days"
_INSERT_NON_ACCRUAL = f"""
INSERT INTO accrual_entries
    (as_of, loan_id, product_id, kind, memo, interest_fen, penalty_fen, compound_fen)
SELECT :d, loan_id, product_id, 'non_accrual', FALSE,
       interest_accrued_fen + interest_billed_fen - memo_interest_fen,
       penalty_accrued_fen + penalty_billed_fen + compound_accrued_fen + compound_billed_fen
           - memo_penalty_fen,
       0
FROM loans WHERE {_ENTERS_NON_ACCRUAL}
"""
_UPDATE_NON_ACCRUAL = f"""
UPDATE loans SET
    non_accrual = TRUE,
    memo_interest_fen = interest_accrued_fen + interest_billed_fen,
    memo_penalty_fen = penalty_accrued_fen + penalty_billed_fen
        + compound_accrued_fen + compound_billed_fen
WHERE {_ENTERS_NON_ACCRUAL}
"""
_ACCRUAL_TOTALS = """
SELECT product_id, CASE WHEN kind = 'non_accrual' THEN kind ELSE 'accrual' END AS booked,
       memo, SUM(interest_fen), SUM(penalty_fen + compound_fen)
FROM accrual_entries WHERE as_of = :d
GROUP BY product_id, CASE WHEN kind = 'non_accrual' THEN kind ELSE 'accrual' END, memo
"""


def _statement(sql: str) -> TextClause:
    names = [n for n in ("d", "prev", "next") if f":{n}" in sql]
    return text(sql).bindparams(*(bindparam(n, type_=Date) for n in names))


_STATEMENTS: dict[Step, tuple[TextClause, ...]] = {
    Step.ACCRUE: (
        _statement(_INSERT_ACCRUALS),
        _statement(_UPDATE_LOANS),
        _statement(_INSERT_BILLING),
        _statement(_UPDATE_BILLING),
    ),
    Step.CLASSIFY: (
        _statement(_INSERT_HISTORY),
        _statement(_UPDATE_CATEGORY),
        _statement(_INSERT_NON_ACCRUAL),
        _statement(_UPDATE_NON_ACCRUAL),
    ),
}


class SqlEndOfDayStore:
    """Each public method runs in its own transaction and commits before returning."""

    def __init__(self, engine: Engine, *, clock: Clock, audit_key: bytes | None = None) -> None:
        """With ``audit_key``, each completed date is also an event on the audit chain."""
        self._engine = engine
        self._clock = clock
        self._audit_key = audit_key

    def _state(self, connection: Connection, as_of: date) -> RunState | None:
        status = connection.execute(
            select(eod_runs.c.status).where(eod_runs.c.as_of == as_of)
        ).scalar_one_or_none()
        if status is None:
            return None
        steps = connection.execute(
            select(eod_steps.c.step).where(eod_steps.c.as_of == as_of)
        ).scalars()
        return RunState(
            as_of=as_of,
            completed=status == "completed",
            steps_done=frozenset(Step(s) for s in steps),
        )

    def last_run(self) -> RunState | None:
        with self._engine.connect() as connection:
            last = connection.execute(select(func.max(eod_runs.c.as_of))).scalar_one()
            return None if last is None else self._state(connection, last)

    def run(self, as_of: date) -> RunState | None:
        with self._engine.connect() as connection:
            return self._state(connection, as_of)

    def start(self, as_of: date) -> None:
        with self._engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Wait for units of work that found the day open to finish (repositories'
                # BUSINESS_DAY_LOCK); any that start later see it closed.
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": BUSINESS_DAY_LOCK}
                )
            connection.execute(
                eod_runs.insert().values(
                    as_of=as_of, status="running", started_at=self._clock.now(), finished_at=None
                )
            )

    def _mark(self, connection: Connection, as_of: date, step: Step, rows: int) -> None:
        connection.execute(
            eod_steps.insert().values(
                as_of=as_of, step=step.value, rows_affected=rows, finished_at=self._clock.now()
            )
        )

    def run_step(self, as_of: date, step: Step) -> int:
        params: dict[str, Any] = {
            "d": as_of,
            "prev": as_of - timedelta(days=1),
            "next": as_of + timedelta(days=1),
            "day": as_of.day,
        }
        rows = 0
        with self._engine.begin() as connection:
            if step is Step.REPORT:
                rows = build_snapshot(connection, as_of, self._clock.now())
            if step is Step.CLASSIFY:
                # Before the categories: a missed payment restarts a restructuring's
                # observation period (the 2023 measures; docs/loan-changes.md).
                rows = restart_observations(
                    connection, as_of, clock=self._clock, audit_key=self._audit_key
                )
            for statement in _STATEMENTS.get(step, ()):
                needed = {k: v for k, v in params.items() if f":{k}" in statement.text}
                rows += max(0, connection.execute(statement, needed).rowcount)
            self._mark(connection, as_of, step, rows)
        return rows

    def accrual_totals(self, as_of: date) -> list[AccrualTotal]:
        with self._engine.connect() as connection:
            result = connection.execute(_statement(_ACCRUAL_TOTALS), {"d": as_of})
            return [
                AccrualTotal(
                    product_id=product_id,
                    kind=AccrualKind(kind),
                    memo=bool(memo),
                    interest_fen=int(interest),
                    penalty_fen=int(penalty),
                )
                for product_id, kind, memo, interest, penalty in result
            ]

    def post_ledger(self, as_of: date, entries: Sequence[JournalEntry]) -> int:
        with self._engine.begin() as connection:
            ledger = SqlLedger(connection, self._clock)
            for entry in entries:
                ledger.post(entry)
            self._mark(connection, as_of, Step.POST_LEDGER, len(entries))
        return len(entries)

    def complete(self, as_of: date) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                eod_runs.update()
                .where(eod_runs.c.as_of == as_of)
                .values(status="completed", finished_at=self._clock.now())
            )
            if self._audit_key is not None:
                steps = connection.execute(
                    select(eod_steps.c.step, eod_steps.c.rows_affected).where(
                        eod_steps.c.as_of == as_of
                    )
                ).all()
                SqlAuditLog(connection, clock=self._clock, key=self._audit_key).append(
                    AuditRecord(
                        actor="end-of-day",
                        action="eod.completed",
                        entity="business_day",
                        entity_id=as_of.isoformat(),
                        payload={step: int(rows) for step, rows in steps},
                    )
                )
