"""When a firm of an industry usually needs money: its season months, as the risk layer knows them.

Stocking up ahead of the busy season is the commonest reason a small firm borrows: consumer
businesses (retail, catering, accommodation) before the Spring Festival (春节) and for the
National Day / autumn season, the others for the year-end and the restart after the festival.
The risk layer may not import the market, so it keeps the few facts it needs here; a test
compares them with the market's catalogue.
"""

from __future__ import annotations

from datetime import date

from puhui.risk.features.windows import month_start_plus

NEED_HORIZON_MONTHS = 3
"""A need is predicted for the three months after the as-of month."""

CONSUMER_INDUSTRY_GROUPS = frozenset({"retail", "catering", "accommodation"})
"""Industry groups that sell to consumers; every other group follows the industrial calendar."""

INDUSTRY_GROUPS = (
    "manufacturing",
    "wholesale",
    "retail",
    "catering",
    "accommodation",
    "construction",
    "transport",
    "business_services",
    "it_services",
    "agriculture",
)
"""The industry groups of the registry (GB/T 4754 sections grouped); codes are their positions."""

SPRING_FESTIVAL_MONTH: dict[int, int] = {
    2015: 2, 2016: 2, 2017: 1, 2018: 2, 2019: 2, 2020: 1, 2021: 2, 2022: 2, 2023: 1, 2024: 2,
    2025: 1, 2026: 2, 2027: 2, 2028: 1, 2029: 2, 2030: 2, 2031: 1, 2032: 2, 2033: 1, 2034: 2,
    2035: 2, 2036: 1, 2037: 2, 2038: 2, 2039: 1, 2040: 2,
}  # fmt: skip
"""The calendar month of the Spring Festival per year (February when the year is not listed)."""


def is_season_month(consumer: bool, month: date) -> bool:
    """Whether ``month`` is one a firm of this calendar stocks up in.

    Consumer: the month before the Spring Festival, September and October. Industrial:
    November, December and the month after the festival. A January festival's month before is
    the December of the year before (festival 2025: 29 January, so December 2024).
    """
    festival = SPRING_FESTIVAL_MONTH.get(month.year, 2)
    if consumer:
        if month.month == 12:
            return SPRING_FESTIVAL_MONTH.get(month.year + 1, 2) == 1
        return month.month in (9, 10) or (festival == 2 and month.month == 1)
    return month.month in (11, 12, festival + 1)


def months_to_season(consumer: bool, as_of: date) -> int:
    """Months from the as-of month to the next season month (1 = the month just after)."""
    for ahead in range(1, 13):
        if is_season_month(consumer, month_start_plus(as_of, ahead)):
            return ahead
    return 13  # unreachable with the calendars above; kept total for the type checker


def season_months_ahead(consumer: bool, as_of: date) -> int:
    """How many of the horizon's months are season months."""
    return sum(
        is_season_month(consumer, month_start_plus(as_of, ahead))
        for ahead in range(1, NEED_HORIZON_MONTHS + 1)
    )
