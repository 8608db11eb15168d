"""Server time of the console's applications and credit-lines pages on a large book.

Usage: PYTHONPATH=src .venv/bin/python bench/bench_console_pages.py
       [--applications 100000] [--lines 50000] [--requests 60] [--database URL]

Migrates a fresh database (SQLite in a temporary folder, or ``--database URL``, which is reset),
makes one referred application and one credit line with a receipt and a repayment through the
services, then copies their rows to ``--applications`` applications (statuses, dates and
amounts spread) and ``--lines`` lines, as a bank of that size would hold. Each page is then
asked ``--requests`` times in-process (the ASGI app with its middleware, templates and the
services; no network) by a signed-in approver and risk officer; p50 and p95 are printed
against the issue's bar (p95 <= 150 ms per console page). The assessor is a stub: the decision
engine is measured by its own benchmark.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, select, text

from puhui.adapters.db import migrate
from puhui.adapters.db.engine import make_engine
from puhui.adapters.db.origination import tables as t
from puhui.adapters.db.servicing.tables import credit_lines
from puhui.adapters.db.servicing.unit_of_work import ServicingUnitOfWork, servicing_units
from puhui.bootstrap.api import ApiKeys, build_api_dependencies
from puhui.domain.clock import FixedClock
from puhui.domain.ids import CreditLineId, new_id
from puhui.domain.origination.assessment import Assessment, Outcome
from puhui.domain.origination.consent import DataScope
from puhui.services.origination import use_cases as uc
from puhui.services.origination.line_opening import ServicingLineOpener
from puhui.services.origination.ports import AssessmentRequest
from puhui.services.security import accounts
from puhui.services.security.passwords import PasswordHasher
from puhui.services.security.permissions import SYSTEM, Role
from puhui.services.servicing import lines, receipts
from puhui.web.app import create_app

USCC = "91350100M000100Y43"
OWNER_ID = "11010519491231002X"
PHONE = "13812345678"
PASSWORD = "bench-password-1"
BAR_MS = 150.0
STATUSES = ("declined", "line_opened", "referred", "expired", "offered", "consented", "created")
WEIGHTS = (45, 35, 6, 6, 3, 3, 2)


class StubAssessor:
    """Refers every application with a proposal (the page shows a review form)."""

    def assess(self, request: AssessmentRequest) -> Assessment:
        return Assessment(
            outcome=Outcome.REFER,
            reasons=("LARGE_EXPOSURE",),
            limit_fen=30_000_000,
            annual_rate=Decimal("0.0435"),
            term_months=12,
            grade="B",
            pd=Decimal("0.021"),
            score=655,
            trace={"reason_texts": {"LARGE_EXPOSURE": ["额度较大，需人工审批", "Large amount"]}},
        )


class StubSource:
    def pull(self, uscc: str, scope: DataScope, *, as_of: date) -> Mapping[str, Any]:
        if scope is DataScope.REGISTRATION:
            return {"legal_representative_id_number": OWNER_ID, "registered_on": "2018-05-01"}
        if scope is DataScope.COURT:
            return {"executed_person": False}
        return {"scope": scope.value}


class Sender:
    def __init__(self) -> None:
        self.codes: dict[str, str] = {}

    def send(self, phone: str, code: str) -> None:
        self.codes[phone] = code


def _seed(engine: Engine, clock: FixedClock) -> tuple[TestClient, str, str]:
    """The app, one referred application and one line with a receipt and a repayment."""
    audit_key = b"a" * 32
    servicing = servicing_units(engine, clock=clock, audit_key=audit_key)
    sender = Sender()
    deps = build_api_dependencies(
        engine=engine,
        clock=clock,
        keys=ApiKeys(
            audit_key=audit_key,
            data_key=b"d" * 32,
            jwt_secret=b"j" * 32,
            signing_key_seed=bytes(range(32)),
        ),
        assessor=StubAssessor(),
        data_source=StubSource(),
        line_opener=ServicingLineOpener(servicing),
        otp_sender=sender,
        hasher=PasswordHasher(time_cost=1, memory_cost_kib=1024),
        servicing_uow_factory=servicing,
        servicing_reader_factory=lambda: ServicingUnitOfWork(
            engine, clock=clock, audit_key=audit_key, read_only=True
        ),
    )
    for name, role in (("approver", Role.APPROVER), ("risk", Role.RISK_OFFICER)):
        accounts.create_user(
            deps.security, actor=SYSTEM, username=name, password=PASSWORD, role=role
        )
    accounts.request_code(deps.security, phone=PHONE, client="bench")
    token = accounts.verify_code(deps.security, phone=PHONE, code=sender.codes[PHONE])
    owner = accounts.authenticate_token(deps.security, token.access_token)
    o = deps.origination

    def referred() -> str:
        app = uc.create_application(
            o,
            actor=owner,
            request=uc.NewApplication(
                uscc=USCC, id_number=OWNER_ID, phone=PHONE, requested_amount_fen=20_000_000
            ),
        )
        uc.give_consent(
            o,
            actor=owner,
            application_id=app.application_id,
            scopes=list(DataScope),
            purpose="credit",
        )
        uc.assess_application(o, actor=owner, application_id=app.application_id)
        return app.application_id

    approver = accounts.authenticate_token(
        deps.security,
        accounts.login(
            deps.security, username="approver", password=PASSWORD, client="bench"
        ).access_token,
    )
    first = referred()
    uc.review_application(o, actor=approver, application_id=first, approve=True, note="bench")
    opened = uc.accept_offer(o, actor=owner, application_id=first)
    line_id = opened.application.credit_line_id or ""
    drawn = lines.draw(
        servicing,
        CreditLineId(line_id),
        amount_fen=5_000_000,
        on=clock.today(),
        maturity_date=clock.today() + timedelta(days=180),
        idempotency_key="bench-draw",
        actor="bench",
    )
    receipts.repay(
        servicing,
        drawn.receipt_id,
        amount_fen=1_000_000,
        on=clock.today(),
        idempotency_key="bench-repay",
        actor="bench",
    )
    app_id = referred()
    return TestClient(create_app(deps), base_url="https://testserver"), app_id, line_id


def _copy_rows(
    engine: Engine, template_app: str, template_line: str, n_apps: int, n_lines: int
) -> None:
    """Copies of the two rows with fresh keys and spread statuses, dates and amounts."""
    rng = random.Random(7)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with engine.begin() as connection:
        row = dict(
            connection.execute(
                select(t.applications).where(t.applications.c.application_id == template_app)
            )
            .one()
            ._mapping
        )
        batch: list[dict[str, Any]] = []
        for i in range(n_apps):
            copy = dict(row)
            copy.update(
                application_id=new_id("app"),
                application_no=f"PB{i:016d}",
                uscc=f"9135{i:014d}",
                open_uscc=None,
                status=rng.choices(STATUSES, WEIGHTS)[0],
                created_at=start + timedelta(minutes=rng.randrange(0, 150 * 24 * 60)),
                requested_amount_fen=rng.randrange(1_000_000, 300_000_000, 100),
            )
            batch.append(copy)
            if len(batch) == 5000:
                connection.execute(insert(t.applications), batch)
                batch.clear()
        if batch:
            connection.execute(insert(t.applications), batch)
        line = dict(
            connection.execute(select(credit_lines).where(credit_lines.c.line_id == template_line))
            .one()
            ._mapping
        )
        copies = []
        for i in range(n_lines):
            copy = dict(line)
            copy.update(
                line_id=new_id("line"),
                enterprise_id=f"9144{i:014d}",
                status="frozen" if rng.random() < 0.02 else "active",
            )
            copies.append(copy)
        for offset in range(0, len(copies), 5000):
            connection.execute(insert(credit_lines), copies[offset : offset + 5000])
        if engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE"))


def _sign_in(client: TestClient, username: str) -> None:
    client.cookies.clear()
    page = client.get("/console/sign-in").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = client.post(
        "/console/sign-in",
        data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/console/"},
        follow_redirects=False,
    )
    if answer.status_code != 303:
        raise SystemExit(f"could not sign in as {username}: {answer.status_code}")


def _time(client: TestClient, path: str, requests: int) -> tuple[float, float]:
    for _ in range(3):
        client.get(path)  # warm the caches (templates, statements)
    samples = []
    for _ in range(requests):
        began = time.perf_counter()
        answer = client.get(path)
        samples.append((time.perf_counter() - began) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{path}: {answer.status_code}")
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--database", default=None, help="a database URL (reset first)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="puhui-console-bench-") as work:
        url = args.database or f"sqlite:///{Path(work) / 'bench.db'}"
        engine = make_engine(url)
        if args.database:
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        migrate.upgrade(engine, "heads")
        clock = FixedClock(datetime(2025, 6, 3, 2, 0, tzinfo=UTC))
        client, app_id, line_id = _seed(engine, clock)
        began = time.perf_counter()
        _copy_rows(engine, app_id, line_id, args.applications, args.lines)
        print(
            f"{engine.dialect.name}: {args.applications:,} applications and {args.lines:,} lines"
            f" copied in {time.perf_counter() - began:.1f} s; {args.requests} requests per page"
        )
        pages = {
            "approver": [
                "/console/applications",
                "/console/applications?queue=in_review",
                "/console/applications?queue=all",
                "/console/applications?queue=all&page=100",
                "/console/applications?queue=all&min=100000&max=200000",
                "/console/applications?queue=all&from=2025-03-01&to=2025-03-07",
                "/console/applications?queue=all&no=PB0000000000012345",
                f"/console/applications/{app_id}",
            ],
            "risk": [
                "/console/lines",
                "/console/lines?status=frozen",
                "/console/lines?customer=91440000000000012345",
                "/console/lines?page=100",
                f"/console/lines/{line_id}",
            ],
        }
        print(f"| page | p50 ms | p95 ms | p95 <= {BAR_MS:.0f} ms |")
        print("| --- | ---: | ---: | --- |")
        for user, paths in pages.items():
            _sign_in(client, user)
            for path in paths:
                p50, p95 = _time(client, path, args.requests)
                shown = path.replace(app_id, "{id}").replace(line_id, "{id}")
                print(f"| `{shown}` | {p50:.1f} | {p95:.1f} | {'yes' if p95 <= BAR_MS else 'NO'} |")
        client.close()
        engine.dispose()


if __name__ == "__main__":
    main()
