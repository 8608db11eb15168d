"""Reason codes and their customer-facing text (zh-CN and en)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple


class FeatureLabel(NamedTuple):
    zh: str
    en: str


class Reason(NamedTuple):
    """Why the applicant scored lower: ``impact`` is points lost or log-odds added."""

    code: str
    feature: str
    impact: float
    text_zh: str
    text_en: str


def reason_code(feature: str) -> str:
    """A stable identifier for a feature's reason: ``RC_`` and the name in capitals."""
    return "RC_" + "".join(ch if ch.isalnum() else "_" for ch in feature).upper()


def reason_template(feature: str, labels: Mapping[str, FeatureLabel]) -> tuple[str, str, str]:
    """Code, Chinese text and English text of a feature's reason."""
    label = labels.get(feature, FeatureLabel(feature, feature))
    return (
        reason_code(feature),
        f"{label.zh}：该项情况使评分降低",
        f"{label.en}: this factor lowered the score",
    )
