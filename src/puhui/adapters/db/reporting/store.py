"""The reporting store on SQL: rebuilds a date's aggregates and reads them for the pages."""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    column,
    func,
    literal,
    select,
    table,
    text,
    union_all,
)

from puhui.adapters.db.engine import READ_ONLY_OPTION
from puhui.adapters.db.reporting.green import green_loan_book
from puhui.adapters.db.reporting.snapshot import (
    build_origination,
    build_snapshot,
    origination_groups,
)
from puhui.adapters.db.reporting.tables import (
    report_categories,
    report_dpd_buckets,
    report_loan_changes,
    report_origination,
    report_portfolio,
    report_roll_rates,
    report_snapshots,
    report_vintage_pd,
    report_vintages,
)
from puhui.domain.clock import Clock
from puhui.domain.errors import Conflict, InvalidDate
from puhui.domain.lending.delinquency import FiveCategory
from puhui.services.reporting.green import GreenLoanLine
from puhui.services.reporting.model import (
    LOAN_CHANGE_KINDS,
    PPM,
    ROLL_TARGETS,
    BucketFigure,
    DpdBucket,
    GroupBy,
    LoanChangeFigure,
    OriginationFigure,
    PortfolioPoint,
    PortfolioSnapshot,
    ProductBalances,
    RefreshResult,
    RollFigure,
    Vintage,
    VintageReport,
    share,
)

_BALANCE_FIELDS = tuple(
    c.name for c in report_portfolio.columns if c.name not in ("as_of", "product_id")
)
_DPD30_BUCKETS = (DpdBucket.DPD_31_60.value, DpdBucket.DPD_61_90.value, DpdBucket.DPD_90_PLUS.value)
_NON_PERFORMING = tuple(c.value for c in FiveCategory if c.is_non_performing)
_PRODUCTS = table("loan_products", column("product_id"), column("code"))
"""Servicing's products table, named lightly (servicing imports this package for its step)."""
_LAST_RUN = text("SELECT as_of, status FROM eod_runs ORDER BY as_of DESC LIMIT 1")


class EndOfDayNotClosed(Conflict):
    """The date's book is not final: its end of day has not completed."""

    code = "end_of_day_not_closed"


def _int(value: Any) -> int:
    return 0 if value is None else int(value)


def _figures(rows: Sequence[Any], names: tuple[str, ...]) -> tuple[BucketFigure, ...]:
    found = {name: (_int(loans), _int(principal)) for name, loans, principal in rows}
    total = sum(principal for _, principal in found.values())
    return tuple(
        BucketFigure(
            name=name,
            loans=found.get(name, (0, 0))[0],
            principal_fen=found.get(name, (0, 0))[1],
            principal_share=share(found.get(name, (0, 0))[1], total),
        )
        for name in names
    )


def _month_ends(since: date, until: date) -> list[date]:
    ends: list[date] = []
    year, month = since.year, since.month
    while True:
        end = date(year, month, calendar.monthrange(year, month)[1])
        if end >= until:
            break
        if end >= since:
            ends.append(end)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return [*ends, until]


class SqlReportingStore:
    """``ReportingStore`` over the ``report_*`` tables."""

    def __init__(self, engine: Engine, *, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock
        self._groups: tuple[str, str] | None = None

    def _reader(self) -> Connection:
        # Read-only: on SQLite it takes no write lock, so the end of day never waits on a page.
        return self._engine.connect().execution_options(**{READ_ONLY_OPTION: True})

    def green_loans(self) -> list[GreenLoanLine]:
        return green_loan_book(self._engine)

    def refresh(self, as_of: date) -> RefreshResult:
        with self._engine.begin() as connection:
            last = connection.execute(_LAST_RUN).one_or_none()
            last_day = None if last is None else _as_date(last[0])
            if last_day is None or as_of > last_day:
                raise InvalidDate(
                    f"the end of day has not run for {as_of.isoformat()}: "
                    "its figures are not final",
                    details={"as_of": as_of.isoformat()},
                )
            if as_of < last_day:
                # A backfill rebuilds day after day: look the schema up once.
                if self._groups is None:
                    self._groups = origination_groups(connection)
                rows = build_origination(connection, as_of, self._groups)
                return RefreshResult(as_of=as_of, portfolio_rebuilt=False, rows=rows)
            if last is not None and last[1] != "completed":
                raise EndOfDayNotClosed(
                    f"the end of day of {as_of.isoformat()} is unfinished: resume it first "
                    "(its last step builds these figures)",
                    details={"as_of": as_of.isoformat()},
                )
            rows = build_snapshot(connection, as_of, self._clock.now())
        return RefreshResult(as_of=as_of, portfolio_rebuilt=True, rows=rows)

    def latest_as_of(self) -> date | None:
        with self._reader() as connection:
            found = connection.execute(select(func.max(report_snapshots.c.as_of))).scalar_one()
        return None if found is None else _as_date(found)

    def snapshot_dates(self, limit: int) -> list[date]:
        with self._reader() as connection:
            found = connection.execute(
                select(report_snapshots.c.as_of)
                .order_by(report_snapshots.c.as_of.desc())
                .limit(limit)
            ).scalars()
            return [_as_date(day) for day in found]

    def product_codes(self) -> dict[str, str]:
        # A handful of rows: the products a bank sells.
        with self._reader() as connection:
            rows = connection.execute(select(_PRODUCTS.c.product_id, _PRODUCTS.c.code))
            return {str(product_id): str(code) for product_id, code in rows}

    def portfolio(self, as_of: date) -> PortfolioSnapshot | None:
        with self._reader() as connection:
            header = connection.execute(
                select(report_snapshots.c.roll_from).where(report_snapshots.c.as_of == as_of)
            ).one_or_none()
            if header is None:
                return None
            products = connection.execute(
                select(report_portfolio)
                .where(report_portfolio.c.as_of == as_of)
                .order_by(report_portfolio.c.product_id)
            ).all()
            # One round trip for the three small splits: a page's latency is its round trips.
            b, c, r = report_dpd_buckets.c, report_categories.c, report_roll_rates.c
            splits = connection.execute(
                union_all(
                    select(
                        literal("bucket"), b.bucket, literal(""), b.loans, b.principal_fen
                    ).where(b.as_of == as_of),
                    select(
                        literal("category"), c.category, literal(""), c.loans, c.principal_fen
                    ).where(c.as_of == as_of),
                    select(
                        literal("roll"), r.from_bucket, r.to_bucket, r.loans, r.principal_fen
                    ).where(r.as_of == as_of),
                )
            ).all()
            changed = {
                row.kind: row
                for row in connection.execute(
                    select(report_loan_changes).where(report_loan_changes.c.as_of == as_of)
                )
            }
        buckets = [(n, loans, fen) for kind, n, _, loans, fen in splits if kind == "bucket"]
        categories = [(n, loans, fen) for kind, n, _, loans, fen in splits if kind == "category"]
        rolls = [(n, to, loans, fen) for kind, n, to, loans, fen in splits if kind == "roll"]
        balances = tuple(
            ProductBalances(
                product_id=row.product_id, **{f: _int(getattr(row, f)) for f in _BALANCE_FIELDS}
            )
            for row in products
        )
        total = ProductBalances(
            product_id="*",
            **{f: sum(getattr(b, f) for b in balances) for f in _BALANCE_FIELDS},
        )
        return PortfolioSnapshot(
            as_of=as_of,
            products=balances,
            total=total,
            dpd_buckets=_figures(buckets, tuple(b.value for b in DpdBucket)),
            categories=_figures(categories, tuple(c.value for c in FiveCategory)),
            roll_from=None if header.roll_from is None else _as_date(header.roll_from),
            roll_rates=_roll_figures(rolls),
            loan_changes=tuple(
                LoanChangeFigure(
                    kind=kind,
                    loans=_int(row.loans) if (row := changed.get(kind)) else 0,
                    principal_fen=_int(row.principal_fen) if row else 0,
                    non_performing_loans=_int(row.non_performing_loans) if row else 0,
                )
                for kind in LOAN_CHANGE_KINDS
            ),
        )

    def portfolio_series(self, since: date, until: date) -> list[PortfolioPoint]:
        dates = _month_ends(since, until)
        p, b, c = report_portfolio.c, report_dpd_buckets.c, report_categories.c
        with self._reader() as connection:
            series = connection.execute(
                union_all(
                    select(
                        literal("balance"),
                        p.as_of,
                        func.sum(p.outstanding_principal_fen),
                        func.sum(p.loans_active),
                    )
                    .where(p.as_of.in_(dates))
                    .group_by(p.as_of),
                    select(literal("late"), b.as_of, func.sum(b.principal_fen), literal(0))
                    .where(b.as_of.in_(dates), b.bucket.in_(_DPD30_BUCKETS))
                    .group_by(b.as_of),
                    select(literal("npl"), c.as_of, func.sum(c.principal_fen), literal(0))
                    .where(c.as_of.in_(dates), c.category.in_(_NON_PERFORMING))
                    .group_by(c.as_of),
                )
            ).all()
        balances = [(day, fen, loans) for kind, day, fen, loans in series if kind == "balance"]
        late = [(day, fen) for kind, day, fen, _ in series if kind == "late"]
        npl = [(day, fen) for kind, day, fen, _ in series if kind == "npl"]
        late_by = {_as_date(d): _int(v) for d, v in late}
        npl_by = {_as_date(d): _int(v) for d, v in npl}
        points = [
            PortfolioPoint(
                as_of=_as_date(day),
                outstanding_principal_fen=_int(outstanding),
                loans_active=_int(loans),
                dpd30_principal_fen=late_by.get(_as_date(day), 0),
                npl_principal_fen=npl_by.get(_as_date(day), 0),
            )
            for day, outstanding, loans in balances
        ]
        return sorted(points, key=lambda point: point.as_of)

    def _origination(
        self, first_day: date, last_day: date, key: Any, *, is_day: bool
    ) -> list[OriginationFigure]:
        o = report_origination.c
        with self._reader() as connection:
            rows = connection.execute(
                select(
                    key,
                    func.sum(o.applications),
                    func.sum(o.decided),
                    func.sum(o.approved),
                    func.sum(o.declined),
                    func.sum(o.referred),
                )
                .where(o.as_of >= first_day, o.as_of <= last_day)
                .group_by(key)
                .order_by(key)
            ).all()
        return [
            OriginationFigure(
                day=_as_date(group) if is_day else None,
                group=None if is_day or group == "" else str(group),
                applications=_int(applications),
                decided=_int(decided),
                approved=_int(approved),
                declined=_int(declined),
                referred=_int(referred),
            )
            for group, applications, decided, approved, declined, referred in rows
        ]

    def origination_by_day(self, first_day: date, last_day: date) -> list[OriginationFigure]:
        return self._origination(first_day, last_day, report_origination.c.as_of, is_day=True)

    def origination_by_group(
        self, first_day: date, last_day: date, by: GroupBy
    ) -> list[OriginationFigure]:
        o = report_origination.c
        key = o.channel if by is GroupBy.CHANNEL else o.branch_code
        return self._origination(first_day, last_day, key, is_day=False)

    def vintages(self, as_of: date) -> VintageReport | None:
        v, pd = report_vintages.c, report_vintage_pd.c
        with self._reader() as connection:
            points = connection.execute(
                select(
                    v.vintage,
                    v.loans,
                    v.principal_fen,
                    v.bad30_loans,
                    v.bad90_loans,
                    v.bad30_principal_fen,
                    v.bad90_principal_fen,
                    pd.pd_loans,
                    pd.pd_sum_ppm,
                )
                .join(report_vintage_pd, (pd.as_of == v.as_of) & (pd.vintage == v.vintage))
                .where(v.as_of == as_of)
                .order_by(v.vintage, v.months_on_book)
            ).all()
            # A book without loans has no vintages: only then is the snapshot itself looked up.
            if (
                not points
                and connection.execute(
                    select(report_snapshots.c.as_of).where(report_snapshots.c.as_of == as_of)
                ).one_or_none()
                is None
            ):
                return None
        curves: dict[date, list[tuple[Any, ...]]] = defaultdict(list)
        for row in points:
            curves[_as_date(row[0])].append(tuple(row))
        return VintageReport(
            as_of=as_of,
            vintages=tuple(_vintage(month, rows) for month, rows in sorted(curves.items())),
        )


def _as_date(value: Any) -> date:
    # SQLite returns Date columns as dates through the table types; raw text SQL as text.
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _roll_figures(rows: Sequence[Any]) -> tuple[RollFigure, ...]:
    opening: dict[str, int] = defaultdict(int)
    for from_bucket, _, _, principal in rows:
        opening[from_bucket] += _int(principal)
    order = {name: i for i, name in enumerate(ROLL_TARGETS)}
    return tuple(
        RollFigure(
            from_bucket=from_bucket,
            to_bucket=to_bucket,
            loans=_int(loans),
            principal_fen=_int(principal),
            rate=share(_int(principal), opening[from_bucket]),
        )
        for from_bucket, to_bucket, loans, principal in sorted(
            rows, key=lambda r: (order.get(r[0], 99), order.get(r[1], 99))
        )
    )


def _vintage(month: date, rows: list[tuple[Any, ...]]) -> Vintage:
    loans, principal = _int(rows[0][1]), _int(rows[0][2])
    pd_loans, pd_sum_ppm = _int(rows[0][7]), _int(rows[0][8])

    def curve(column: int, whole: int) -> tuple[Decimal, ...]:
        # A vintage has loans and principal, so no share here is undefined.
        return tuple(share(_int(row[column]), whole) or Decimal(0) for row in rows)

    return Vintage(
        vintage=month,
        loans=loans,
        principal_fen=principal,
        bad30_share=curve(3, loans),
        bad90_share=curve(4, loans),
        bad30_principal_share=curve(5, principal),
        bad90_principal_share=curve(6, principal),
        predicted_bad_rate=share(pd_sum_ppm, pd_loans * PPM),
        pd_loans=pd_loans,
    )
