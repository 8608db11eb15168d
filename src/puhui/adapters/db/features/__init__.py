"""The feature store on SQL: tables, the packed row format and the repository."""

from puhui.adapters.db.features.repository import SqlFeatureStore
from puhui.adapters.db.features.tables import enterprise_features, feature_sets

__all__ = ["SqlFeatureStore", "enterprise_features", "feature_sets"]
