"""The strategy input from the industry prosperity index (景气指数, docs/prosperity.md): a
strategy version may tighten or refer when the applicant's industry is in a downturn."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from puhui.services.origination.ports import IndustryProsperity

INDUSTRY_PROSPERITY = "industry_prosperity_index"


def prosperity_inputs(
    clusters: Mapping[str, Any], prosperity: IndustryProsperity | None, as_of: date
) -> dict[str, Any]:
    """``industry_prosperity_index`` of the applicant's registered industry; left out (missing:
    the strategy decides as without it) with no index, no industry, or a suppressed cell."""
    industry = clusters.get("industry_code")
    if prosperity is None or not isinstance(industry, str):
        return {}
    index = prosperity.latest_index(industry, as_of)
    return {} if index is None else {INDUSTRY_PROSPERITY: index}
