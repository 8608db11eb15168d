"""The versioned green industry catalogue (绿色产业指导目录 categories -> GB/T 4754 divisions).

Each version is a YAML file in ``catalogues/`` named ``<version>.yaml``; the version, its
title and provenance are written in the file and travel with every screen that used it.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from puhui.risk.green.errors import GreenCatalogueInvalid, UnknownCatalogueVersion

DEFAULT_VERSION = "2019.1"
LABELS = ("green", "not_green", "excluded_penalty")
"""The labels of the screen: a candidate that passed, one that did not, one with a penalty."""


@dataclass(frozen=True, slots=True)
class ScreenRules:
    penalty_lookback_months: int
    energy_window_months: int
    min_energy_months: int
    max_energy_percentile: float


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    division: str
    category: str
    category_name: str
    activity: str


@dataclass(frozen=True, slots=True)
class GreenCatalogue:
    version: str
    title: str
    provenance: str
    categories: dict[str, str]
    """Category key -> its Chinese name in the national catalogue."""
    entries: dict[str, CatalogueEntry]
    """GB/T 4754 division -> its entry."""
    rules: ScreenRules

    def entry(self, division: str) -> CatalogueEntry | None:
        return self.entries.get(division)

    def describe(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "title": self.title,
            "provenance": self.provenance,
            "categories": dict(self.categories),
            "divisions": {
                d: {"category": e.category, "activity": e.activity}
                for d, e in sorted(self.entries.items())
            },
        }


def available_versions() -> tuple[str, ...]:
    folder = resources.files("puhui.risk.green").joinpath("catalogues")
    return tuple(
        sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))
    )


def load_catalogue(version: str = DEFAULT_VERSION) -> GreenCatalogue:
    """The catalogue of one version, or UnknownCatalogueVersion naming those that exist."""
    known = available_versions()
    if version not in known:
        raise UnknownCatalogueVersion(
            f"unknown green catalogue version {version!r}; known: {', '.join(known)}",
            details={"version": version, "known": list(known)},
        )
    text = (
        resources.files("puhui.risk.green")
        .joinpath("catalogues", f"{version}.yaml")
        .read_text(encoding="utf-8")
    )
    return parse_catalogue(yaml.safe_load(text), expected_version=version)


def parse_catalogue(data: Any, *, expected_version: str | None = None) -> GreenCatalogue:
    if not isinstance(data, dict):
        raise GreenCatalogueInvalid("a green catalogue is a mapping")
    try:
        version = str(data["version"])
        categories = {str(k): str(v) for k, v in dict(data["categories"]).items()}
        entries: dict[str, CatalogueEntry] = {}
        for division, raw in dict(data["divisions"]).items():
            category = str(raw["category"])
            if category not in categories:
                raise GreenCatalogueInvalid(
                    f"division {division} names unknown category {category!r}"
                )
            entries[str(division)] = CatalogueEntry(
                division=str(division),
                category=category,
                category_name=categories[category],
                activity=str(raw.get("activity", "")),
            )
        screen = dict(data["screen"])
        rules = ScreenRules(
            penalty_lookback_months=int(screen["penalty_lookback_months"]),
            energy_window_months=int(screen["energy_window_months"]),
            min_energy_months=int(screen["min_energy_months"]),
            max_energy_percentile=float(screen["max_energy_percentile"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise GreenCatalogueInvalid(f"green catalogue is malformed: {exc}") from None
    if expected_version is not None and version != expected_version:
        raise GreenCatalogueInvalid(
            f"catalogue file {expected_version}.yaml declares version {version!r}"
        )
    if not 0 < rules.max_energy_percentile <= 1 or rules.min_energy_months < 1:
        raise GreenCatalogueInvalid("screen thresholds out of range")
    return GreenCatalogue(
        version=version,
        title=str(data.get("title", "")),
        provenance=str(data.get("provenance", "")),
        categories=categories,
        entries=entries,
        rules=rules,
    )
