"""The green label of one enterprise from its evidence (the one rule; the batch screen in
``puhui.pipelines.green`` applies the same rule to a whole market and is tested against it)."""

from __future__ import annotations

from dataclasses import dataclass

from puhui.risk.green.catalogue import GreenCatalogue


@dataclass(frozen=True, slots=True)
class GreenEvidence:
    industry_code: str
    energy_intensity: float | None
    """kWh per 10,000 yuan of declared sales over the energy window (None: too little data)."""
    energy_percentile: float | None
    """Rank among the division's peers in the same window, 0 (lowest use) to 1."""
    energy_months: int
    penalties: int
    serious_penalties: int


@dataclass(frozen=True, slots=True)
class GreenLabel:
    label: str
    category: str | None
    category_name: str | None
    evidence: tuple[str, ...]


def green_label(evidence: GreenEvidence, catalogue: GreenCatalogue) -> GreenLabel:
    rules = catalogue.rules
    entry = catalogue.entry(evidence.industry_code)
    lines: list[str] = []
    if entry is None:
        lines.append(
            f"industry {evidence.industry_code} is not in green catalogue {catalogue.version}"
        )
    else:
        lines.append(
            f"industry {evidence.industry_code} -> {entry.category_name} ({entry.category}): "
            f"{entry.activity}"
        )
    if evidence.penalties:
        lines.append(
            f"{evidence.penalties} environmental penalt{'y' if evidence.penalties == 1 else 'ies'}"
            f" ({evidence.serious_penalties} serious) in the last "
            f"{rules.penalty_lookback_months} months"
        )
    else:
        lines.append(f"no environmental penalty in the last {rules.penalty_lookback_months} months")
    energy_ok = False
    if evidence.energy_intensity is None or evidence.energy_percentile is None:
        lines.append(
            f"energy intensity unknown ({evidence.energy_months} month(s) of electricity and "
            f"sales, at least {rules.min_energy_months} needed)"
        )
    else:
        energy_ok = evidence.energy_percentile <= rules.max_energy_percentile
        lines.append(
            f"energy intensity {evidence.energy_intensity:.1f} kWh per 10,000 yuan of sales, "
            f"percentile {evidence.energy_percentile:.2f} among {evidence.industry_code} peers "
            f"({'within' if energy_ok else 'above'} {rules.max_energy_percentile:.2f})"
        )
    if evidence.penalties:
        label = "excluded_penalty"
    elif entry is not None and energy_ok:
        label = "green"
    else:
        label = "not_green"
    return GreenLabel(
        label=label,
        category=None if entry is None else entry.category,
        category_name=None if entry is None else entry.category_name,
        evidence=tuple(lines),
    )
