"""The outside world: database, data sources, notifications."""
