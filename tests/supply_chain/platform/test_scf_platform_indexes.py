"""A voucher's financings are read by index probes on the voucher (migration 0036), on
SQLite and PostgreSQL: the settlement's and the recognition run's reads, and the tree view's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from scf_support import APPROVER, SUPPLIER_USER, TIER2, build_service, issued, onboarded
from sqlalchemy import Engine, event

from puhui.bootstrap import Platform
from puhui.domain.clock import FixedClock
from puhui.domain.errors import Conflict
from puhui.domain.supply_chain.vouchers import VoucherStatus


def test_financings_are_read_by_their_voucher_through_its_index(
    platform: Platform, clock: FixedClock, query_plan: Callable[[Engine, str, Any], str]
) -> None:
    service = build_service(platform, clock)
    onboarded(service)
    root = issued(service)
    split = service.split_voucher(
        SUPPLIER_USER, voucher_id=root, parts=[600_00, 999_400_00], key="s"
    )
    children = [c.voucher_id for c in split.children]
    first = service.request_financing(SUPPLIER_USER, voucher_id=children[0], key="f0")
    approved = service.approve_financing(APPROVER, financing_id=first.financing_id, key="a0")
    rejected = service.request_financing(SUPPLIER_USER, voucher_id=children[1], key="f1")
    service.reject_financing(APPROVER, financing_id=rejected.financing_id, reason="test", key="r1")

    engine = platform.database.engine
    statements: list[tuple[str, Any]] = []

    def capture(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM voucher_financings" in statement:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with service.units() as uow:
            repo = uow.supply_chain
            unearned = repo.unearned(children)
            interest = repo.interest_of(children)
            every = repo.financings_of(children)
    finally:
        event.remove(engine, "before_cursor_execute", capture)

    # What they read: approved only for the money, every financing for the tree.
    assert [u.financing_id for u in unearned] == [approved.financing_id]
    assert approved.interest_fen is not None
    assert interest == {children[0]: (approved.interest_fen, approved.annual_rate)}
    assert sorted(f.financing_id for f in every) == sorted(
        [first.financing_id, rejected.financing_id]
    )
    # How: each by the voucher's index, none by the status index.
    assert len(statements) == 3
    for plan in (query_plan(engine, sql, parameters) for sql, parameters in statements):
        assert "ix_voucher_financings_voucher" in plan, plan


def test_a_voucher_changed_since_the_run_read_it_is_not_moved(
    platform: Platform, clock: FixedClock
) -> None:
    """The settlement's status update checks each voucher is still as read (still live; on
    PostgreSQL, the very version read): otherwise the chunk is refused and nothing moves."""
    service = build_service(platform, clock)
    onboarded(service)
    root = issued(service)
    with service.units() as uow:
        (read,) = uow.supply_chain.lock_and_read([root], [root])
        uow.rollback()
    split = service.split_voucher(
        SUPPLIER_USER, voucher_id=root, parts=[600_00, 999_400_00], key="s"
    )
    children = sorted(c.voucher_id for c in split.children)
    # As the settlement passes them: the voucher after the change, at its next version.
    overdue = replace(
        read, voucher=replace(read.voucher, status=VoucherStatus.OVERDUE), version=read.version + 1
    )
    with service.units() as uow, pytest.raises(Conflict):  # the root was split meanwhile
        uow.supply_chain.mark_overdue([overdue], at=clock.now())
    if platform.database.engine.dialect.name == "postgresql":
        with service.units() as uow:
            first, second = uow.supply_chain.lock_and_read([root], children)
            uow.rollback()
        service.transfer_voucher(SUPPLIER_USER, voucher_id=children[0], to=TIER2, key="t")
        stale, fresh = (
            replace(
                r, voucher=replace(r.voucher, status=VoucherStatus.OVERDUE), version=r.version + 1
            )
            for r in (first, second)
        )
        with service.units() as uow:
            uow.supply_chain.mark_overdue([fresh], at=clock.now())  # as read: it moves
            uow.rollback()
        with service.units() as uow, pytest.raises(Conflict):  # live, but a new version
            uow.supply_chain.mark_overdue([stale], at=clock.now())
    with service.units() as uow:
        after = {
            r.voucher.voucher_id: r.voucher.status
            for r in uow.supply_chain.vouchers_by_id([root, *children])
        }
    assert after == {
        root: VoucherStatus.SPLIT,
        children[0]: VoucherStatus.OUTSTANDING,
        children[1]: VoucherStatus.OUTSTANDING,
    }
