"""Offers made, by the green label their application recorded at assessment: counts, average
rate and limits per label, from the offers alone (declined or unpriced applications have none)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, insert

from puhui.adapters.db.origination.tables import applications, offers
from puhui.adapters.db.reporting.green import offers_by_green_label

MADE = datetime(2026, 3, 1, 2, tzinfo=UTC)

# (green label, status, offer as (limit in fen, annual rate) or None)
APPLICATIONS: list[tuple[str | None, str, tuple[int, str] | None]] = [
    ("green", "offered", (300_000_00, "0.0435")),
    ("green", "line_opened", (500_000_00, "0.0395")),
    ("green", "expired", (200_000_01, "0.041")),
    ("green", "declined", None),
    ("green", "referred", None),
    ("green", "assessed", None),
    ("not_green", "accepted", (800_000_00, "0.06")),
    ("not_green", "offered", (150_000_00, "0.065")),
    ("not_green", "declined", None),
    ("excluded_penalty", "line_opened", (100_000_00, "0.072")),
    ("excluded_penalty", "declined", None),
    ("excluded_penalty", "declined", None),
    (None, "offered", (50_000_00, "0.055")),
    (None, "declined", None),
    (None, "referred", None),
]


def _write(
    engine: Engine, rows: list[tuple[str | None, str, tuple[int, str] | None]], first: int = 0
) -> None:
    with engine.begin() as connection:
        for i, (label, status, offer) in enumerate(rows, start=first):
            created = MADE - timedelta(hours=1)
            connection.execute(
                insert(applications).values(
                    application_id=f"app_{i:05d}",
                    application_no=f"NO{i:08d}",
                    uscc=f"9135010000000{i:05d}",
                    open_uscc=None,
                    id_number_enc="x",
                    id_number_index="x",
                    phone_enc="x",
                    phone_index="x",
                    status=status,
                    green_label=label,
                    green_category="clean_energy" if label == "green" else None,
                    created_at=created,
                    updated_at=created,
                    version=1,
                )
            )
            if offer is not None:
                limit_fen, rate = offer
                connection.execute(
                    insert(offers).values(
                        offer_id=f"offer_{i:05d}",
                        application_id=f"app_{i:05d}",
                        limit_fen=limit_fen,
                        annual_rate=Decimal(rate),
                        term_months=12,
                        grade="B",
                        made_at=MADE,
                        expires_at=MADE + timedelta(days=7),
                    )
                )


def test_offers_are_counted_priced_and_summed_per_recorded_label(engine: Engine) -> None:
    _write(engine, APPLICATIONS)
    assert offers_by_green_label(engine) == [
        # Declined applications of the label made no offer: one offer, not three.
        ("excluded_penalty", 1, Decimal("0.072000"), 100_000_00),
        # (0.0435 + 0.0395 + 0.041) / 3 = 0.041333...; the declined, referred and merely
        # assessed green applications add neither an offer nor a zero rate to the average.
        ("green", 3, Decimal("0.041333"), 1_000_000_01),
        # No screen covered the applicant: reported as "none".
        ("none", 1, Decimal("0.055000"), 50_000_00),
        ("not_green", 2, Decimal("0.062500"), 950_000_00),
    ]


def test_each_offer_counts_under_its_own_applications_label(engine: Engine) -> None:
    # The same offers with the labels moved: the figures move with them.
    moved = {"green": "not_green", "not_green": "green"}
    _write(
        engine,
        [
            (moved.get(label, label) if label else label, status, offer)
            for label, status, offer in APPLICATIONS
        ],
    )
    got = {label: (n, rate, fen) for label, n, rate, fen in offers_by_green_label(engine)}
    assert got["green"] == (2, Decimal("0.062500"), 950_000_00)
    assert got["not_green"] == (3, Decimal("0.041333"), 1_000_000_01)


def test_a_label_without_offers_is_absent_and_no_offers_is_an_empty_report(
    engine: Engine,
) -> None:
    assert offers_by_green_label(engine) == []
    _write(engine, [("green", "declined", None), ("not_green", "referred", None)])
    assert offers_by_green_label(engine) == []
    _write(engine, [("green", "offered", (10_000_00, "0.05"))], first=2)
    assert offers_by_green_label(engine) == [("green", 1, Decimal("0.050000"), 10_000_00)]
