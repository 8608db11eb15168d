"""The world of the suspense API tests (挂账 over HTTP): a closed day reconciled with the
channel's file, its unposted orders ready to hold, and the open day after it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from api_support import Api, build_servicing_api
from test_servicing_api import draw, open_line

from puhui.adapters.db.servicing.end_of_day import SqlEndOfDayStore
from puhui.domain.clock import FixedClock
from puhui.domain.ledger import Account
from puhui.pipelines.eod import run_end_of_day
from puhui.services.security.permissions import Role
from puhui.services.servicing.ledger import trial_balance

SUSPENSE = "/api/v1/repayment-suspense"
UNKNOWN_ITEM = "sus_01M97GEBT7CCJTMT31HSJDFZQ4"
TRANSFER = ("transfer_loan_id", "transfer_requested_by", "transfer_requested_at")
REJECTED = ("rejected_request", "rejected_reason", "rejected_by", "rejected_at")


@dataclass(frozen=True)
class World:
    """A closed day reconciled with the channel's file, and the open day after it."""

    api: Api
    ops: dict[str, str]
    receipt: str
    """The loan the channel named for every order (owes about 50,000 yuan)."""
    small_receipt: str
    """A loan owing about 400 yuan."""
    run_id: str
    value_date: str
    open_day: str
    end_of_day: SqlEndOfDayStore

    def hold(self, order_id: str, headers: dict[str, str] | None = None) -> Any:
        body = {"run_id": self.run_id, "order_id": order_id}
        return self.api.client.post(SUSPENSE, json=body, headers=headers or self.ops)

    def held(self, order_id: str) -> dict[str, Any]:
        response = self.hold(order_id)
        assert response.status_code == 201, response.text
        found: dict[str, Any] = response.json()
        return found

    def get(self, item_id: str, headers: dict[str, str] | None = None) -> Any:
        return self.api.client.get(f"{SUSPENSE}/{item_id}", headers=headers or self.ops)

    def owed(self, receipt_id: str) -> int:
        schedule = self.api.client.get(f"/api/v1/receipts/{receipt_id}/schedule", headers=self.ops)
        assert schedule.status_code == 200, schedule.text
        return int(schedule.json()["total_owed_fen"])

    def post(self, item_id: str, action: str, body: Any = None, headers: Any = None) -> Any:
        """``POST …/{item_id}/{action}`` (``apply``, ``refund``, ``refund/approve``…)."""
        url = f"{SUSPENSE}/{item_id}/{action}"
        return self.api.client.post(url, json=body, headers=headers or self.ops)

    def books(self) -> tuple[int, int]:
        """The settlement and suspense balances (debit +) through the open day."""
        credit = self.api.deps.credit
        assert credit is not None
        balance = trial_balance(credit.servicing_uow, as_of=date.fromisoformat(self.open_day))
        assert balance.balanced
        fen = balance.balances_fen
        return fen.get(Account.SETTLEMENT, 0), fen.get(Account.REPAYMENT_SUSPENSE, 0)


@contextmanager
def suspense_world(database_url: str, clock: FixedClock, tmp_path: Path) -> Iterator[World]:
    """Two receipts drawn and ORD-1 repaid on the value date, which then closes; on the open
    day ORD-5 is repaid a day late. The channel's file of the value date has ORD-1 as posted,
    and ORD-5, ORD-7 (500 yuan), ORD-8 (300 yuan) and ORD-9 (99,999 yuan, more than is owed)
    as collected, not posted."""
    api, engine = build_servicing_api(database_url, clock, tmp_path / "models")
    try:
        line_id, owner = open_line(api)
        receipt = draw(api, line_id, owner, "draw-1", 5_000_000).json()["receipt_id"]
        small = draw(api, line_id, owner, "draw-2", 40_000).json()["receipt_id"]
        value_date = clock.today().isoformat()
        repay(api, owner, receipt, "ORD-1", 100_000)
        store = SqlEndOfDayStore(engine, clock=clock)  # type: ignore[arg-type]
        run_end_of_day(store, clock.today())
        clock.advance(timedelta(days=1))
        repay(api, api.applicant_headers(), receipt, "ORD-5", 20_000)
        ops = api.staff_headers(Role.OPERATIONS)
        channel_file = (
            "order_id,loan_id,amount,value_date,channel_ref\n"
            f"ORD-1,{receipt},1000.00,{value_date},CH-1\n"
            f"ORD-5,{receipt},200.00,{value_date},CH-5\n"
            f"ORD-7,{receipt},500.00,{value_date},CH-7\n"
            f"ORD-8,{receipt},300.00,{value_date},\n"
            f"ORD-9,{receipt},99999.00,{value_date},CH-9\n"
        )
        found = api.client.post(
            "/api/v1/repayment-reconciliations",
            json={"value_date": value_date, "file": channel_file},
            headers=ops,
        )
        assert found.status_code == 200, found.text
        assert [(b["order_id"], b["kind"]) for b in found.json()["breaks"]] == [
            (order, "not_posted") for order in ("ORD-5", "ORD-7", "ORD-8", "ORD-9")
        ]
        yield World(
            api=api,
            ops=ops,
            receipt=receipt,
            small_receipt=small,
            run_id=found.json()["run_id"],
            value_date=value_date,
            open_day=clock.today().isoformat(),
            end_of_day=store,
        )
    finally:
        api.client.close()
        engine.dispose()  # type: ignore[attr-defined]


def repay(api: Api, owner: dict[str, str], receipt: str, order_id: str, fen: int) -> None:
    paid = api.client.post(
        f"/api/v1/receipts/{receipt}/repayments",
        json={"amount_fen": fen},
        headers={**owner, "Idempotency-Key": order_id},
    )
    assert paid.status_code == 201, paid.text
