"""Relational storage on SQLAlchemy 2.0: one schema for SQLite and PostgreSQL."""
