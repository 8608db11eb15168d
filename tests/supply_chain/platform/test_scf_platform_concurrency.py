"""PostgreSQL: 50 concurrent splits, transfers and financing requests on one voucher tree
lose and duplicate nothing (the root's row lock serialises them)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from scf_support import (
    INVOICED_FEN,
    RISK,
    SUPPLIER,
    SUPPLIER_USER,
    TIER2,
    build_service,
    issued,
    onboarded,
)
from sqlalchemy import func, select

from puhui.adapters.db.supply_chain.tables import voucher_financings, voucher_transfers, vouchers
from puhui.bootstrap import Platform, Settings, build_platform
from puhui.domain.clock import FixedClock
from puhui.domain.errors import PuhuiError
from puhui.services.supply_chain.ports import VoucherQuery

THREADS = 50
TARGETS = 10


@pytest.fixture
def pg_platform(postgres_url: str) -> Iterator[tuple[Platform, FixedClock]]:
    clock = FixedClock(datetime(2026, 3, 2, 1, 30, tzinfo=UTC))
    built = build_platform(
        Settings(database_url=postgres_url, environment="test", _env_file=None),  # type: ignore[call-arg]
        clock=clock,
    )
    built.database.upgrade()
    try:
        yield built, clock
    finally:
        built.close()


def test_fifty_concurrent_operations_on_one_tree(pg_platform: tuple[Platform, FixedClock]) -> None:
    platform, clock = pg_platform
    service = build_service(platform, clock)
    onboarded(service)
    root = issued(service)
    part = INVOICED_FEN // TARGETS
    split = service.split_voucher(
        SUPPLIER_USER, voucher_id=root, parts=[part] * TARGETS, key="setup"
    )
    targets = [c.voucher_id for c in split.children]
    start = threading.Barrier(THREADS)

    def work(i: int) -> tuple[str, str, str]:
        target = targets[i % TARGETS]
        kind = ("split", "transfer", "finance")[i % 3]
        start.wait()
        try:
            if kind == "split":
                service.split_voucher(
                    SUPPLIER_USER,
                    voucher_id=target,
                    parts=[part // 2, part - part // 2],
                    key=f"c{i}",
                )
            elif kind == "transfer":
                service.transfer_voucher(SUPPLIER_USER, voucher_id=target, to=TIER2, key=f"c{i}")
            else:
                service.request_financing(SUPPLIER_USER, voucher_id=target, key=f"c{i}")
        except PuhuiError as refused:
            return target, kind, refused.code
        return target, kind, "ok"

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(work, range(THREADS)))
    # Only the refusals the rules name: nothing failed on a lost race.
    expected = {"ok", "voucher_not_live", "financing_pending", "not_bound_to_enterprise"}
    assert {code for _, _, code in outcomes} <= expected, outcomes
    wins = Counter(target for target, _, code in outcomes if code == "ok")
    # Each target's first operation wins and retires it for the others: exactly one each.
    assert wins == Counter(dict.fromkeys(targets, 1))
    by_id = {v.voucher_id: v for v in service.list_vouchers(RISK, VoucherQuery(limit=500))}
    for target, kind, code in outcomes:
        if code != "ok":
            continue
        found = by_id[target]
        if kind == "split":
            assert found.status == "split"
            assert sum(v.amount_fen for v in by_id.values() if v.parent_id == target) == part
        elif kind == "transfer":
            assert (found.holder, found.tier, found.previous_holders) == (TIER2, 2, (SUPPLIER,))
        else:
            assert found.financing_pending
    live = [v for v in by_id.values() if v.status != "split"]
    assert sum(v.amount_fen for v in live) == INVOICED_FEN
    with platform.database.engine.connect() as c:
        transfers = c.execute(
            select(voucher_transfers.c.voucher_id, func.count()).group_by(
                voucher_transfers.c.voucher_id
            )
        ).all()
        financings = c.execute(
            select(voucher_financings.c.voucher_id, func.count()).group_by(
                voucher_financings.c.voucher_id
            )
        ).all()
        count = c.execute(select(func.count()).select_from(vouchers)).scalar_one()
    assert all(n == 1 for _, n in transfers)
    assert all(n == 1 for _, n in financings)
    splits = sum(1 for _, kind, code in outcomes if kind == "split" and code == "ok")
    assert count == 1 + TARGETS + 2 * splits
    assert len(transfers) + len(financings) + splits == TARGETS
