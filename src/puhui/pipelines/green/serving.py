"""A written green screen as online assessment reads it: the label of one enterprise."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import polars as pl

from puhui.pipelines.green.screen import SCREEN_FILE
from puhui.risk.green.errors import InvalidGreenScreen

logger = logging.getLogger(__name__)


class GreenScreenFile:
    """Implements origination's ``GreenLabels`` over a folder ``puhui green screen --out``
    wrote (read once: the screen is monthly, a new screen means a restart)."""

    def __init__(self, screen_dir: Path) -> None:
        path = Path(screen_dir) / SCREEN_FILE
        if not path.is_file():
            raise InvalidGreenScreen(
                f"no green screen in {screen_dir} (expected {SCREEN_FILE}; "
                "write one with `puhui green screen --out`)"
            )
        frame = pl.read_parquet(path, columns=["uscc", "label", "category", "as_of"])
        months = frame.get_column("as_of").unique()
        if len(months) != 1:
            raise InvalidGreenScreen(f"{path} holds {len(months)} months; one screen expected")
        self.as_of: date = months[0]
        self._labels: dict[str, tuple[str, str | None]] = {
            u: (label, category)
            for u, label, category in frame.select("uscc", "label", "category").iter_rows()
        }
        logger.info("green labels from %s (as of %s)", screen_dir, self.as_of.isoformat()[:7])

    def label_of(self, uscc: str, on: date) -> tuple[str, str | None] | None:
        if self.as_of > on:
            return None
        return self._labels.get(uscc)
