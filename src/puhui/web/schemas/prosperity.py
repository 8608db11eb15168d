"""Body of the prosperity indices endpoint: each cell's composite index by month."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from puhui.services.reporting.prosperity import ProsperityView


class IndexPointOut(BaseModel):
    month: date
    index: float | None
    """The composite index (0-100, 50 neutral); null when the cell-month is suppressed."""
    enterprises: int
    suppressed: bool


class CellSeriesOut(BaseModel):
    cell: str
    points: list[IndexPointOut]


class ProsperityOut(BaseModel):
    dimension: str
    min_cell: int | None
    """A cell-month with fewer enterprises is suppressed (privacy and noise)."""
    first_month: date | None
    last_month: date | None
    cells: list[str]
    series: list[CellSeriesOut]


def prosperity_out(view: ProsperityView) -> ProsperityOut:
    return ProsperityOut(
        dimension=view.dimension,
        min_cell=view.min_cell,
        first_month=view.first_month,
        last_month=view.last_month,
        cells=list(view.cells),
        series=[
            CellSeriesOut(
                cell=s.cell,
                points=[
                    IndexPointOut(
                        month=p.month,
                        index=p.index,
                        enterprises=p.enterprises,
                        suppressed=p.suppressed,
                    )
                    for p in s.points
                ],
            )
            for s in view.series
        ],
    )
