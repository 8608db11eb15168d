"""The versioned green industry catalogue and the label rule of one enterprise."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest
import yaml

from puhui.risk.green.catalogue import (
    DEFAULT_VERSION,
    available_versions,
    load_catalogue,
    parse_catalogue,
)
from puhui.risk.green.errors import GreenCatalogueInvalid, UnknownCatalogueVersion
from puhui.risk.green.label import GreenEvidence, green_label

NATIONAL_CATEGORIES = {
    "节能环保产业",
    "清洁生产产业",
    "清洁能源产业",
    "生态环境产业",
    "基础设施绿色升级",
    "绿色服务",
}


def test_the_default_catalogue_carries_its_version_provenance_and_six_categories() -> None:
    catalogue = load_catalogue()
    assert catalogue.version == DEFAULT_VERSION in available_versions()
    assert "发改环资〔2019〕293号" in catalogue.provenance
    assert set(catalogue.categories.values()) == NATIONAL_CATEGORIES
    entry = catalogue.entry("C38")
    assert entry is not None
    assert entry.category_name == "清洁能源产业"
    assert catalogue.entry("F52") is None
    assert {e.category for e in catalogue.entries.values()} == set(catalogue.categories)


def test_an_unknown_version_names_the_known_ones() -> None:
    with pytest.raises(UnknownCatalogueVersion, match=r"'1999'.*known: 2019\.1"):
        load_catalogue("1999")


def _raw() -> dict[str, Any]:
    text = (
        resources.files("puhui.risk.green")
        .joinpath("catalogues", f"{DEFAULT_VERSION}.yaml")
        .read_text(encoding="utf-8")
    )
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def test_a_division_naming_an_unknown_category_is_refused() -> None:
    raw = _raw()
    raw["divisions"]["C38"]["category"] = "blue_industry"
    with pytest.raises(GreenCatalogueInvalid, match="blue_industry"):
        parse_catalogue(raw)


def test_a_catalogue_without_screen_rules_or_with_a_mismatched_version_is_refused() -> None:
    raw = _raw()
    del raw["screen"]
    with pytest.raises(GreenCatalogueInvalid, match="malformed"):
        parse_catalogue(raw)
    with pytest.raises(GreenCatalogueInvalid, match="declares version"):
        parse_catalogue(_raw(), expected_version="2024.1")
    raw = _raw()
    raw["screen"]["max_energy_percentile"] = 1.5
    with pytest.raises(GreenCatalogueInvalid, match="out of range"):
        parse_catalogue(raw)


def _evidence(**changes: Any) -> GreenEvidence:
    base: dict[str, Any] = {
        "industry_code": "C38",
        "energy_intensity": 300.0,
        "energy_percentile": 0.4,
        "energy_months": 12,
        "penalties": 0,
        "serious_penalties": 0,
    }
    return GreenEvidence(**{**base, **changes})


def test_a_catalogue_industry_without_penalty_and_with_low_energy_use_is_green() -> None:
    label = green_label(_evidence(), load_catalogue())
    assert label.label == "green"
    assert label.category == "clean_energy"
    assert label.category_name == "清洁能源产业"
    assert any("清洁能源产业" in line for line in label.evidence)
    assert any("percentile 0.40 among C38 peers (within 0.75)" in line for line in label.evidence)


@pytest.mark.parametrize(
    ("changes", "label", "says"),
    [
        ({"penalties": 1}, "excluded_penalty", "1 environmental penalty (0 serious)"),
        ({"penalties": 3, "serious_penalties": 2}, "excluded_penalty", "3 environmental penalties"),
        ({"industry_code": "F52"}, "not_green", "F52 is not in green catalogue 2019.1"),
        ({"energy_percentile": 0.9}, "not_green", "above 0.75"),
        (
            {"energy_intensity": None, "energy_percentile": None, "energy_months": 3},
            "not_green",
            "energy intensity unknown (3 month(s)",
        ),
        ({"industry_code": "F52", "penalties": 1}, "excluded_penalty", "not in green catalogue"),
    ],
)
def test_each_failed_test_gives_its_label_and_says_why(
    changes: dict[str, Any], label: str, says: str
) -> None:
    result = green_label(_evidence(**changes), load_catalogue())
    assert result.label == label
    assert any(says in line for line in result.evidence), result.evidence


def test_the_percentile_at_the_threshold_still_passes() -> None:
    assert green_label(_evidence(energy_percentile=0.75), load_catalogue()).label == "green"
