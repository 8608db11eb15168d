"""Concentration-limits documents: validated with locations; the shipped limits load."""

from __future__ import annotations

from decimal import Decimal

import pytest

from puhui.decision.concentration import (
    LIMIT_MULTIPLIER,
    BreachCode,
    ConcentrationInvalid,
    Dimension,
    load_concentration,
    load_shipped_concentration,
)

VALID = """\
schema_version: 1
name: tiny-limits
version: 2
dimensions:
  industry:
    max_share: "0.25"
    warning_share: "0.20"
    max_warning_rate: "0.15"
    overrides:
      K70: {max_share: "0.05", warning_share: "0.04"}
tighten:
  parameter: cluster_limit_multiplier
  multiplier_by_code:
    CONCENTRATION_LIMIT_EXCEEDED: "0"
    CONCENTRATION_NEAR_LIMIT: "0.5"
    CLUSTER_WARNING_RATE_HIGH: "0.7"
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConcentrationInvalid) as caught:
        load_concentration("c.yaml", text=text)
    assert caught.value.code == "concentration_invalid"
    return [str(p) for p in caught.value.problems]


def test_a_valid_document_reads_its_limits_exactly() -> None:
    limits = load_concentration("c.yaml", text=VALID)
    assert limits.version_label == "tiny-limits@2"
    industry = limits.document.dimensions[Dimension.INDUSTRY]
    assert industry.max_share == Decimal("0.25")
    assert industry.overrides["K70"].max_share == Decimal("0.05")


def test_shares_out_of_order_are_refused_at_their_lines() -> None:
    text = VALID.replace('warning_share: "0.20"', 'warning_share: "0.30"').replace(
        '{max_share: "0.05"', '{max_share: "1.5"'
    )
    assert problems_of(text) == [
        "line 7: dimensions.industry.warning_share: the warning share is above 0, at most "
        "max_share",
        "line 10: dimensions.industry.overrides.K70.max_share: a share is a fraction above 0, "
        "at most 1",
    ]


def test_an_unknown_dimension_is_refused() -> None:
    text = VALID.replace("  industry:\n", "  sector:\n")
    (problem,) = problems_of(text)
    assert problem.startswith("line 6: dimensions.sector: Input should be 'industry'")


def test_a_multiplier_that_loosens_is_refused() -> None:
    text = VALID.replace('CLUSTER_WARNING_RATE_HIGH: "0.7"', 'CLUSTER_WARNING_RATE_HIGH: "1.2"')
    assert problems_of(text) == [
        "line 16: tighten.multiplier_by_code.CLUSTER_WARNING_RATE_HIGH: a multiplier tightens: "
        "between 0 (no new lending) and 1"
    ]
    missing = VALID.replace('    CLUSTER_WARNING_RATE_HIGH: "0.7"\n', "")
    assert problems_of(missing) == [
        "line 14: tighten.multiplier_by_code: no multiplier for CLUSTER_WARNING_RATE_HIGH"
    ]


def test_the_tightened_parameter_is_the_cluster_limit_multiplier() -> None:
    text = VALID.replace("parameter: cluster_limit_multiplier", "parameter: product_cap")
    assert problems_of(text)[0].startswith("line 12: tighten.parameter:")


def test_the_shipped_limits_cover_every_dimension() -> None:
    limits = load_shipped_concentration()
    assert set(limits.document.dimensions) == set(Dimension)
    assert limits.document.tighten.parameter == LIMIT_MULTIPLIER
    assert set(limits.document.tighten.multiplier_by_code) == set(BreachCode)
