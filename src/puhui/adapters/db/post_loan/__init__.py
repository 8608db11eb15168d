"""Post-loan monitoring on SQL: runs, alerts and their signals, tasks, supervisors."""
