"""Portfolio reporting: the aggregates the end of day keeps and the dashboards read."""
