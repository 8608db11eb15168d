"""Repayment capacity from the hidden truth: what the lending simulation asks the market."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from puhui.market import store
from puhui.market.errors import EnterpriseNotInMarket, MonthOutsideMarket, NegativeAmountDue

_ABSENT, _PERFORMING, _DEFAULTED = 0, 1, 2


@dataclass(frozen=True)
class RepaymentCapacity:
    """What an enterprise can pay in a month.

    ``cash_available_fen`` is the free cash it can put to new debt service that month (month
    end balance share plus operating surplus), before anything it owes the asking lender;
    zero once it has defaulted. ``in_default`` is true from the default month on, and for
    enterprises that have closed after defaulting.
    """

    uscc: str
    month: date
    registered: bool
    in_default: bool
    cash_available_fen: int
    default_month: date | None


@dataclass(frozen=True)
class Repayment:
    paid_fen: int
    shortfall_fen: int
    in_default: bool


class MarketOracle:
    """Answers "can this enterprise repay this month, and how much" from ``truth/``.

    Only the lending simulation and evaluation may use it; models and strategies must not.
    Stateless: it does not remember earlier repayments, so a caller serving several loans of
    one enterprise in one month must split ``cash_available_fen`` itself.
    """

    def __init__(self, market_dir: Path | str) -> None:
        market_dir = Path(market_dir)
        self.params = store.read_parameters(market_dir)
        ent = store.scan(market_dir, "enterprises_truth").select("uscc", "default_month").collect()
        self._uscc = ent.get_column("uscc").to_list()
        self._index = {u: i for i, u in enumerate(self._uscc)}
        self._default = ent.get_column("default_month").to_list()
        base = self.params.start.year * 12 + self.params.start.month - 1
        monthly = (
            store.scan(market_dir, "monthly_truth")
            .select(
                "uscc",
                (pl.col("month").dt.year() * 12 + pl.col("month").dt.month() - 1 - base).alias("t"),
                "in_default",
                "cash_available_fen",
            )
            .join(
                pl.LazyFrame({"uscc": self._uscc, "i": np.arange(len(self._uscc))}),
                on="uscc",
            )
            .collect()
        )
        n, m = len(self._uscc), self.params.months
        self._status = np.zeros((n, m), dtype=np.int8)
        self._cash = np.zeros((n, m), dtype=np.int64)
        i = monthly.get_column("i").to_numpy()
        t = monthly.get_column("t").to_numpy()
        self._status[i, t] = np.where(
            monthly.get_column("in_default").to_numpy(), _DEFAULTED, _PERFORMING
        )
        self._cash[i, t] = monthly.get_column("cash_available_fen").to_numpy()
        # After closing there are no rows: the enterprise stays in default for good.
        closed = np.maximum.accumulate(self._status == _DEFAULTED, axis=1)
        self._status = np.where(closed, _DEFAULTED, self._status).astype(np.int8)

    def _locate(self, uscc: str, month: date) -> tuple[int, int]:
        i = self._index.get(uscc)
        if i is None:
            raise EnterpriseNotInMarket(
                f"no enterprise {uscc} in this market", details={"uscc": uscc}
            )
        start = self.params.start
        t = (month.year - start.year) * 12 + month.month - start.month
        if not 0 <= t < self.params.months:
            raise MonthOutsideMarket(
                f"month {month:%Y-%m} is outside the market "
                f"({start:%Y-%m} + {self.params.months} months)",
                details={"field": "month"},
            )
        return i, t

    def capacity(self, uscc: str, month: date) -> RepaymentCapacity:
        i, t = self._locate(uscc, month)
        status = int(self._status[i, t])
        return RepaymentCapacity(
            uscc=uscc,
            month=date(month.year, month.month, 1),
            registered=status != _ABSENT,
            in_default=status == _DEFAULTED,
            cash_available_fen=int(self._cash[i, t]) if status == _PERFORMING else 0,
            default_month=self._default[i],
        )

    def repay(self, uscc: str, month: date, due_fen: int) -> Repayment:
        """Pay what is due from the month's free cash; nothing once in default."""
        if due_fen < 0:
            raise NegativeAmountDue(
                "an amount due cannot be negative", details={"field": "due_fen"}
            )
        cap = self.capacity(uscc, month)
        paid = 0 if cap.in_default or not cap.registered else min(due_fen, cap.cash_available_fen)
        return Repayment(paid_fen=paid, shortfall_fen=due_fen - paid, in_default=cap.in_default)

    def capacity_frame(self, requests: pl.DataFrame) -> pl.DataFrame:
        """Vectorised :meth:`capacity` for a frame with ``uscc`` and ``month`` (Date) columns.

        Returns the request columns plus ``registered``, ``in_default`` and
        ``cash_available_fen``; unknown enterprises or months outside the market raise.
        """
        uscc = requests.get_column("uscc").to_list()
        months = requests.get_column("month")
        missing = [u for u in set(uscc) if u not in self._index]
        if missing:
            raise EnterpriseNotInMarket(f"{len(missing)} enterprises are not in this market")
        i = np.array([self._index[u] for u in uscc], dtype=np.int64)
        start = self.params.start
        t = (
            (months.dt.year().cast(pl.Int64) - start.year) * 12
            + months.dt.month().cast(pl.Int64)
            - start.month
        ).to_numpy()
        if len(t) and (t.min() < 0 or t.max() >= self.params.months):
            raise MonthOutsideMarket(
                "some months are outside the market", details={"field": "month"}
            )
        status = self._status[i, t]
        return requests.with_columns(
            registered=pl.Series(status != _ABSENT),
            in_default=pl.Series(status == _DEFAULTED),
            cash_available_fen=pl.Series(np.where(status == _PERFORMING, self._cash[i, t], 0)),
        )
