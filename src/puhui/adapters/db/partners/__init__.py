"""Storage of partner agreements, loans tied to them and their daily settlements."""
