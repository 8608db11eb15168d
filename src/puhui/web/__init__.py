"""The HTTP entry point: the open API (FastAPI) under ``/api/v1``."""
