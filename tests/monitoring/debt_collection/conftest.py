"""Fixtures of the collections tests: a migrated platform, a revolving product, a book."""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

import pytest

# The helper next to this file is a plain module, not a package.
sys.path.insert(0, str(Path(__file__).parent))

from collection_book import Book, Units

from puhui.adapters.db.collections.unit_of_work import collections_units
from puhui.bootstrap import Platform
from puhui.domain.lending.product import LoanProduct, RepaymentMethod
from puhui.services.servicing.products import create_product


@pytest.fixture
def units(platform: Platform) -> Units:
    return collections_units(
        platform.database.engine,
        clock=platform.clock,
        audit_key=platform.audit_key,
        cipher=platform.settings.field_cipher(),
    )


@pytest.fixture
def book(platform: Platform, units: Units) -> Book:
    platform.migrate()  # seeds the shipped strategy, trigger rules and concentration limits
    product = LoanProduct(
        code="SUI-E-RONG",
        name="随e融 revolving",
        method=RepaymentMethod.DAILY_REVOLVING,
        min_annual_rate=Decimal("0.03"),
        max_annual_rate=Decimal("0.18"),
        min_term_months=1,
        max_term_months=12,
        min_amount_fen=100_00,
        max_amount_fen=10_000_000_00,
        penalty_uplift=Decimal("0.5"),
    )
    return Book(platform, units, create_product(units, product, actor="ops"))
