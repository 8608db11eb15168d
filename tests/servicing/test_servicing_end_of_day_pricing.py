"""The end of day's SQL prices exactly as the loan account's integer rules, on both databases."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from puhui.adapters.db.servicing.end_of_day import TERM_INTEREST_SQL, price_sql
from puhui.domain.lending.account import MAX_LOAN_PRINCIPAL_FEN
from puhui.domain.lending.integer_interest import (
    RATE_SCALE,
    price_accumulator_fen,
    running_interest_fen,
)

_PRICE = text(
    f"SELECT {price_sql('accumulator', 'rate_e8')} FROM (SELECT CAST(:accumulator AS BIGINT)"
    " AS accumulator, CAST(:rate AS BIGINT) AS rate_e8, CAST(:year_days AS INTEGER) AS"
    " year_days, :half_even AS half_even) AS loan"
)
_RUNNING = text(
    f"SELECT {TERM_INTEREST_SQL} FROM (SELECT CAST(:interest AS BIGINT) AS period_interest_fen,"
    " CAST(:elapsed AS INTEGER) AS period_days_elapsed, CAST(:days AS INTEGER) AS period_days)"
    " AS loan"
)
# Many examples share one database: the queries only read their bound values.
examples = settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])


@examples
@given(
    # A settlement cycle of at most 31 days on at most 10 million yuan (ADR 0004's bounds).
    accumulator=st.integers(0, MAX_LOAN_PRINCIPAL_FEN * 31),
    rate=st.integers(0, 2 * RATE_SCALE),
    year_days=st.sampled_from([360, 365]),
    half_even=st.booleans(),
)
def test_sql_prices_balance_days_by_the_accounts_rule(
    engine: Engine, accumulator: int, rate: int, year_days: int, half_even: bool
) -> None:
    with engine.connect() as connection:
        priced = connection.execute(
            _PRICE,
            {
                "accumulator": accumulator,
                "rate": rate,
                "year_days": year_days,
                "half_even": half_even,
            },
        ).scalar_one()
    assert priced == price_accumulator_fen(accumulator, rate, year_days, half_even=half_even)


@examples
@given(
    interest=st.integers(0, MAX_LOAN_PRINCIPAL_FEN),
    days=st.integers(1, 62),
    data=st.data(),
)
def test_sql_accrues_a_term_loans_period_by_the_accounts_rule(
    engine: Engine, interest: int, days: int, data: st.DataObject
) -> None:
    elapsed = data.draw(st.integers(0, days - 1))
    with engine.connect() as connection:
        accrued = connection.execute(
            _RUNNING, {"interest": interest, "elapsed": elapsed, "days": days}
        ).scalar_one()
    # The SQL accrues the day being closed: ``period_days_elapsed + 1`` days of the period.
    assert accrued == running_interest_fen(interest, elapsed + 1, days)
    if elapsed + 1 == days:
        assert accrued == interest
