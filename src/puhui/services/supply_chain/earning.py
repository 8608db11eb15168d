"""The discount interest of financed vouchers, earned over their days (accrual basis).

At financing the bank credits the whole discount interest to unearned discount (1306). A
recognition run through a day (operations run it at each month end; the demo at the start
of each month, through the day before) moves what each financed, unsettled voucher has
earned by then into interest income (6014): the domain's ``earned_discount`` (straight line
over the financed days, the financing date counted, rounded half-up) less what earlier runs
moved. Settlement moves the rest. So the income of a voucher always sums to its interest,
whatever the runs, and a run repeated for the same day moves nothing more.

Like settlement, the run goes chunk by chunk, one transaction each: it locks the chunk's
roots (PostgreSQL, in id order; settlement takes the same locks, so a voucher is never
earned and settled at once), reads the vouchers and their financings again, and writes one
journal entry and one audit event per chunk.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from puhui.domain.clock import Clock
from puhui.domain.errors import InvalidDate
from puhui.domain.ids import new_id
from puhui.domain.supply_chain import earned_discount, earned_discount_entry
from puhui.services.audit import record
from puhui.services.security.permissions import Permission, Principal, require
from puhui.services.supply_chain import requests
from puhui.services.supply_chain.ports import EarningRun, SupplyChainUnits

CHUNK = 5_000


def earn_discount_interest(
    units: SupplyChainUnits, clock: Clock, principal: Principal, *, through: dt.date, key: str
) -> EarningRun:
    """Recognise the discount interest earned by the end of ``through`` (today at the latest)."""
    require(principal, Permission.VOUCHER_SETTLE)
    if through > clock.today():
        raise InvalidDate(
            "interest is recognised up to today at the latest, not for days to come",
            details={"field": "through", "today": clock.today().isoformat()},
        )
    scoped = requests.scoped_key(principal, key)
    operation = "scf.earn"
    request_digest = requests.digest(operation, {"through": through})
    with units() as uow:  # one read: the key's first result, else what may earn
        replayed = requests.replay(uow, scoped, operation, request_digest, EarningRun)
        if replayed is not None:
            return replayed
        candidates = uow.supply_chain.earning(through)
        uow.rollback()
    run = EarningRun(through=through)
    for start in range(0, len(candidates), CHUNK):
        chunk = candidates[start : start + CHUNK]
        with units() as uow:
            repo = uow.supply_chain
            live = {
                r.voucher.voucher_id
                for r in repo.lock_and_read(
                    sorted({root for _, root in chunk}), [v for v, _ in chunk]
                )
                if r.voucher.is_live and r.voucher.is_financed
            }
            changes: list[tuple[str, int, int]] = []
            for financing in repo.unearned(sorted(live)):
                target = earned_discount(
                    financing.interest_fen,
                    days=financing.days,
                    financed_on=financing.financed_on,
                    through=through,
                )
                if target > financing.earned_fen:
                    changes.append((financing.financing_id, financing.earned_fen, target))
            if not changes:
                continue
            amount = sum(after - before for _, before, after in changes)
            entry_key = f"scf:earn:{through.isoformat()}:{new_id('ern')}"
            repo.set_earned(changes)
            repo.post_entries([earned_discount_entry(entry_key, amount, through)])
            record(
                uow,
                actor=principal.audit_name(),
                action="supply_chain.discount_earned",
                entity="voucher_earning_run",
                entity_id=through.isoformat(),
                payload={"financings": [c[0] for c in changes], "earned_fen": amount},
            )
            uow.commit()
        run = replace(
            run,
            financings=run.financings + len(changes),
            earned_fen=run.earned_fen + amount,
            entries=(*run.entries, entry_key),
        )
    with units() as uow:
        requests.remember(uow, scoped, operation, request_digest, run)
        uow.commit()
    return run
