"""Pure business model: money, dates, identifiers and rules; standard library only."""
