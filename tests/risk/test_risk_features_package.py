"""The features package: its public names, its labels, and its month step."""

from __future__ import annotations

from datetime import date

import pytest

from puhui.domain.lending.schedule import add_months
from puhui.risk import features
from puhui.risk.features import (
    APPLICATION_FEATURE_LABELS,
    APPLICATION_FEATURE_NAMES,
    ENTERPRISE_FEATURE_LABELS,
    FEATURE_LABELS,
    FEATURE_NAMES,
    month_start_plus,
)


def test_every_public_name_is_importable_from_the_package() -> None:
    for name in features.__all__:
        assert getattr(features, name) is not None


def test_labels_cover_enterprise_and_application_features_without_overlap() -> None:
    assert tuple(ENTERPRISE_FEATURE_LABELS) == FEATURE_NAMES
    assert tuple(APPLICATION_FEATURE_LABELS) == APPLICATION_FEATURE_NAMES
    assert not set(FEATURE_NAMES) & set(APPLICATION_FEATURE_NAMES)
    assert tuple(FEATURE_LABELS) == FEATURE_NAMES + APPLICATION_FEATURE_NAMES


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 1, 1), 1, date(2024, 2, 1)),
        (date(2024, 1, 31), 1, date(2024, 2, 1)),
        (date(2024, 3, 15), -3, date(2023, 12, 1)),
        (date(2025, 12, 1), 13, date(2027, 1, 1)),
        (date(2024, 6, 1), 0, date(2024, 6, 1)),
    ],
)
def test_month_start_plus_lands_on_the_first_of_the_month(
    day: date, months: int, expected: date
) -> None:
    assert month_start_plus(day, months) == expected


def test_month_start_plus_differs_from_the_lending_calendar_when_the_day_is_not_the_first() -> None:
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert month_start_plus(date(2024, 1, 31), 1) == date(2024, 2, 1)
    assert add_months(date(2024, 1, 1), 5) == month_start_plus(date(2024, 1, 1), 5)
