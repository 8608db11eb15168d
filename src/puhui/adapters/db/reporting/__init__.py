"""Portfolio aggregates on SQL: built by the end of day, read by the dashboards."""

from puhui.adapters.db.reporting.store import EndOfDayNotClosed, SqlReportingStore

__all__ = ["EndOfDayNotClosed", "SqlReportingStore"]
