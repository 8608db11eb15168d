"""The kinds of credit risk model (kept import-light for the command line)."""

from __future__ import annotations

from enum import StrEnum


class ModelKind(StrEnum):
    SCORECARD = "scorecard"
    GBM = "gbm"
