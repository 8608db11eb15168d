"""Point-in-time enterprise features from the market tables: one definition, batch and online.

The package is split by concern; every public name is importable from here:

- ``tables``: the market tables' names and columns, ``MarketTables``, the core enterprises;
- ``labels``: the feature names, their reason texts and expected risk directions;
- ``windows``: months and look-back windows, shared by the source builders;
- one builder per source: ``tax``, ``invoices``, ``utilities``, ``settlement``, ``court``,
  ``bureau``, ``profile``;
- ``assembly``: ``compute_features`` (every enterprise) and ``enterprise_features`` (one);
- ``applications``: the features of the application being decided;
- ``outcomes``: the bad-loan label and the labelled dataset.
"""

from puhui.risk.features.applications import (
    APPLICATION_LOOK_BACK_DAYS,
    APPLICATION_SCHEMA,
    application_features,
    one_application_features,
)
from puhui.risk.features.assembly import compute_features, enterprise_features
from puhui.risk.features.labels import (
    APPLICATION_FEATURE_LABELS,
    APPLICATION_FEATURE_NAMES,
    ENTERPRISE_FEATURE_LABELS,
    FEATURE_LABELS,
    FEATURE_NAMES,
    MONOTONE_RISK,
)
from puhui.risk.features.outcomes import (
    DEFAULT_DAYS_PAST_DUE,
    HORIZON_MONTHS,
    WARM_UP_MONTHS,
    labelled_dataset,
    observed_outcomes,
)
from puhui.risk.features.settlement import HEAVY_RELATED_SHARE
from puhui.risk.features.tables import (
    APPLICATIONS,
    BUREAU,
    CORE_ENTERPRISES,
    CORE_SIZE_BAND,
    COURT_CASES,
    ENTERPRISES,
    FEATURE_TABLES,
    INVOICES,
    LOAN_HISTORY,
    OWNERS,
    REQUIRED_COLUMNS,
    SETTLEMENT_MONTHLY,
    TAX_MONTHLY,
    UTILITIES_MONTHLY,
    MarketTables,
    core_enterprises,
)
from puhui.risk.features.windows import (
    FEN_SMOOTHING,
    HISTORY_MONTHS,
    month_index,
    month_index_expr,
    month_start_plus,
)

__all__ = [
    "APPLICATIONS",
    "APPLICATION_FEATURE_LABELS",
    "APPLICATION_FEATURE_NAMES",
    "APPLICATION_LOOK_BACK_DAYS",
    "APPLICATION_SCHEMA",
    "BUREAU",
    "CORE_ENTERPRISES",
    "CORE_SIZE_BAND",
    "COURT_CASES",
    "DEFAULT_DAYS_PAST_DUE",
    "ENTERPRISES",
    "ENTERPRISE_FEATURE_LABELS",
    "FEATURE_LABELS",
    "FEATURE_NAMES",
    "FEATURE_TABLES",
    "FEN_SMOOTHING",
    "HEAVY_RELATED_SHARE",
    "HISTORY_MONTHS",
    "HORIZON_MONTHS",
    "INVOICES",
    "LOAN_HISTORY",
    "MONOTONE_RISK",
    "OWNERS",
    "REQUIRED_COLUMNS",
    "SETTLEMENT_MONTHLY",
    "TAX_MONTHLY",
    "UTILITIES_MONTHLY",
    "WARM_UP_MONTHS",
    "MarketTables",
    "application_features",
    "compute_features",
    "core_enterprises",
    "enterprise_features",
    "labelled_dataset",
    "month_index",
    "month_index_expr",
    "month_start_plus",
    "observed_outcomes",
    "one_application_features",
]
