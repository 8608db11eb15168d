"""Concentration limits (集中度限额): a versioned document of limits by cluster, and their check.

The document caps each cluster's share of the book — by industry, region, industrial park, core
enterprise and guarantee circle — with a warning share below the cap, and caps the cluster's
warning rate (the share of its exposure under an open early-warning alert). A breach names the
strategy parameter it tightens: the cluster's limit multiplier, by breach code, as data. The
check is pure: a Polars exposure table in, breaches out; shares are compared exactly (fen sums
as fractions), never in floating point.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from puhui.decision.document import ExactDecimal, StrategyDocument
from puhui.decision.strategy import DocumentLines, Problems, StrategyInvalid, parse_model
from puhui.domain.errors import InvalidInput, NotFound

SHIPPED_CONCENTRATION = "mse-concentration"
EXPOSURE_COLUMNS = ("customer_id", "exposure_fen", "under_alert")
"""The exposure table: one row per customer, its drawn exposure in fen and whether it has an
open alert, plus one column per dimension (the cluster; null when it belongs to none)."""
LIMIT_MULTIPLIER = "cluster_limit_multiplier"
"""The strategy parameter a breach tightens: new limits in the cluster are multiplied by it."""


class Dimension(StrEnum):
    INDUSTRY = "industry"  # GB/T 4754 code
    REGION = "region"  # GB/T 2260 code
    PARK = "park"  # industrial park (园区)
    CORE_ENTERPRISE = "core_enterprise"  # 核心企业 of a supply chain
    GUARANTEE_CIRCLE = "guarantee_circle"  # 担保圈


class BreachCode(StrEnum):
    LIMIT_EXCEEDED = "CONCENTRATION_LIMIT_EXCEEDED"
    NEAR_LIMIT = "CONCENTRATION_NEAR_LIMIT"
    WARNING_RATE_HIGH = "CLUSTER_WARNING_RATE_HIGH"


class ConcentrationInvalid(StrategyInvalid):
    """A concentration-limits document was refused; ``problems`` lists every problem found."""

    code = "concentration_invalid"


class ExposuresRefused(InvalidInput):
    """The exposure table lacks a column, or holds a negative or missing exposure."""

    code = "exposures_refused"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ShareLimit(_Strict):
    max_share: ExactDecimal
    """The most of the book one cluster may hold (0.25 = 25 %)."""
    warning_share: ExactDecimal
    """From this share on, the cluster is near its limit."""


class DimensionLimits(_Strict):
    column: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")] | None = None
    """The exposure table's column (the dimension's name when left out)."""
    max_share: ExactDecimal
    warning_share: ExactDecimal
    max_warning_rate: ExactDecimal
    """The most of a cluster's exposure that may be under an open alert."""
    min_customers_for_rate: int = Field(default=5, ge=1)
    """A warning rate of a cluster smaller than this says little and is not checked."""
    overrides: dict[str, ShareLimit] = Field(default_factory=dict)
    """Stricter (or looser) share limits for named clusters."""


class Tightening(_Strict):
    parameter: Literal["cluster_limit_multiplier"] = "cluster_limit_multiplier"
    multiplier_by_code: dict[BreachCode, ExactDecimal]


class ConcentrationDocument(_Strict):
    schema_version: Literal[1] = 1
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=64)]
    version: int = Field(ge=1)
    description: str = ""
    dimensions: dict[Dimension, DimensionLimits] = Field(min_length=1)
    tighten: Tightening


@dataclass(frozen=True, slots=True)
class Breach:
    dimension: Dimension
    cluster: str
    code: BreachCode
    value: Decimal
    """The share of the book, or the warning rate, to four places (half-up)."""
    threshold: Decimal
    exposure_fen: int
    base_fen: int
    """The book (for shares) or the cluster's exposure (for the warning rate)."""
    parameter: str
    multiplier: Decimal


@dataclass(frozen=True, slots=True)
class CompiledConcentration:
    document: ConcentrationDocument

    @property
    def version_label(self) -> str:
        return f"{self.document.name}@{self.document.version}"

    def evaluate(self, exposures: pl.DataFrame) -> list[Breach]:
        """Every breach of the limits by the book ``exposures``, by dimension then cluster."""
        columns = {d: spec.column or d.value for d, spec in self.document.dimensions.items()}
        _check_exposures(exposures, columns.values())
        book = int(exposures["exposure_fen"].sum())
        multipliers = self.document.tighten.multiplier_by_code
        breaches: list[Breach] = []
        if book == 0:
            return breaches
        for dimension, spec in self.document.dimensions.items():
            column = columns[dimension]
            clusters = (
                exposures.filter(pl.col(column).is_not_null())
                .group_by(column)
                .agg(
                    pl.col("exposure_fen").sum().alias("exposure"),
                    pl.col("exposure_fen").filter(pl.col("under_alert")).sum().alias("alerted"),
                    pl.len().alias("customers"),
                )
                .sort(column)
            )
            for cluster, exposure, alerted, customers in clusters.iter_rows():
                breaches += _cluster_breaches(
                    _Cluster(dimension, str(cluster), int(exposure), int(alerted or 0), customers),
                    spec,
                    book,
                    multipliers,
                )
        return breaches


@dataclass(frozen=True, slots=True)
class _Cluster:
    dimension: Dimension
    name: str
    exposure_fen: int
    alerted_fen: int
    customers: int


def _cluster_breaches(
    cluster: _Cluster,
    spec: DimensionLimits,
    book_fen: int,
    multipliers: Mapping[BreachCode, Decimal],
) -> list[Breach]:
    override = spec.overrides.get(cluster.name)
    max_share = spec.max_share if override is None else override.max_share
    warning_share = spec.warning_share if override is None else override.warning_share

    def breach(code: BreachCode, value: Fraction, threshold: Decimal, base_fen: int) -> Breach:
        return Breach(
            cluster.dimension,
            cluster.name,
            code,
            _places(value),
            threshold,
            cluster.exposure_fen,
            base_fen,
            LIMIT_MULTIPLIER,
            multipliers[code],
        )

    found = []
    share = Fraction(cluster.exposure_fen, book_fen)
    if share > Fraction(max_share):
        found.append(breach(BreachCode.LIMIT_EXCEEDED, share, max_share, book_fen))
    elif share >= Fraction(warning_share):
        found.append(breach(BreachCode.NEAR_LIMIT, share, warning_share, book_fen))
    if cluster.customers >= spec.min_customers_for_rate and cluster.exposure_fen > 0:
        rate = Fraction(cluster.alerted_fen, cluster.exposure_fen)
        if rate >= Fraction(spec.max_warning_rate):
            found.append(
                breach(
                    BreachCode.WARNING_RATE_HIGH, rate, spec.max_warning_rate, cluster.exposure_fen
                )
            )
    return found


def limit_multipliers(breaches: Iterable[Breach]) -> dict[tuple[Dimension, str], Decimal]:
    """The multiplier each breached cluster's new limits take: the strictest of its breaches."""
    found: dict[tuple[Dimension, str], Decimal] = {}
    for breach in breaches:
        key = (breach.dimension, breach.cluster)
        found[key] = min(found.get(key, breach.multiplier), breach.multiplier)
    return found


CLUSTER_INPUTS: dict[Dimension, str] = {
    Dimension.INDUSTRY: "industry_code",
    Dimension.REGION: "region_code",
    Dimension.PARK: "park",
    Dimension.CORE_ENTERPRISE: "core_enterprise",
    Dimension.GUARANTEE_CIRCLE: "guarantee_circle",
}
"""The strategy input naming an applicant's cluster, by dimension, when a strategy that has no
multipliers for the dimension yet gets its first."""


def tighten_strategy(
    document: StrategyDocument,
    multipliers: Mapping[tuple[Dimension, str], Decimal],
    *,
    version: int,
) -> StrategyDocument:
    """A new version of ``document`` whose limit step multiplies the limits of the breached
    clusters by their multipliers (``limit_multipliers``); a cluster already cut keeps the
    stricter of the two. The input naming the cluster is declared (optional string) when the
    strategy does not read it yet. The result still has to pass the strategy lifecycle."""
    data = document.model_dump(mode="json")
    data["version"] = version
    limit = data["limit"]
    existing = limit.get("cluster_limit_multiplier") or {}
    for (dimension, cluster), multiplier in sorted(multipliers.items()):
        entry = existing.setdefault(
            dimension.value, {"input": CLUSTER_INPUTS[dimension], "by_cluster": {}}
        )
        before = entry["by_cluster"].get(cluster)
        if before is None or multiplier < Decimal(before):
            entry["by_cluster"][cluster] = str(multiplier)
        name = entry["input"]
        if name not in data["inputs"]:
            data["inputs"][name] = {
                "type": "string",
                "description": f"The applicant's {dimension.value} cluster (concentration limits)",
            }
    limit["cluster_limit_multiplier"] = existing
    return StrategyDocument.model_validate(data)


def breaches_frame(breaches: Iterable[Breach]) -> pl.DataFrame:
    """Breaches as a frame (decimals as text, so that no float creeps into a report)."""
    rows = [
        {
            "dimension": b.dimension.value,
            "cluster": b.cluster,
            "code": b.code.value,
            "value": str(b.value),
            "threshold": str(b.threshold),
            "exposure_fen": b.exposure_fen,
            "base_fen": b.base_fen,
            "parameter": b.parameter,
            "multiplier": str(b.multiplier),
        }
        for b in breaches
    ]
    schema = {
        "dimension": pl.String,
        "cluster": pl.String,
        "code": pl.String,
        "value": pl.String,
        "threshold": pl.String,
        "exposure_fen": pl.Int64,
        "base_fen": pl.Int64,
        "parameter": pl.String,
        "multiplier": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def _places(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal("0.0001"), rounding=ROUND_HALF_UP
    )


def _check_exposures(exposures: pl.DataFrame, dimension_columns: Iterable[str]) -> None:
    missing = [c for c in (*EXPOSURE_COLUMNS, *dimension_columns) if c not in exposures.columns]
    if missing:
        raise ExposuresRefused(f"the exposure table lacks the columns {missing}")
    if not exposures.schema["exposure_fen"].is_integer():
        raise ExposuresRefused("exposure_fen must be whole fen (an integer column)")
    if exposures.schema["under_alert"] != pl.Boolean:
        raise ExposuresRefused("under_alert must be a boolean column")
    bad = exposures.filter(
        pl.col("exposure_fen").is_null()
        | (pl.col("exposure_fen") < 0)
        | pl.col("under_alert").is_null()
    )
    if bad.height:
        names = bad["customer_id"].head(20).to_list()
        raise ExposuresRefused(
            f"{bad.height} row(s) with a missing or negative exposure or alert flag: {names}",
            details={"customers": [str(n) for n in names]},
        )


def _check(document: ConcentrationDocument, problems: Problems) -> None:
    one = Decimal(1)
    for dimension, spec in document.dimensions.items():
        path: tuple[str | int, ...] = ("dimensions", dimension.value)
        limits: list[tuple[tuple[str | int, ...], ShareLimit | DimensionLimits]] = [(path, spec)]
        limits += [((*path, "overrides", name), o) for name, o in spec.overrides.items()]
        for where, limit in limits:
            if not Decimal(0) < limit.max_share <= one:
                problems.add((*where, "max_share"), "a share is a fraction above 0, at most 1")
            if not Decimal(0) < limit.warning_share <= limit.max_share:
                problems.add(
                    (*where, "warning_share"), "the warning share is above 0, at most max_share"
                )
        if not Decimal(0) < spec.max_warning_rate <= one:
            problems.add((*path, "max_warning_rate"), "a rate is a fraction above 0, at most 1")
    multipliers = document.tighten.multiplier_by_code
    for code in BreachCode:
        if code not in multipliers:
            problems.add(("tighten", "multiplier_by_code"), f"no multiplier for {code.value}")
    for code, multiplier in multipliers.items():
        if not Decimal(0) <= multiplier <= one:
            problems.add(
                ("tighten", "multiplier_by_code", code.value),
                "a multiplier tightens: between 0 (no new lending) and 1",
            )


def compile_concentration(
    document: ConcentrationDocument,
    *,
    lines: DocumentLines | None = None,
    source: str = "concentration",
) -> CompiledConcentration:
    problems = Problems(lines)
    _check(document, problems)
    if problems.items:
        raise ConcentrationInvalid(problems.items, source=source)
    return CompiledConcentration(document)


def load_concentration(source: str | Path, *, text: str | None = None) -> CompiledConcentration:
    """Read, validate and compile a concentration-limits file (or ``text`` named ``source``)."""
    if text is None:
        text = Path(source).read_text(encoding="utf-8")
    document, lines = parse_model(
        text,
        ConcentrationDocument,
        source=str(source),
        invalid=ConcentrationInvalid,
        kind="concentration document",
    )
    return compile_concentration(document, lines=lines, source=str(source))


def shipped_concentration_text(name: str = SHIPPED_CONCENTRATION) -> str:
    """The packaged limits document (it becomes version 1 when a database is first migrated)."""
    resource = resources.files("puhui.decision").joinpath("concentration", f"{name}.yaml")
    if not resource.is_file():
        raise NotFound(f"no shipped concentration limits named {name!r}")
    return resource.read_text(encoding="utf-8")


def load_shipped_concentration(name: str = SHIPPED_CONCENTRATION) -> CompiledConcentration:
    return load_concentration(f"{name}.yaml", text=shipped_concentration_text(name))


__all__ = [
    "CLUSTER_INPUTS",
    "EXPOSURE_COLUMNS",
    "LIMIT_MULTIPLIER",
    "SHIPPED_CONCENTRATION",
    "Breach",
    "BreachCode",
    "CompiledConcentration",
    "ConcentrationDocument",
    "ConcentrationInvalid",
    "Dimension",
    "ExposuresRefused",
    "breaches_frame",
    "compile_concentration",
    "limit_multipliers",
    "load_concentration",
    "load_shipped_concentration",
    "shipped_concentration_text",
    "tighten_strategy",
]
