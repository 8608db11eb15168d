"""A public-like credit data set (numeric, categorical, informative missing values)."""

from __future__ import annotations

import numpy as np
import polars as pl


def make_credit_frame(n_rows: int, *, seed: int = 0, target: str = "bad") -> pl.DataFrame:
    """Rows shaped like the public credit sets (German, Give-Me-Some-Credit, HMEQ).

    The truth is logistic in a few non-linear transforms; ``debt_ratio`` is missing more often
    for bad payers (as in HMEQ), so a model that scores missing as neutral loses information.
    """
    rng = np.random.default_rng(seed)
    age = rng.integers(20, 70, n_rows).astype(np.float64)
    income = rng.lognormal(9.0, 0.6, n_rows)
    debt_ratio = rng.beta(2.0, 5.0, n_rows)
    late_30_59 = rng.poisson(0.3, n_rows).astype(np.float64)
    utilisation = np.clip(rng.normal(0.4, 0.3, n_rows), 0.0, 1.5)
    open_lines = rng.poisson(6.0, n_rows).astype(np.float64)
    noise = rng.normal(size=n_rows)
    purpose = rng.choice(["car", "home", "business", "education", "other"], n_rows)
    region = rng.choice(["east", "west", "north", "south"], n_rows, p=[0.4, 0.3, 0.2, 0.1])
    logit = (
        -2.2
        - 0.03 * (age - 45.0)
        - 0.5 * (np.log(income) - 9.0)
        + 2.0 * (debt_ratio - 0.3)
        + 0.8 * late_30_59
        + 1.2 * (utilisation - 0.4) ** 2 * 3.0
        + 0.05 * np.abs(open_lines - 6.0)
        + np.select([purpose == "business", purpose == "education"], [0.5, 0.3], 0.0)
        + np.where(region == "west", 0.2, 0.0)
    )
    pd_true = 1.0 / (1.0 + np.exp(-logit))
    bad = (rng.random(n_rows) < pd_true).astype(np.int64)
    missing_debt = rng.random(n_rows) < np.where(bad == 1, 0.25, 0.08)
    debt_ratio = np.where(missing_debt, np.nan, debt_ratio)
    income = np.where(rng.random(n_rows) < 0.05, np.nan, income)
    return pl.DataFrame(
        {
            "id": np.arange(n_rows),
            "age": age,
            "income": income,
            "debt_ratio": debt_ratio,
            "late_30_59": late_30_59,
            "utilisation": utilisation,
            "open_lines": open_lines,
            "noise": noise,
            "purpose": purpose,
            "region": region,
            target: bad,
        },
        nan_to_null=True,
    )
