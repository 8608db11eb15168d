"""The demo's supply-chain finance (供应链金融) stage: cores, vouchers, tiers, financing.

``supply_chain_stage`` onboards the market's cores on the demo's platform before the lending
window; ``with_vouchers`` hooks the month's voucher work onto the month's publication (first
day of each month, once the invoices of the month before are out); after the run,
``supply_chain_sections`` prints what the platform did: the cores and their facilities, the
vouchers month by month, the tiers they reached, the financing and its income, the settlement
and the trial balance.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from puhui.bootstrap.demo_supply_chain import LIVE_STATUSES
from puhui.cli.demo_report import Section, pct
from puhui.domain.money import to_yuan
from puhui.domain.progress import Progress

if TYPE_CHECKING:
    from puhui.bootstrap import Platform
    from puhui.bootstrap.demo_supply_chain import DemoSupplyChain, SupplyChainResults
    from puhui.services.origination.ports import DataSource

logger = logging.getLogger(__name__)
T = TypeVar("T")


def yuan(amount_fen: int) -> str:
    """``1,234,567.89``: yuan with thousands separators (the section's amounts are large)."""
    return f"{to_yuan(amount_fen):,.2f}"


def supply_chain_stage(
    platform_: Platform,
    market_dir: Path,
    first_day: date,
    progress: Progress,
    data_source: DataSource,
) -> DemoSupplyChain:
    """The market's cores onboarded on the platform as of ``first_day``, suppliers named;
    the platform reads enterprises and invoices through ``data_source`` (the market's)."""
    from puhui.bootstrap.demo_supply_chain import DemoSupplyChain  # noqa: PLC0415 - heavy
    from puhui.bootstrap.demo_voucher_desk import platform_voucher_desk  # noqa: PLC0415

    progress.start(None, "supply chain: onboarding the market's core enterprises")
    stage = DemoSupplyChain.from_market(platform_voucher_desk(platform_, data_source), market_dir)
    stage.onboard(first_day)
    return stage


def with_vouchers(publish: Callable[[date], T], stage: DemoSupplyChain) -> Callable[[date], T]:
    """The month's publication, then the month's vouchers (settlement first, then issues)."""

    def publish_then_vouchers(month: date) -> T:
        published = publish(month)
        stage.month_started(month)
        return published

    return publish_then_vouchers


def supply_chain_sections(r: SupplyChainResults) -> list[Section]:
    return [cores_section(r), voucher_months_section(r), tiers_section(r)]


def cores_section(r: SupplyChainResults) -> Section:
    section = Section(
        "Supply-chain finance: core enterprises (核心企业) and their facilities (授信额度)",
        ("core (USCC)", "grade", "facility (yuan)", "discount rate", "fee", "term", "expires"),
        numeric=frozenset({2}),
    )
    approved = [c for c in r.cores if c.approved]
    for c in approved:
        section.rows.append(
            (
                c.core,
                c.grade or "",
                yuan(c.limit_fen),
                "" if c.discount_rate is None else f"{c.discount_rate:.2%}",
                "" if c.fee_rate is None else f"{c.fee_rate:.2%}",
                "" if c.term_days is None else f"{c.term_days} days",
                "" if c.expires_on is None else str(c.expires_on),
            )
        )
    declined = [c for c in r.cores if not c.approved]
    section.notes.append(
        f"{len(approved):,} of {len(r.cores):,} medium firms with named suppliers onboarded as "
        f"cores (the market's medium firms act as core enterprises); facilities "
        f"{yuan(sum(c.limit_fen for c in approved))} yuan in all"
    )
    if declined:
        # One core may carry several of the strategy's reasons: each is counted.
        reasons = Counter(reason for c in declined for reason in c.reasons or ("declined",))
        listed = ", ".join(f"{k} ×{v}" if v > 1 else k for k, v in sorted(reasons.items()))
        section.notes.append(
            f"not onboarded (declined, referred to an approver, or refused): "
            f"{len(declined):,} ({listed})"
        )
    return section


def voucher_months_section(r: SupplyChainResults) -> Section:
    section = Section(
        "Supply-chain finance: vouchers (电子债权凭证) on each month's first day",
        (
            "day",
            "settled",
            "settled (yuan)",
            "issued",
            "issued (yuan)",
            "splits",
            "transfers",
            "financed",
            "financed (yuan)",
        ),
        numeric=frozenset(range(1, 9)),
    )
    for m in r.months:
        section.rows.append(
            (
                str(m.day),
                f"{m.settled.settled:,}",
                yuan(m.settled.settled_fen),
                f"{m.issued:,}",
                yuan(m.issued_fen),
                f"{m.splits:,}",
                f"{m.transfers:,}",
                f"{m.financed:,}",
                yuan(m.financed_fen),
            )
        )
    not_issued: dict[str, int] = {}
    for m in r.months:
        for reason, count in m.not_issued.items():
            not_issued[reason] = not_issued.get(reason, 0) + count
    skipped = ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in sorted(not_issued.items()))
    refused = ", ".join(f"{k} ×{v:,}" for k, v in sorted(r.refused.items()))
    passed = sum(m.transferred_fen for m in r.months)
    section.notes.extend(
        [
            f"issued {r.issued:,} vouchers, {yuan(r.issued_fen)} yuan, on named "
            f"suppliers' invoices of the month before (face = the month's invoice aggregate)"
            + (f"; not issued: {skipped}" if skipped else ""),
            f"passed down: {sum(m.splits for m in r.months):,} splits, "
            f"{sum(m.transfers for m in r.months):,} transfers to the holders' own suppliers, "
            f"{yuan(passed)} yuan",
            f"refused by the platform: {refused or 'none'}",
        ]
    )
    return section


def tiers_section(r: SupplyChainResults) -> Section:
    section = Section(
        "Supply-chain finance: tiers reached",
        ("tier", "vouchers", "amount (yuan)", "share"),
        numeric=frozenset({1, 2, 3}),
    )
    total = sum(amount for _, _, amount in r.tiers())
    for tier, count, amount in r.tiers():
        section.rows.append(
            (
                f"tier {tier}",
                f"{count:,}",
                yuan(amount),
                pct(amount / total if total else None),
            )
        )
    earned, fees = r.income_fen
    recognised = sum(m.earned_fen for m in r.months)
    count, outstanding = r.outstanding()
    settled = sum(m.settled.settled for m in r.months)
    to_bank = sum(m.settled.to_bank_fen for m in r.months)
    to_holders = sum(m.settled.to_holders_fen for m in r.months)
    overdue = sum(m.settled.overdue for m in r.months)
    financed = sum(m.financed for m in r.months)
    due_left = r.due_unsettled()
    owed = sorted(leaf.maturity for leaf in r.leaves if leaf.status in LIVE_STATUSES)
    maturities = (owed[0], owed[-1]) if owed else None
    section.notes.extend(
        [
            "vouchers by the tier of their holder (unsplit vouchers: what was held or settled); "
            f"deepest tier reached: {max((t for t, _, _ in r.tiers()), default=0)}",
            f"financed (贴现): {financed:,} vouchers, face {yuan(r.financed_fen)} yuan; "
            f"discount interest {yuan(r.interest_fen)}, fees "
            f"{yuan(r.fee_fen)}, proceeds paid {yuan(r.proceeds_fen)} yuan",
            f"income in the ledger by {r.last_day}: discount interest earned "
            f"{yuan(earned)} (6014; {yuan(recognised)} of it moved by the month-end runs), "
            f"fees {yuan(fees)} (6021); "
            f"unearned discount {yuan(-r.ledger.get('1306', 0))} (1306)",
            f"settled: {settled:,} vouchers, {yuan(r.settled_fen)} yuan "
            f"(to holders {yuan(to_holders)}, to the bank {yuan(to_bank)}); "
            f"overdue {overdue:,} ({yuan(r.overdue_fen)} yuan); due and unsettled "
            f"{due_left:,}",
            f"outstanding at the end: {count:,} vouchers, {yuan(outstanding)} yuan"
            + (f" maturing {maturities[0]} .. {maturities[1]}" if maturities else "")
            + (", none of them due yet" if due_left == 0 else f", {due_left:,} due and unpaid"),
            f"trial balance total {r.trial_balance_fen:,} fen (must be 0); "
            f"supply chain took {r.seconds:.1f}s",
        ]
    )
    return section
