"""Lending with partners: joint lending (联合贷款) and loan facilitation (助贷)."""
