"""Credit risk models: tabular data, scorecard, gradient boosting, metrics, artefacts, scoring."""
