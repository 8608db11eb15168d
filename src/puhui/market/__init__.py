"""Synthetic market of micro and small enterprises with hidden ground truth."""
