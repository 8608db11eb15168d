"""The green pre-screen of a whole market (batch, Polars) and its measure against the truth."""
