"""The end of day's portfolio aggregates equal the same figures computed directly from a
small random book, on SQLite and PostgreSQL; a rebuild replaces a date's rows atomically."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest
from small_book import (
    PRODUCTS,
    bucket_of,
    close_day,
    derived_channel,
    expected_origination,
    expected_products,
    expected_split,
    expected_vintages,
    make_book,
    write_book,
)
from sqlalchemy import Engine, inspect, text, update

from puhui.adapters.db.reporting import SqlReportingStore
from puhui.adapters.db.servicing.tables import loans
from puhui.domain.errors import InvalidDate
from puhui.services.reporting.model import PPM, GroupBy, OriginationFigure, share

MONTH_END = date(2026, 2, 28)
MID_MONTH = date(2026, 3, 12)


@pytest.fixture
def book_store(engine: Engine, store: SqlReportingStore):  # type: ignore[no-untyped-def]
    book = make_book(MONTH_END)
    write_book(engine, book)
    close_day(engine, MONTH_END)
    return book, store


def test_balances_buckets_and_categories_equal_a_direct_computation(book_store) -> None:  # type: ignore[no-untyped-def]
    book, store = book_store
    result = store.refresh(MONTH_END)
    assert result.portfolio_rebuilt
    snapshot = store.portfolio(MONTH_END)
    assert snapshot is not None
    expected = expected_products(book)
    assert {p.product_id for p in snapshot.products} == set(PRODUCTS)
    for product in snapshot.products:
        for name, value in expected[product.product_id].items():
            assert getattr(product, name) == value, (product.product_id, name)
    assert snapshot.total.outstanding_principal_fen == sum(
        e["outstanding_principal_fen"] for e in expected.values()
    )
    buckets = expected_split(book, lambda loan: bucket_of(loan["days_past_due"]))
    assert {b.name: (b.loans, b.principal_fen) for b in snapshot.dpd_buckets if b.loans} == buckets
    categories = expected_split(book, lambda loan: loan["category"])
    assert {
        c.name: (c.loans, c.principal_fen) for c in snapshot.categories if c.loans
    } == categories
    assert [c.name for c in snapshot.categories] == [
        "pass",
        "special-mention",
        "substandard",
        "doubtful",
        "loss",
    ]
    bad = sum(v[1] for k, v in categories.items() if k in ("substandard", "doubtful", "loss"))
    assert snapshot.npl_ratio == share(bad, sum(v[1] for v in categories.values()))
    # No month-end states were kept before this one: no roll rates yet.
    assert snapshot.roll_from is None
    assert snapshot.roll_rates == ()


def test_vintage_curves_and_predicted_bad_rate_equal_a_direct_computation(book_store) -> None:  # type: ignore[no-untyped-def]
    book, store = book_store
    store.refresh(MONTH_END)
    report = store.vintages(MONTH_END)
    assert report is not None
    expected = expected_vintages(book)
    assert [v.vintage for v in report.vintages] == sorted(expected)
    for vintage in report.vintages:
        e = expected[vintage.vintage]
        loans, principal = len(e["loans"]), sum(x["principal_fen"] for x in e["loans"])
        assert (vintage.loans, vintage.principal_fen) == (loans, principal)
        assert vintage.months_on_book == e["max_mob"]
        assert vintage.bad30_share == tuple(share(c[0], loans) for c in e["curve"])
        assert vintage.bad30_principal_share == tuple(share(c[1], principal) for c in e["curve"])
        assert vintage.bad90_share == tuple(share(c[2], loans) for c in e["curve"])
        assert vintage.bad90_principal_share == tuple(share(c[3], principal) for c in e["curve"])
        assert vintage.pd_loans == len(e["pds"])
        assert vintage.predicted_bad_rate == share(sum(e["pds"]), len(e["pds"]) * PPM)
        assert vintage.realised_bad90 == vintage.bad90_share[-1]
    # The book has bad loans, cured ones among them: the curves are not trivially zero.
    assert any(v.realised_bad90 for v in report.vintages)


def _counts(figure: OriginationFigure) -> tuple[int, ...]:
    return (
        figure.applications,
        figure.decided,
        figure.approved,
        figure.declined,
        figure.referred,
    )


def _expected_counts(cell: Counter[str]) -> tuple[int, ...]:
    return tuple(cell[n] for n in ("applications", "decided", "approved", "declined", "referred"))


def test_origination_counts_the_business_day_by_derived_channel(book_store) -> None:  # type: ignore[no-untyped-def]
    book, store = book_store
    store.refresh(MONTH_END)
    expected = expected_origination(book, MONTH_END, derived_channel)
    found = store.origination_by_group(MONTH_END, MONTH_END, GroupBy.CHANNEL)
    assert {f.group: _counts(f) for f in found} == {
        k: _expected_counts(v) for k, v in expected.items()
    }
    # Applications of the day and decisions of the day are both there, and differ.
    assert sum(v["applications"] for v in expected.values()) > 0
    assert sum(v["decided"] for v in expected.values()) > 0
    (day,) = store.origination_by_day(MONTH_END, MONTH_END)
    assert day.day == MONTH_END
    assert day.applications == sum(v["applications"] for v in expected.values())
    assert day.approval_rate == share(
        sum(v["approved"] for v in expected.values()), sum(v["decided"] for v in expected.values())
    )


def test_origination_groups_by_the_applications_channel_and_branch_columns(
    engine: Engine, store: SqlReportingStore
) -> None:
    """Where applications record their channel and branch, the figures group by them."""
    book = make_book(MONTH_END)
    present = {c["name"] for c in inspect(engine).get_columns("origination_applications")}
    with engine.begin() as connection:
        # The schema adds them in migration 0018; on a tree without it, the test does.
        for column in ("channel", "branch_code"):
            if column not in present:
                connection.execute(
                    text(f"ALTER TABLE origination_applications ADD COLUMN {column} VARCHAR(16)")
                )
    write_book(engine, book)
    branches = {}
    with engine.begin() as connection:
        for i, app in enumerate(book.applications):
            branch = None if i % 5 == 0 else f"B{i % 3}"
            branches[app["application_id"]] = branch
            connection.execute(
                text(
                    "UPDATE origination_applications SET channel = :c, branch_code = :b"
                    " WHERE application_id = :id"
                ),
                {"c": "h5" if i % 2 else None, "b": branch, "id": app["application_id"]},
            )
    close_day(engine, MONTH_END)
    store.refresh(MONTH_END)
    by_branch = expected_origination(
        book, MONTH_END, lambda app: branches[app["application_id"]] or ""
    )
    found = store.origination_by_group(MONTH_END, MONTH_END, GroupBy.BRANCH)
    assert {f.group: f.applications for f in found if f.applications} == {
        (k or None): v["applications"] for k, v in by_branch.items() if v["applications"]
    }
    channels = {f.group for f in store.origination_by_group(MONTH_END, MONTH_END, GroupBy.CHANNEL)}
    assert "h5" in channels  # the recorded channel, the derived one where none was recorded
    assert channels <= {"h5", "partner", "branch", "qr"}


def test_roll_rates_follow_each_loan_from_the_month_end_bucket(book_store, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    book, store = book_store
    store.refresh(MONTH_END)
    start = {
        loan["loan_id"]: (bucket_of(loan["days_past_due"]), loan["outstanding_principal_fen"])
        for loan in book.loans
        if loan["status"] == "active"
    }
    # A fortnight later: some loans roll forward, some cure, some are repaid.
    moved: dict[str, str] = {}
    with engine.begin() as connection:
        for i, loan_id in enumerate(sorted(start)):
            if i % 4 == 0:
                connection.execute(
                    update(loans).where(loans.c.loan_id == loan_id).values(days_past_due=45)
                )
                moved[loan_id] = "31-60"
            elif i % 4 == 1:
                connection.execute(
                    update(loans).where(loans.c.loan_id == loan_id).values(status="closed")
                )
                moved[loan_id] = "closed"
    close_day(engine, MID_MONTH)
    store.refresh(MID_MONTH)
    snapshot = store.portfolio(MID_MONTH)
    assert snapshot is not None
    assert snapshot.roll_from == MONTH_END
    expected: dict[tuple[str, str], list[int]] = {}
    dpd = {loan["loan_id"]: loan["days_past_due"] for loan in book.loans}
    for loan_id, (bucket, principal) in start.items():
        to = moved.get(loan_id, bucket_of(dpd[loan_id]))
        cell = expected.setdefault((bucket, to), [0, 0])
        cell[0] += 1
        cell[1] += principal
    assert {
        (r.from_bucket, r.to_bucket): [r.loans, r.principal_fen] for r in snapshot.roll_rates
    } == (expected)
    opening: Counter[str] = Counter()
    for (bucket, _), (_, principal) in expected.items():
        opening[bucket] += principal
    for r in snapshot.roll_rates:
        assert r.rate == share(r.principal_fen, opening[r.from_bucket])
    series = store.portfolio_series(MONTH_END - timedelta(days=40), MID_MONTH)
    assert [p.as_of for p in series] == [MONTH_END, MID_MONTH]


def _rows(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    tables = ("report_portfolio", "report_dpd_buckets", "report_categories", "report_vintages")
    with engine.connect() as connection:
        return {
            t: sorted(tuple(r) for r in connection.execute(text(f"SELECT * FROM {t}")))
            for t in tables
        }


def test_a_rebuild_replaces_the_dates_rows_with_the_same_figures(
    book_store, engine: Engine
) -> None:  # type: ignore[no-untyped-def]
    _, store = book_store
    store.refresh(MONTH_END)
    first = _rows(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE report_portfolio SET loans_active = 0"))
    again = store.refresh(MONTH_END)
    assert again.portfolio_rebuilt
    assert _rows(engine) == first


def test_a_date_the_end_of_day_has_not_closed_is_refused(book_store) -> None:  # type: ignore[no-untyped-def]
    _, store = book_store
    with pytest.raises(InvalidDate):
        store.refresh(MONTH_END + timedelta(days=1))
    assert store.latest_as_of() is None


def test_a_past_date_rebuilds_its_origination_only(book_store, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    book, store = book_store
    store.refresh(MONTH_END)
    close_day(engine, MONTH_END + timedelta(days=1))
    result = store.refresh(MONTH_END - timedelta(days=1))
    assert not result.portfolio_rebuilt
    assert store.portfolio(MONTH_END - timedelta(days=1)) is None
    expected = expected_origination(book, MONTH_END - timedelta(days=1), derived_channel)
    (day,) = store.origination_by_day(MONTH_END - timedelta(days=1), MONTH_END - timedelta(days=1))
    assert day.decided == sum(v["decided"] for v in expected.values())
    assert day.approval_rate == share(
        sum(v["approved"] for v in expected.values()), sum(v["decided"] for v in expected.values())
    )
    assert isinstance(day.approval_rate, Decimal)
