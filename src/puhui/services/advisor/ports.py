"""What the advisor reads beyond origination: the peers' cells, repayments due, the limit rule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from puhui.services.advisor.report import HealthReport

MIN_PEERS = 10
"""A peer cell of fewer enterprises is suppressed (privacy and noise), and the report says so."""


@dataclass(frozen=True, slots=True)
class PeerCell:
    """Quartiles of one measure over the peers of an industry group and size band."""

    peers: int
    q1: float
    median: float
    q3: float


@dataclass(frozen=True, slots=True)
class PeerAnswer:
    cells: Mapping[str, PeerCell | None]
    """Measure -> cell; None when the cell has fewer than ``MIN_PEERS`` enterprises."""
    counts: Mapping[str, int]


class PeerBenchmarks(Protocol):
    """The data sources' population, aggregated: never one peer's row."""

    def cells(self, industry_group: str, size_band: str, as_of: date) -> PeerAnswer:
        """Quartiles of ``sales_12m_fen`` (12 months to ``as_of``, fen), ``sales_yoy`` and
        ``net_margin`` (12-month net settlement flow over inflow) among enterprises of the
        group and band with twelve months of returns to ``as_of`` (the month's first day)."""
        ...


class ReportRenderer(Protocol):
    def render(self, report: HealthReport) -> bytes:
        """The report as a PDF document."""
        ...
