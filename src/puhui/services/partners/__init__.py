"""Lending with partners: agreements, loans tied to them, daily settlement, reconciliation."""
