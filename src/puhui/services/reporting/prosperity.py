"""Read the prosperity indices (景气指数) for the console's charts and the API (reporting
permission): each cell's composite index by month, suppressed months kept as gaps."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from puhui.domain.errors import InvalidInput, NotFound
from puhui.services.security.permissions import Permission, Principal, require

DIMENSIONS = ("overall", "industry", "region")
"""``overall`` (one cell, ``all``), industry groups, regions (GB/T 2260 codes)."""


class ProsperityIndices(Protocol):
    """The platform's built indices (implemented over the build folder by the pipelines)."""

    def series(self, dimension: str, cell: str) -> list[tuple[date, float | None, int]]: ...

    def cells(self, dimension: str) -> list[str]: ...

    @property
    def report(self) -> dict[str, Any] | None: ...


class ProsperityNotBuilt(NotFound):
    """No index has been built where the platform reads it."""

    code = "prosperity_not_built"


class ProsperityCellNotFound(NotFound):
    """A cell the index does not have."""

    code = "prosperity_cell_not_found"


class InvalidProsperityDimension(InvalidInput):
    code = "invalid_prosperity_dimension"


@dataclass(frozen=True, slots=True)
class IndexPoint:
    month: date
    index: float | None
    """The composite index (0-100, 50 neutral), rounded to 0.01; None when suppressed."""
    enterprises: int

    @property
    def suppressed(self) -> bool:
        return self.index is None


@dataclass(frozen=True, slots=True)
class CellSeries:
    cell: str
    points: tuple[IndexPoint, ...]

    @property
    def latest(self) -> IndexPoint | None:
        return self.points[-1] if self.points else None

    @property
    def suppressed_months(self) -> int:
        return sum(1 for p in self.points if p.suppressed)


@dataclass(frozen=True, slots=True)
class ProsperityView:
    dimension: str
    min_cell: int | None
    """Cells with fewer enterprises than this in a month are suppressed."""
    first_month: date | None
    last_month: date | None
    series: tuple[CellSeries, ...]
    cells: tuple[str, ...]
    """Every cell of the dimension (the series may be a selection of them)."""


def _month(text: Any) -> date | None:
    return date.fromisoformat(str(text)[:10]) if text else None


def prosperity_view(
    indices: ProsperityIndices,
    *,
    actor: Principal,
    dimension: str = "industry",
    cells: Sequence[str] = (),
) -> ProsperityView:
    """The composite index by month of ``cells`` (default: every cell) of a dimension."""
    require(actor, Permission.REPORT_READ)
    if dimension not in DIMENSIONS:
        raise InvalidProsperityDimension(
            f"dimension must be one of {', '.join(DIMENSIONS)}, not {dimension!r}",
            details={"dimension": dimension},
        )
    report = indices.report
    if report is None:
        raise ProsperityNotBuilt(
            "no prosperity index has been built yet: run `puhui prosperity build`"
        )
    known = indices.cells(dimension)
    unknown = [cell for cell in cells if cell not in known]
    if unknown:
        raise ProsperityCellNotFound(
            f"no {dimension} cell {', '.join(unknown)}; cells: {', '.join(known)}",
            details={"dimension": dimension, "unknown": unknown},
        )
    series = tuple(
        CellSeries(
            cell,
            tuple(
                IndexPoint(month, None if value is None else round(value, 2), enterprises)
                for month, value, enterprises in indices.series(dimension, cell)
            ),
        )
        for cell in (list(cells) or known)
    )
    min_cell = report.get("min_cell")
    return ProsperityView(
        dimension=dimension,
        min_cell=int(min_cell) if min_cell is not None else None,
        first_month=_month(report.get("first_month")),
        last_month=_month(report.get("last_month")),
        series=series,
        cells=tuple(known),
    )
