"""The dates a dashboard may show: those the end of day built figures for, latest first."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from small_book import PRODUCTS, close_day, make_book, write_book
from sqlalchemy import Engine

from puhui.adapters.db.reporting import SqlReportingStore
from puhui.domain.errors import InvalidInput
from puhui.domain.origination.errors import Forbidden
from puhui.services.reporting import dashboards
from puhui.services.security.permissions import Principal, Role

FIRST = date(2026, 2, 27)
RISK = Principal(user_id="u1", role=Role.RISK_OFFICER)


def test_snapshot_dates_are_the_built_dates_latest_first(
    engine: Engine, store: SqlReportingStore
) -> None:
    assert dashboards.snapshot_dates(store, actor=RISK) == ()
    write_book(engine, make_book(FIRST))
    second = FIRST + timedelta(days=1)
    for day in (FIRST, second):
        close_day(engine, day)
        store.refresh(day)
    assert dashboards.snapshot_dates(store, actor=RISK) == (second, FIRST)
    assert dashboards.snapshot_dates(store, actor=RISK, limit=1) == (second,)


def test_snapshot_dates_need_the_reporting_permission_and_a_sane_limit(
    store: SqlReportingStore,
) -> None:
    with pytest.raises(Forbidden):
        dashboards.snapshot_dates(store, actor=Principal(user_id="x", role=Role.APPROVER))
    with pytest.raises(InvalidInput):
        dashboards.snapshot_dates(store, actor=RISK, limit=0)


def test_product_codes_name_the_products_of_the_balances(
    engine: Engine, store: SqlReportingStore
) -> None:
    write_book(engine, make_book(FIRST))
    codes = dashboards.product_codes(store, actor=RISK)
    assert set(codes) == set(PRODUCTS)
    assert codes == {product_id: product_id.upper() for product_id in PRODUCTS}
    with pytest.raises(Forbidden):
        dashboards.product_codes(store, actor=Principal(user_id="x", role=Role.ADMIN))
