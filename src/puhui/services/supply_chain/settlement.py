"""Settlement at maturity, in batches: every live voucher maturing on or before a date.

The run takes the due vouchers in id order, ``CHUNK`` at a time, one transaction per chunk:
it locks the chunk's roots (PostgreSQL, in id order), reads the vouchers again, and for each
core enterprise

* that pays (the platform assumes the core's funding unless it was recorded as defaulting):
  the domain's ``plan_settlement`` names the payee (the holder, or the bank for a financed
  voucher), the domain's postings build the entries, and a financed voucher that was overdue
  also pays penalty interest for the days since its maturity (posted now, at settlement:
  ``penalty_entry`` accrues it, and the core's payment collects it);
* that does not pay (``record_core_nonpayment``): its due vouchers become OVERDUE, its
  facility is frozen, and one monitoring alert is raised for it (none if one is open).

Writes are batched (``executemany``): settled vouchers, settlements, journal entries and
lines, the cores' outstanding, and one audit event per chunk naming its vouchers. A run
that stops half-way leaves whole chunks settled; running it again settles the rest (a
settled voucher is not due again), so the run is idempotent by date as well as by key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from puhui.domain.clock import Clock
from puhui.domain.ids import new_id
from puhui.domain.ledger import Account, JournalEntry
from puhui.domain.monitoring.alerts import Alert, Severity, Signal
from puhui.domain.supply_chain import (
    BANK_PAYEE,
    VoucherStatus,
    mark_overdue,
    penalty_entry,
    penalty_interest,
    plan_settlement,
    settlement_entries,
)
from puhui.services.audit import record
from puhui.services.monitoring.ports import AlertRecord
from puhui.services.security.permissions import Permission, Principal, require
from puhui.services.supply_chain import requests
from puhui.services.supply_chain.ports import (
    NONPAYMENT_REASON,
    CoreEnterpriseView,
    FacilityStatus,
    FinancingStatus,
    SettlementRow,
    SettlementRun,
    SupplyChainUnitOfWork,
    SupplyChainUnits,
    VoucherRecord,
)

CHUNK = 5_000
PENALTY_MULTIPLIER = Decimal("1.5")
"""Penalty interest on an overdue financed voucher: 1.5 x its discount rate, act/360, from
the maturity (counted) to the settlement date (not counted)."""
ALERT_CODE = "scf_core_nonpayment"


def _alert(core: str, on: dt.date, count: int, amount_fen: int) -> AlertRecord:
    return AlertRecord(
        alert=Alert(
            alert_id=new_id("alrt"),
            customer_id=core,
            run_date=on,
            signals=(
                Signal(
                    code=ALERT_CODE,
                    severity=Severity.HIGH,
                    text_zh="核心企业到期未兑付电子债权凭证",
                    text_en="The core enterprise did not pay its matured payable vouchers",
                    first_seen=on,
                ),
            ),
        ),
        line_id=None,
        evidence={ALERT_CODE: {"vouchers": count, "amount_fen": amount_fen}},
    )


def _penalty_entries(key: str, amount_fen: int, on: dt.date) -> tuple[JournalEntry, ...]:
    """Accrued (the domain's entry) and collected from the core in the same settlement."""
    collected = JournalEntry.build(
        f"{key}:collected",
        on,
        "penalty interest paid by the core enterprise",
        [(Account.SETTLEMENT, amount_fen), (Account.PENALTY_RECEIVABLE, -amount_fen)],
    )
    return (penalty_entry(key, amount_fen, on), collected)


LAPSED_REASON = "matured_before_decision"
"""Why an open financing request closes at settlement: the voucher matured (and was paid or
went overdue) before the bank approved it, so there is nothing left to discount."""


def _lapse_open_financings(
    uow: SupplyChainUnitOfWork, principal: Principal, on: dt.date, records: list[VoucherRecord]
) -> list[str]:
    """Close the open financing requests of vouchers leaving the live book at maturity:
    rejected with ``LAPSED_REASON`` by the run (the voucher's pending flag is cleared with
    its status). Returns the closed financings' ids."""
    pending = [r.voucher.voucher_id for r in records if r.financing_pending]
    if not pending:
        return []
    repo = uow.supply_chain
    closed: list[str] = []
    for financing in repo.financings_of(pending):
        if financing.status != FinancingStatus.REQUESTED.value:
            continue
        repo.save_financing(
            replace(
                financing,
                status=FinancingStatus.REJECTED.value,
                decided_on=on,
                decided_by=principal.audit_name(),
                reason=LAPSED_REASON,
            ),
            expected_status=FinancingStatus.REQUESTED.value,
        )
        closed.append(financing.financing_id)
    return closed


def _chunk(  # noqa: PLR0912, PLR0915, PLR0917 - one pass over a chunk, written out
    clock: Clock,
    uow: SupplyChainUnitOfWork,
    principal: Principal,
    on: dt.date,
    due: list[tuple[str, str]],
    run: SettlementRun,
) -> SettlementRun:
    repo = uow.supply_chain
    records = [
        r
        for r in repo.lock_and_read(sorted({root for _, root in due}), [v for v, _ in due])
        if r.voucher.is_live and r.voucher.maturity <= on
    ]
    cores = repo.cores_by_id(sorted({r.voucher.core_id for r in records}))
    financed_ids = [r.voucher.voucher_id for r in records if r.voucher.is_financed]
    interest = repo.interest_of(financed_ids)
    rows: list[SettlementRow] = []
    entries: list[JournalEntry] = []
    overdue: list[VoucherRecord] = []
    unpaid: dict[str, tuple[int, int]] = {}
    settled_fen = to_bank = to_holders = penalties = overdue_fen = 0
    for stored in records:
        v = stored.voucher
        core = cores[v.core_id]
        if core.defaulting:
            if v.status is not VoucherStatus.OVERDUE:
                if v.status is VoucherStatus.PENDING:
                    continue  # never accepted: it stays pending until the core pays
                overdue.append(replace(stored, voucher=mark_overdue(v, on=on)))
                overdue_fen += v.amount_fen
            count, amount = unpaid.get(v.core_id, (0, 0))
            unpaid[v.core_id] = (count + 1, amount + v.amount_fen)
            continue
        settled, payee = plan_settlement(v, on=on)
        key = f"scf:stl:{v.voucher_id}"
        financed_interest, rate = interest.get(v.voucher_id, (0, Decimal(0)))
        entries.extend(
            settlement_entries(key, v, payee, on, financed_interest if payee == BANK_PAYEE else 0)
        )
        penalty = 0
        if v.status is VoucherStatus.OVERDUE and v.is_financed and on > v.maturity:
            penalty = penalty_interest(
                v.amount_fen, since=v.maturity, through=on, annual_rate=rate * PENALTY_MULTIPLIER
            )
            if penalty:
                entries.extend(_penalty_entries(f"{key}:penalty", penalty, on))
        rows.append(
            SettlementRow(
                record=replace(stored, voucher=settled, version=stored.version + 1),
                payee=payee,
                penalty_fen=penalty,
                entry_key=key,
            )
        )
        settled_fen += v.amount_fen
        penalties += penalty
        if payee == BANK_PAYEE:
            to_bank += v.amount_fen
        else:
            to_holders += v.amount_fen
    now = clock.now()
    lapsed = _lapse_open_financings(uow, principal, on, [r.record for r in rows] + overdue)
    if rows:
        repo.apply_settlements(rows, on, at=now)
        repo.post_entries(entries)
    if overdue:
        repo.mark_overdue([replace(r, version=r.version + 1) for r in overdue], at=now)
    frozen = list(run.cores_frozen)
    alerts = 0
    for uscc, (count, amount) in sorted(unpaid.items()):
        core = repo.core(uscc, lock=True) or cores[uscc]
        if core.status != FacilityStatus.FROZEN.value:
            changed: CoreEnterpriseView = replace(
                core,
                status=FacilityStatus.FROZEN.value,
                frozen_reason=NONPAYMENT_REASON,
                version=core.version + 1,
            )
            repo.save_core(changed, expected_version=core.version)
        if uscc not in frozen:
            frozen.append(uscc)
        if not uow.monitoring.open_alerts([uscc]):
            uow.monitoring.add_alert(replace(_alert(uscc, on, count, amount), created_at=now))
            alerts += 1
    if rows or overdue or unpaid:
        record(
            uow,
            actor=principal.audit_name(),
            action="supply_chain.vouchers_settled",
            entity="voucher_settlement_run",
            entity_id=on.isoformat(),
            payload={
                "settled": [r.record.voucher.voucher_id for r in rows],
                "overdue": [r.voucher.voucher_id for r in overdue],
                "settled_fen": settled_fen,
                "cores_frozen": sorted(unpaid),
                "financings_lapsed": lapsed,
            },
        )
    return replace(
        run,
        settled=run.settled + len(rows),
        settled_fen=run.settled_fen + settled_fen,
        to_bank_fen=run.to_bank_fen + to_bank,
        to_holders_fen=run.to_holders_fen + to_holders,
        penalty_fen=run.penalty_fen + penalties,
        overdue=run.overdue + len(overdue),
        overdue_fen=run.overdue_fen + overdue_fen,
        cores_frozen=tuple(frozen),
        alerts_raised=run.alerts_raised + alerts,
    )


def settle_due(
    units: SupplyChainUnits, clock: Clock, principal: Principal, *, on: dt.date, key: str
) -> SettlementRun:
    """Settle (or mark overdue) every live voucher maturing on or before ``on``."""
    require(principal, Permission.VOUCHER_SETTLE)
    scoped = requests.scoped_key(principal, key)
    operation = "scf.settle"
    request_digest = requests.digest(operation, {"on": on})
    with units() as uow:
        replayed = requests.replay(uow, scoped, operation, request_digest, SettlementRun)
        if replayed is not None:
            return replayed
        expired = uow.supply_chain.expire_cores(on)
        if expired:
            record(
                uow,
                actor=principal.audit_name(),
                action="supply_chain.facilities_expired",
                entity="voucher_settlement_run",
                entity_id=on.isoformat(),
                payload={"expired": expired},
            )
        uow.commit()
    run = SettlementRun(on=on, facilities_expired=expired)
    # The due vouchers are listed once (ids and roots), then settled chunk by chunk: each
    # chunk reads its vouchers again under its roots' locks and skips those no longer due.
    with units() as uow:
        due = uow.supply_chain.due(on, after=None, limit=None, overdue_too=True)
        uow.rollback()
    for start in range(0, len(due), CHUNK):
        with units() as uow:
            run = _chunk(clock, uow, principal, on, due[start : start + CHUNK], run)
            uow.commit()
    with units() as uow:
        requests.remember(uow, scoped, operation, request_digest, run)
        uow.commit()
    return run
