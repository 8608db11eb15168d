"""Demand identification (需求识别): when an enterprise will need credit, how much, how long.

- ``features``: ``need_features`` from the pre-consent sources only (``PRE_CONSENT_SOURCES``);
- ``labels``: training labels from the market's true need events;
- ``model``: ``NeedModel`` (probability, amount and its floor, month, duration; save / load);
- ``training``: ``train_need_model``, point in time;
- ``evaluate``: top-decile precision / recall against a sales-growth baseline, amount errors.
"""

from puhui.risk.need.calendar import NEED_HORIZON_MONTHS
from puhui.risk.need.features import (
    NEED_FEATURE_NAMES,
    PRE_CONSENT_SOURCES,
    SALES_GROWTH_BASELINE,
    need_features,
)
from puhui.risk.need.labels import need_labels
from puhui.risk.need.model import NeedModel
from puhui.risk.need.training import train_need_model

__all__ = [
    "NEED_FEATURE_NAMES",
    "NEED_HORIZON_MONTHS",
    "PRE_CONSENT_SOURCES",
    "SALES_GROWTH_BASELINE",
    "NeedModel",
    "need_features",
    "need_labels",
    "train_need_model",
]
