"""Servicing storage: tables, repositories, unit of work and the set-based end-of-day SQL."""
