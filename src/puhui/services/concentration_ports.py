"""Ports of the concentration service: where clusters and alerts come from, what it stores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ClusterMembership:
    """The clusters one customer belongs to; None where unknown or none."""

    industry: str | None = None
    region: str | None = None
    park: str | None = None
    core_enterprise: str | None = None
    guarantee_circle: str | None = None


class EnterpriseClusters(Protocol):
    """Which industry, region, park, core enterprise and guarantee circle each customer is in."""

    def clusters(
        self, customer_ids: Sequence[str], *, as_of: date
    ) -> Mapping[str, ClusterMembership]: ...


class UnderAlert(Protocol):
    """Which customers have an open (or acknowledged) early-warning alert on ``as_of``."""

    def customers_under_alert(
        self, customer_ids: Sequence[str], *, as_of: date
    ) -> frozenset[str]: ...


class NoClusters:
    """Nothing known of anyone's clusters: every dimension is null, nothing can breach."""

    def clusters(
        self, customer_ids: Sequence[str], *, as_of: date
    ) -> Mapping[str, ClusterMembership]:
        return {}


class NoAlerts:
    """The default until the alerts are wired: no customer is under an alert."""

    def customers_under_alert(self, customer_ids: Sequence[str], *, as_of: date) -> frozenset[str]:
        return frozenset()


@dataclass(frozen=True, slots=True)
class ClusterExposure:
    dimension: str
    cluster: str
    exposure_fen: int
    alerted_fen: int
    customers: int
    share: str
    """Of the drawn book, to four places (text: no float)."""


@dataclass(frozen=True, slots=True)
class StoredBreach:
    dimension: str
    cluster: str
    code: str
    value: str
    threshold: str
    exposure_fen: int
    base_fen: int
    parameter: str
    multiplier: str


@dataclass(frozen=True, slots=True)
class StoredEvaluation:
    evaluation_id: str
    document: str
    """``name@version`` of the concentration limits evaluated."""
    as_of: date
    evaluated_at: datetime
    evaluated_by: str
    book_fen: int
    customers: int
    clusters: tuple[ClusterExposure, ...]
    breaches: tuple[StoredBreach, ...]
    proposed_strategy: str | None
    """The strategy draft proposed to tighten the breached clusters (``name@version``)."""


class ConcentrationRepository(Protocol):
    def drawn_by_customer(self) -> dict[str, int]: ...

    def add(self, evaluation: StoredEvaluation) -> None: ...

    def latest(self) -> StoredEvaluation | None: ...
