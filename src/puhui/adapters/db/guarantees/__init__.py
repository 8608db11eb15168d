"""Guarantee agencies, agreements, covers, fees, claims and recoveries in SQL."""
