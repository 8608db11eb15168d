"""Post-loan monitoring use cases: the run, alerts, tasks and the actions they take."""
