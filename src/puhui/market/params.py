"""Parameters of a market run and the two profiles (baseline, downturn)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from puhui.market.errors import InvalidMarketParameter, MarketManifestUnreadable

PROFILES = ("baseline", "downturn")
MAX_ENTERPRISES = 5_000_000
"""ID numbers of owners stay unique by construction up to about 10 million people."""
MAX_MONTHS = 240
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class MarketParams:
    """What decides the content of a market; chunk size and workers only decide speed."""

    enterprises: int
    months: int
    start: date
    seed: int
    profile: str = "baseline"

    def __post_init__(self) -> None:
        if not 1 <= self.enterprises <= MAX_ENTERPRISES:
            raise InvalidMarketParameter(
                f"--enterprises must be between 1 and {MAX_ENTERPRISES:,}, got {self.enterprises}",
                details={"field": "enterprises"},
            )
        if not 1 <= self.months <= MAX_MONTHS:
            raise InvalidMarketParameter(
                f"--months must be between 1 and {MAX_MONTHS}, got {self.months}",
                details={"field": "months"},
            )
        if self.start.day != 1 or not 2015 <= self.start.year <= 2035:
            raise InvalidMarketParameter(
                "--start must be the first day of a month between 2015-01 and 2035-12",
                details={"field": "start"},
            )
        if not 0 <= self.seed < 2**63:
            raise InvalidMarketParameter(
                "--seed must be a non-negative integer", details={"field": "seed"}
            )
        if self.profile not in PROFILES:
            raise InvalidMarketParameter(
                f"unknown profile {self.profile!r}; choose one of {', '.join(PROFILES)}",
                details={"field": "profile"},
            )

    def month_date(self, month: int) -> date:
        """The first day of month offset ``month`` (0 = start; negative = burn-in before start)."""
        total = self.start.year * 12 + self.start.month - 1 + month
        return date(total // 12, total % 12 + 1, 1)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["start"] = self.start.strftime("%Y-%m")
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MarketParams:
        """The parameters recorded in a manifest (``to_json``'s output)."""
        try:
            return cls(
                enterprises=int(data["enterprises"]),
                months=int(data["months"]),
                start=parse_month(str(data["start"])),
                seed=int(data["seed"]),
                profile=str(data["profile"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MarketManifestUnreadable(
                f"the manifest's parameters are incomplete or malformed: {exc!r}"
            ) from exc


def parse_month(text: str) -> date:
    """``YYYY-MM`` to the first day of that month, or InvalidMarketParameter naming the format."""
    match = _MONTH.match(text.strip())
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise InvalidMarketParameter(
            f"a month is written YYYY-MM (e.g. 2023-01), got {text!r}", details={"field": "start"}
        )
    return date(int(match.group(1)), int(match.group(2)), 1)
