"""The feature store port: enterprise features computed in batch, read by key when deciding.

A stored row holds one enterprise's risk features and enterprise-level strategy inputs as of
one month, with its lineage: the month of source data it was computed from, the version of
the definitions that computed it and when. A decision that used a stored row can be replayed
from the same row; a row computed by other definitions, for another month or too long ago is
stale, and the caller computes the values online instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from puhui.domain.clock import BANK_ZONE
from puhui.risk.enterprise_inputs import FeatureSet, feature_set_version, month_start


@dataclass(frozen=True, slots=True)
class StoredFeatures:
    """One enterprise's stored values as of ``month``, and where they came from."""

    uscc: str
    month: date
    """The as-of month: values use data of complete months before it."""
    features: Mapping[str, Any]
    """The risk features (``risk.features.FEATURE_NAMES``): floats, text for categories."""
    inputs: Mapping[str, Any]
    """The enterprise-level strategy inputs (``risk.enterprise_inputs``): integers for money."""
    source_month: date
    """The latest month of source data the values were computed from."""
    feature_set_version: str
    computed_at: datetime


@dataclass(frozen=True, slots=True)
class FeatureBatch:
    """Rows of one chunk of enterprises: values in the feature set's column order."""

    usccs: Sequence[str]
    rows: Sequence[Sequence[Any]]


class FeatureStore(Protocol):
    """Online reads by key."""

    def get(self, uscc: str, month: date) -> StoredFeatures | None:
        """The enterprise's row as of ``month`` (first day), or None when none was stored."""
        ...


class FeatureMonthWriter(Protocol):
    """Batch writes: one month at a time, replacing what was stored for it."""

    def replace_month(
        self,
        month: date,
        feature_set: FeatureSet,
        *,
        source_month: date,
        computed_at: datetime,
        batches: Iterable[FeatureBatch],
    ) -> int:
        """Replace the month's rows by ``batches`` (consumed as they come) in one transaction.

        Returns the number of rows written. Re-running a month leaves exactly its new rows.
        """
        ...


STALE_VERSION = "feature_set_changed"
STALE_MONTH = "other_month"
STALE_AGE = "too_old"


def staleness(
    stored: StoredFeatures,
    as_of: date,
    max_age_days: int,
    *,
    version: str | None = None,
) -> str | None:
    """Why ``stored`` may not stand for what online computation would give on ``as_of``.

    None when it may. Otherwise, the first rule broken:

    - ``feature_set_changed``: other definitions computed it (``version``, default: this
      code's ``feature_set_version()``);
    - ``other_month``: it is as of another month than ``as_of``'s (other look-back windows);
    - ``too_old``: it was computed more than ``max_age_days`` before ``as_of`` (in the bank's
      zone): sources revise their data, so a row is recomputed at least that often.
    """
    expected = feature_set_version() if version is None else version
    if stored.feature_set_version != expected:
        return STALE_VERSION
    if stored.month != month_start(as_of):
        return STALE_MONTH
    if (as_of - stored.computed_at.astimezone(BANK_ZONE).date()).days > max_age_days:
        return STALE_AGE
    return None


def is_stale(
    stored: StoredFeatures, as_of: date, max_age_days: int, *, version: str | None = None
) -> bool:
    """True when ``staleness`` gives a reason (see there)."""
    return staleness(stored, as_of, max_age_days, version=version) is not None
