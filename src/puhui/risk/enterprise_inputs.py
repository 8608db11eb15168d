"""Enterprise-level strategy inputs and the feature set's version: one definition, batch and online.

The strategy reads a few facts about the enterprise itself (verified monthly sales and tax,
missed filings, sales growth, overdues elsewhere, open court cases, ages, tax grade). They
depend on the enterprise's data only, not on the application, so they are computed in batch
with the risk features and stored beside them; online, the same code runs on one enterprise's
pulled frames. ``feature_set_version`` names the definitions: a stored value is only as good
as the code that computed it.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import pkgutil
import textwrap
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, Literal

import polars as pl

from puhui.risk import features as risk_features
from puhui.risk.errors import InvalidTrainingData
from puhui.risk.features import (
    BUREAU,
    COURT_CASES,
    FEATURE_NAMES,
    TAX_MONTHLY,
    MarketTables,
    compute_features,
)

Kind = Literal["float", "int", "str"]
"""How a stored value is typed: floats for models, integers for money and counts, text."""

STRATEGY_INPUT_KINDS: dict[str, Kind] = {
    "verified_monthly_sales_fen": "int",
    "verified_monthly_tax_fen": "int",
    "tax_filing_gap_months": "int",
    "sales_growth_12m": "float",
    "overdue_count_24m": "int",
    "current_overdue_count": "int",
    "court_cases_open": "int",
    "enterprise_age_months": "int",
    "owner_age_years": "int",
    "tax_grade": "str",
}
"""The strategy inputs that depend only on the enterprise's data, with their kinds."""
STRATEGY_INPUT_NAMES: tuple[str, ...] = tuple(STRATEGY_INPUT_KINDS)

# The risk features these inputs are read from (the same values the model sees).
_FROM_FEATURES = ("enterprise_age_months", "owner_age_years", "tax_grade")
# Filings expected in a year from a firm at least a year old.
FILINGS_PER_YEAR = 12
SALES = "declared_sales_fen"
VAT = "vat_payable_fen"

_POLARS_TYPES: dict[Kind, pl.DataType] = {
    "float": pl.Float64(),
    "int": pl.Int64(),
    "str": pl.String(),
}


def _years_before(as_of: date, years: int) -> date:
    return date(as_of.year - years, as_of.month, 1)


def _last_12_filed(column: str) -> pl.Expr:
    """Sum over the twelve latest filings (by month), whatever months they are."""
    return pl.col(column).sort_by("month").tail(12).sum()


def _tax_inputs(tax: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    has_vat = VAT in tax.collect_schema().names()
    earlier_12 = pl.col(SALES).sort_by("month").slice(-24, 12).sum()
    return (
        tax.filter(pl.col("month") < as_of)
        .group_by("uscc")
        .agg(
            # Average of the twelve latest filings, over twelve months (a new firm's short
            # history counts as the months it did not trade): integer fen, floored.
            (_last_12_filed(SALES) // 12).cast(pl.Int64).alias("verified_monthly_sales_fen"),
            (
                (_last_12_filed(VAT) // 12).cast(pl.Int64)
                if has_vat
                else pl.lit(None, dtype=pl.Int64)
            ).alias("verified_monthly_tax_fen"),
            (pl.col("month") >= _years_before(as_of, 1)).sum().alias("_recent_filings"),
            # Sales of the latest twelve filings against the twelve before (two years filed).
            pl.when((pl.len() >= 24) & (earlier_12 > 0))
            .then(_last_12_filed(SALES) / earlier_12 - 1.0)
            .alias("sales_growth_12m"),
        )
    )


def _bureau_inputs(bureau: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    in_24m = pl.col("month") >= _years_before(as_of, 2)
    return (
        bureau.filter(pl.col("month") < as_of)
        .group_by("uscc")
        .agg(
            pl.when(in_24m.any())
            .then(((pl.col("overdue_loans") > 0) & in_24m).sum())
            .cast(pl.Int64)
            .alias("overdue_count_24m"),
            pl.col("overdue_loans")
            .sort_by("month")
            .last()
            .cast(pl.Int64)
            .alias("current_overdue_count"),
        )
    )


def _court_inputs(court: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    known = court.filter(pl.col("month") < as_of)
    closed = known.filter(pl.col("event") == "closed").select("uscc", "case_id").unique()
    # Cases filed against the enterprise and not (yet) closed: one row per filing.
    return (
        known.filter((pl.col("event") == "filed") & (pl.col("role") == "defendant"))
        .join(closed, on=["uscc", "case_id"], how="anti")
        .group_by("uscc")
        .agg(pl.len().cast(pl.Int64).alias("court_cases_open"))
    )


def enterprise_inputs(
    tables: MarketTables, features: pl.DataFrame | pl.LazyFrame, as_of: date
) -> pl.DataFrame:
    """The strategy inputs of every enterprise in ``features`` (``compute_features``' rows).

    Point in time like the features: only months before ``as_of`` are read. A missing value
    means the sources hold no evidence (no tax filings, no bureau record), except where the
    absence of a row is itself the fact (no court filing: zero open cases; no filing in a year
    a firm should have filed: a gap).
    """
    if as_of.day != 1:
        raise InvalidTrainingData("as_of must be the first day of a month")
    profile = features.lazy().select(
        "uscc",
        pl.col("enterprise_age_months").cast(pl.Int64),
        pl.col("owner_age_years").cast(pl.Int64),
        pl.col("tax_grade").cast(pl.String),
    )
    expected = (
        pl.when(pl.col("enterprise_age_months").is_null())
        .then(FILINGS_PER_YEAR)
        .otherwise(pl.min_horizontal(pl.col("enterprise_age_months"), FILINGS_PER_YEAR))
    )
    frame = (
        profile.join(_tax_inputs(tables[TAX_MONTHLY], as_of), on="uscc", how="left")
        .join(_bureau_inputs(tables[BUREAU], as_of), on="uscc", how="left")
        .join(_court_inputs(tables[COURT_CASES], as_of), on="uscc", how="left")
        .with_columns(
            pl.max_horizontal(
                expected - pl.col("_recent_filings").fill_null(0).cast(pl.Int64), 0
            ).alias("tax_filing_gap_months"),
            pl.col("court_cases_open").fill_null(0),
        )
    )
    return (
        frame.select(
            "uscc",
            *(
                pl.col(name).cast(_POLARS_TYPES[kind])
                for name, kind in STRATEGY_INPUT_KINDS.items()
            ),
        )
        .sort("uscc")
        .collect()
    )


def one_enterprise_inputs(
    frames: Mapping[str, pl.DataFrame],
    features: Mapping[str, Any],
    uscc: str,
    as_of: date,
) -> dict[str, Any]:
    """The strategy inputs of one enterprise (online): the same definition on its pulled rows.

    ``frames`` holds the enterprise's rows by market table name (at least tax, bureau and
    court tables, possibly empty); ``features`` its risk features as of ``as_of``.
    """
    missing = [name for name in (TAX_MONTHLY, BUREAU, COURT_CASES) if name not in frames]
    if missing:
        raise InvalidTrainingData(f"strategy inputs need the tables {', '.join(missing)}")
    tables = MarketTables(
        {name: frames[name].lazy() for name in (TAX_MONTHLY, BUREAU, COURT_CASES)}
    )
    profile = pl.DataFrame(
        {"uscc": [uscc], **{name: [features.get(name)] for name in _FROM_FEATURES}},
        schema={
            "uscc": pl.String(),
            "enterprise_age_months": pl.Float64(),
            "owner_age_years": pl.Float64(),
            "tax_grade": pl.String(),
        },
    )
    row = enterprise_inputs(tables, profile, month_start(as_of)).row(0, named=True)
    row.pop("uscc")
    return row


def month_start(day: date) -> date:
    return date(day.year, day.month, 1)


@dataclass(frozen=True, slots=True)
class FeatureSet:
    """What a stored row holds, in order: the risk features, then the strategy inputs."""

    version: str
    features: tuple[tuple[str, Kind], ...]
    inputs: tuple[tuple[str, Kind], ...]

    @property
    def columns(self) -> tuple[tuple[str, Kind], ...]:
        return self.features + self.inputs

    def to_json(self) -> str:
        return json.dumps(
            {
                "features": [list(c) for c in self.features],
                "inputs": [list(c) for c in self.inputs],
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, version: str, text: str) -> FeatureSet:
        data = json.loads(text)
        return cls(
            version=version,
            features=tuple((str(n), _kind(k)) for n, k in data["features"]),
            inputs=tuple((str(n), _kind(k)) for n, k in data["inputs"]),
        )


def _kind(value: object) -> Kind:
    if value == "float":
        return "float"
    if value == "int":
        return "int"
    if value == "str":
        return "str"
    raise InvalidTrainingData(f"unknown stored value kind {value!r}")


def kind_of(dtype: pl.DataType) -> Kind:
    """The stored kind of a Polars column type."""
    if dtype.is_float():
        return "float"
    if dtype.is_integer() or dtype == pl.Boolean():
        return "int"
    if dtype == pl.String():
        return "str"
    raise InvalidTrainingData(f"a feature of type {dtype} cannot be stored")


def feature_set(features_schema: Mapping[str, pl.DataType]) -> FeatureSet:
    """The feature set of this code, with the kinds of ``compute_features``' columns."""
    return FeatureSet(
        version=feature_set_version(),
        features=tuple((name, kind_of(features_schema[name])) for name in FEATURE_NAMES),
        inputs=tuple(STRATEGY_INPUT_KINDS.items()),
    )


# The functions whose code defines the stored values; what they call in the same modules and
# the constants they read are followed from them.
_DEFINITION_ROOTS: tuple[Callable[..., Any], ...] = (
    compute_features,
    risk_features.core_enterprises,  # which counterparties count as core enterprises
    enterprise_inputs,
)
# Every module of the features package (found, not listed: a new module is covered as it is
# added) and this one; a function elsewhere is not followed.
_DEFINITION_MODULES = frozenset(
    {
        risk_features.__name__,
        *(
            f"{risk_features.__name__}.{module.name}"
            for module in pkgutil.iter_modules(risk_features.__path__)
        ),
        __name__,
    }
)
_STORAGE_FORMAT = 1


@cache
def feature_set_version() -> str:
    """A stable hash of the feature definitions and names (16 hex digits).

    It changes when a definition changes (the code of the functions that compute the values,
    the constants they read, the names and kinds of the inputs), and not with comments,
    docstrings or formatting: the code is hashed as its syntax tree, unparsed.
    """
    payload = {
        "format": _STORAGE_FORMAT,
        "features": list(FEATURE_NAMES),
        "inputs": [list(item) for item in STRATEGY_INPUT_KINDS.items()],
        "definitions": definitions_digest(_DEFINITION_ROOTS, _DEFINITION_MODULES),
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8"))
    return digest.hexdigest()[:16]


def definitions_digest(roots: tuple[Callable[..., Any], ...], modules: frozenset[str]) -> str:
    """SHA-256 of the code of ``roots``, of the functions of ``modules`` they call (followed
    through), and of the simple constants they read; blind to comments, docstrings, layout."""
    parts = json.dumps(dict(sorted(_definitions(roots, modules))), sort_keys=True)
    return hashlib.sha256(parts.encode("utf-8")).hexdigest()


def _definitions(
    roots: tuple[Callable[..., Any], ...], modules: frozenset[str]
) -> Iterator[tuple[str, str]]:
    seen: set[str] = set()
    pending = list(roots)
    while pending:
        function = pending.pop()
        key = f"{function.__module__}.{function.__qualname__}"
        if key in seen:
            continue
        seen.add(key)
        yield key, _normalised_source(function)
        namespace = function.__globals__
        for name in sorted(_global_names(function.__code__)):
            value = namespace.get(name)
            if isinstance(value, types.FunctionType):
                if value.__module__ in modules:
                    pending.append(value)
            elif isinstance(value, int | float | str | tuple | frozenset):
                constant = f"{function.__module__}.{name}"
                if constant not in seen:
                    seen.add(constant)
                    yield constant, repr(value)


def _global_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):  # comprehensions, lambdas, inner functions
            names |= _global_names(constant)
    return names


def _normalised_source(function: Callable[..., Any]) -> str:
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree)
