"""Data-source adapters: where origination pulls an enterprise's data from."""
