"""Use cases: one function each, owning its transaction; the ports they need."""
