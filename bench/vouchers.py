"""Payable vouchers through the platform's service: mixed operations per second, and the
settlement of 100,000 vouchers maturing on one date.

Usage: .venv/bin/python bench/vouchers.py [--database URL] [--cycles 500] [--settle 100000]

``--database`` is a SQLite file URL (default: a new file in a temporary folder) or a
PostgreSQL server URL (a new database is created on it and dropped afterwards). The schema is
migrated first.

* mixed: in one process, cycles of confirm payable -> issue -> accept -> split in two ->
  transfer one part -> request financing of the other, each a service call in its own
  transaction with its idempotency key, audit event and root lock: operations per second.
* settle: ``--settle`` accepted vouchers maturing on one date are written straight to the
  tables (a third of them financed, with their financings); a recognition run earns their
  discount interest through the day before (``earn_discount_interest``, as operations run it
  at a month end), then ``settle_due`` settles them all: seconds of each, and the check that
  every one was settled and the books balance.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import checkpoint_in_background, make_engine
from puhui.adapters.db.supply_chain.repository import SqlSupplyChainRepository
from puhui.adapters.db.supply_chain.tables import core_enterprises, voucher_financings, vouchers
from puhui.bootstrap.supply_chain import supply_chain_service_on
from puhui.domain.clock import FixedClock
from puhui.domain.supply_chain import discount, financing_entry
from puhui.services.security.permissions import Principal, Role
from puhui.services.supply_chain.ports import EnterpriseInfo
from puhui.services.supply_chain.use_cases import SupplyChainService

KEY = b"bench-vouchers-key-" + b"x" * 13
CORE = "91330100MA2BENCH0X"
START = dt.date(2026, 1, 1)
RISK = Principal("bench-risk", Role.RISK_OFFICER)
OPS = Principal("bench-ops", Role.OPERATIONS)
CORE_USER = Principal("bench-core", Role.APPLICANT)
SUPPLIER_USER = Principal("bench-supplier", Role.APPLICANT)


def supplier(n: int) -> str:
    return f"9133{n:012d}XX"[:18]


class Source:
    """Every supplier sold to the core each month; supplier 0's suppliers sold to it."""

    def enterprise(self, uscc: str) -> EnterpriseInfo | None:
        return EnterpriseInfo(uscc, None, "medium" if uscc == CORE else "small")

    def core_facts(self, uscc: str, *, as_of: dt.date, requested_fen: int) -> Any:
        return requested_fen

    def invoice_amount(self, seller: str, buyer: str, month: dt.date) -> int | None:
        return 100_000_00

    def sold_to(self, seller: str, buyer: str, *, since: dt.date, before: dt.date) -> bool:
        return True


class Decision:
    approved = True
    grade = "A"
    discount_annual_rate = Decimal("0.036")
    fee_rate = Decimal("0.001")
    term_days = 360
    reasons: tuple[str, ...] = ()
    strategy_version = "bench"

    def __init__(self, limit_fen: int) -> None:
        self.limit_fen = limit_fen


class Policy:
    def decide_facility(self, facts: Any) -> Decision:
        return Decision(int(facts))

    def discount_rate(self, grade: str, *, as_of: dt.date | None = None) -> Decimal:
        return Decimal("0.036")

    def fee_rate(self, grade: str) -> Decimal:
        return Decimal("0.001")


def setup(service: SupplyChainService, suppliers: int) -> None:
    service.onboard_core(RISK, uscc=CORE, requested_fen=10**15, as_of=START, key="onboard")
    service.bind_user(RISK, user_id=CORE_USER.user_id, uscc=CORE)
    for n in range(suppliers):
        service.name_partner(
            RISK, core=CORE, partner_uscc=supplier(n), relation="supplier", key=f"p{n}"
        )
        service.bind_user(RISK, user_id=SUPPLIER_USER.user_id, uscc=supplier(n))


def mixed(service: SupplyChainService, cycles: int) -> tuple[int, float, float]:
    """Operations, wall seconds and this process's CPU seconds of ``cycles`` cycles of six
    operations (on a shared machine the CPU time says what one free core would take)."""
    months = 24
    setup(service, cycles // months + 1)
    maturity = START + dt.timedelta(days=200)
    ops = 0
    cpu = time.process_time()
    started = time.perf_counter()
    for n in range(cycles):
        seller = supplier(n // months)
        month = dt.date(2024 + (n % months) // 12, (n % months) % 12 + 1, 1)
        payable = service.confirm_payable(
            CORE_USER,
            core=CORE,
            supplier=seller,
            invoice_month=month,
            amount_fen=100_000_00,
            key=f"pay{n}",
        )
        voucher = service.issue_voucher(
            CORE_USER, core=CORE, payable_id=payable.payable_id, maturity=maturity, key=f"iss{n}"
        )
        service.accept_voucher(SUPPLIER_USER, voucher_id=voucher.voucher_id, key=f"acc{n}")
        split = service.split_voucher(
            SUPPLIER_USER, voucher_id=voucher.voucher_id, parts=[60_000_00, 40_000_00], key=f"s{n}"
        )
        first, second = (c.voucher_id for c in split.children)
        service.transfer_voucher(
            SUPPLIER_USER, voucher_id=first, to=supplier(n // months + 1_000), key=f"t{n}"
        )
        service.request_financing(SUPPLIER_USER, voucher_id=second, key=f"f{n}")
        ops += 6
    return ops, time.perf_counter() - started, time.process_time() - cpu


def seed_due(engine: Any, count: int, on: dt.date, clock: FixedClock) -> None:
    """``count`` accepted vouchers maturing on ``on``; every third financed (with its entry)."""
    now = clock.now()
    face = 50_000_00
    issued = on - dt.timedelta(days=90)
    financed_on = on - dt.timedelta(days=60)
    priced = discount(
        face,
        financed_on=financed_on,
        maturity=on,
        annual_rate=Decimal("0.036"),
        fee_rate=Decimal("0.001"),
    )
    with engine.begin() as c:
        c.execute(
            core_enterprises.update()
            .where(core_enterprises.c.uscc == CORE)
            .values(outstanding_fen=core_enterprises.c.outstanding_fen + count * face)
        )
        repo = SqlSupplyChainRepository(c, clock)
        for start in range(0, count, 5_000):
            rows: list[dict[str, Any]] = []
            fins: list[dict[str, Any]] = []
            entries = []
            for n in range(start, min(start + 5_000, count)):
                vid = f"vch_bench{n:09d}"
                financed = n % 3 == 0
                rows.append(
                    {
                        "voucher_id": vid,
                        "root_id": vid,
                        "parent_id": None,
                        "core_uscc": CORE,
                        "holder_uscc": supplier(n % 500),
                        "amount_fen": face,
                        "issued_on": issued,
                        "maturity": on,
                        "status": "financed" if financed else "outstanding",
                        "tier": 1,
                        "invoice_key": None,
                        "financed_on": financed_on if financed else None,
                        "previous_holders": "",
                        "financing_pending": False,
                        "version": 1,
                        "updated_at": now,
                    }
                )
                if financed:
                    key = f"scf:fin:fin_bench{n:09d}"
                    fins.append(
                        {
                            "financing_id": f"fin_bench{n:09d}",
                            "voucher_id": vid,
                            "holder_uscc": supplier(n % 500),
                            "core_uscc": CORE,
                            "status": "approved",
                            "requested_on": financed_on,
                            "requested_by": "bench",
                            "decided_on": financed_on,
                            "decided_by": "bench",
                            "reason": None,
                            "face_fen": face,
                            "days": priced.days,
                            "annual_rate": priced.annual_rate,
                            "fee_rate": priced.fee_rate,
                            "interest_fen": priced.interest_fen,
                            "fee_fen": priced.fee_fen,
                            "proceeds_fen": priced.proceeds_fen,
                            "entry_key": key,
                        }
                    )
                    entries.append(financing_entry(key, priced, financed_on))
            c.execute(insert(vouchers), rows)
            if fins:
                c.execute(insert(voucher_financings), fins)
            repo.post_entries(entries)


def trial_balance_zero(engine: Any) -> bool:
    with engine.connect() as c:
        total = c.execute(
            text("SELECT COALESCE(SUM(amount_fen), 0) FROM journal_lines")
        ).scalar_one()
    return int(total) == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=None)
    parser.add_argument("--cycles", type=int, default=500)
    parser.add_argument("--settle", type=int, default=100_000)
    args = parser.parse_args()
    admin = None
    name = None
    url = args.database
    if url is None:
        url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'vouchers.db'}"
    elif make_url(url).get_backend_name() == "postgresql":
        admin = create_engine(make_url(url), isolation_level="AUTOCOMMIT")
        name = f"puhui_bench_vouchers_{uuid.uuid4().hex[:8]}"
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        # As the API server runs it (bootstrap/serving.py): SQLite's WAL checkpoints on a
        # background thread of this process, not inside an unlucky operation's commit.
        checkpoint_in_background(engine)
        clock = FixedClock(dt.datetime(2026, 1, 5, 2, 0, tzinfo=dt.UTC))
        service = supply_chain_service_on(
            engine, clock=clock, audit_key=KEY, source=Source(), policy=Policy()
        )
        print(f"database: {engine.dialect.name}; load average: {os.getloadavg()}")
        if args.cycles:
            ops, seconds, cpu = mixed(service, args.cycles)
            print(
                f"mixed: {ops} operations in {seconds:.2f} s = {ops / seconds:,.0f} ops/s "
                f"({cpu:.2f} s of CPU in this process = {ops / cpu:,.0f} ops per CPU second)"
            )
        if args.settle:
            if not args.cycles:
                setup(service, 1)
            on = dt.date(2026, 6, 30)
            seed_due(engine, args.settle, on, clock)
            clock.advance(dt.datetime(2026, 6, 30, 2, 0, tzinfo=dt.UTC) - clock.now())
            started = time.perf_counter()
            cpu = time.process_time()
            earned = service.earn_discount_interest(
                OPS, through=on - dt.timedelta(days=1), key="bench-earn"
            )
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu
            print(
                f"earn: {earned.financings:,} financings earned {earned.earned_fen // 100:,} "
                f"yuan of discount interest in {seconds:.2f} s ({cpu:.2f} s of CPU in this "
                f"process, {len(earned.entries)} journal entries)"
            )
            assert earned.financings == len(range(0, args.settle, 3))
            started = time.perf_counter()
            cpu = time.process_time()
            run = service.settle_due(OPS, on=on, key="bench-settle")
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu
            print(
                f"settle: {run.settled:,} vouchers ({run.to_bank_fen // 100:,} yuan to the bank, "
                f"{run.to_holders_fen // 100:,} to holders) in {seconds:.2f} s "
                f"({cpu:.2f} s of CPU in this process); "
                f"trial balance zero: {trial_balance_zero(engine)}"
            )
            assert run.settled >= args.settle
        print(f"load average after: {os.getloadavg()}")
    finally:
        engine.dispose()
        if admin is not None:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
