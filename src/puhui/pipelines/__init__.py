"""Batch jobs: end of day, batch scoring, reports. One kernel per job; storage comes in ports."""
