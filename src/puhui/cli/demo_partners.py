"""The demo's lending-with-partners stage (issue #19): joint lending, facilitation, a guarantee
agency and renewals.

``partners_stage`` signs the agreements on the demo's platform before the lending window;
``with_partners`` hooks the stage's month onto the month's publication (the first day of each
month: the days before are closed); after the run, ``partners_sections`` prints each party's
income, losses, claims and recoveries, the renewals, and the checks: the last day's settlement
file reconciles to the fen against itself, its shares add up, and the trial balance is zero.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

from puhui.cli.demo_report import Section
from puhui.domain.money import to_yuan
from puhui.domain.progress import Progress

if TYPE_CHECKING:
    from puhui.bootstrap import Platform
    from puhui.bootstrap.demo_partners import DemoPartners, PartnersResults
    from puhui.pipelines.simulation import LendingSimulation, MarketApplication
    from puhui.services.security.permissions import Principal

T = TypeVar("T")


def yuan(amount_fen: int) -> str:
    return f"{to_yuan(amount_fen):,.2f}"


def partners_stage(
    platform_: Platform, first_day: date, last_day: date, progress: Progress
) -> DemoPartners:
    """The agreements signed and active from ``first_day``; loans are tied as they are booked."""
    from puhui.bootstrap.demo_partners import demo_partners  # noqa: PLC0415 - heavy

    progress.start(None, "partners: signing joint-lending, facilitation and guarantee agreements")
    stage = demo_partners(platform_)
    stage.sign(first_day, last_day)
    return stage


def brought_by_partner(app: MarketApplication) -> Principal | None:
    """The partner that brings one of the market's applications (the partner channel's), so
    the application carries its id and routing puts its loans under the partner's agreement."""
    from puhui.bootstrap.demo_partners import brought_by  # noqa: PLC0415 - heavy

    return brought_by(app.application_id, app.channel)


def with_partners(publish: Callable[[date], T], stage: DemoPartners) -> Callable[[date], T]:
    """The month's publication, then the partners' month (the days before it are closed)."""

    def publish_then_partners(month: date) -> T:
        published = publish(month)
        stage.month_started(month)
        return published

    return publish_then_partners


def run_with_partners(
    simulation: LendingSimulation,
    stage: DemoPartners,
    first_day: date,
    last_day: date,
    progress: Progress,
) -> None:
    """Run the simulation, the stage watching its loans; then close the stage's last days."""
    stage.booked = lambda: simulation.receipts
    stage.renewed = simulation.borrowers.renewed
    simulation.run(first_day, last_day, progress)
    stage.finish(last_day)


def file_totals(text: str) -> tuple[int, int, int, int]:
    """(rows, total, partner, bank) of a settlement file, in fen."""
    rows = list(csv.DictReader(io.StringIO(text)))

    def fen(column: str) -> int:
        return sum(int(Decimal(r[column]) * 100) for r in rows)

    return len(rows), fen("total"), fen("partner"), fen("bank")


def partners_sections(r: PartnersResults) -> list[Section]:
    return [parties_section(r), checks_section(r)]


def parties_section(r: PartnersResults) -> Section:
    section = Section(
        "Lending with partners (联合贷款, 助贷, 银担合作): each party's income, losses, claims",
        ("party", "loans", "income (yuan)", "losses (yuan)", "claims paid (yuan)", "recovered"),
        numeric=frozenset({1, 2, 3, 4, 5}),
    )
    ledger = r.ledger
    interest = r.credit("6011", "6012")
    partner_interest = ledger.get("6022", 0)
    fees = ledger.get("6402", 0)
    written_off = ledger.get("6701", 0)
    partner_losses = r.credit("6023")
    compensation = r.credit("6030")
    recoveries = r.credit("6013") - ledger.get("6024", 0) - ledger.get("6410", 0)
    agency_fees = sum(e.fees_fen for e in r.exposure)
    claims_paid = sum(e.claims_paid_fen for e in r.exposure)
    agency_recovered = sum(e.agency_recovered_fen for e in r.exposure)
    section.rows.extend(
        [
            (
                "the bank (own share)",
                "",
                yuan(interest - partner_interest - fees),
                yuan(written_off - partner_losses - compensation),
                "",
                yuan(recoveries),
            ),
            (
                "joint-lending partner bank (40 %)",
                f"{r.tied.get('joint lending', 0):,}",
                yuan(r.joint.interest_fen),
                yuan(r.joint.losses_fen),
                "",
                yuan(r.joint.recoveries_fen),
            ),
            (
                "facilitation channel (fee per loan)",
                f"{r.tied.get('facilitation', 0):,}",
                yuan(r.facilitation.fees_fen),
                "0.00",
                "",
                "",
            ),
            (
                "guarantee agency (80 % cover)",
                f"{r.tied.get('guarantee', 0):,}",
                yuan(agency_fees),
                yuan(claims_paid - agency_recovered),
                yuan(claims_paid),
                yuan(agency_recovered),
            ),
        ]
    )
    refused = ", ".join(f"{k} ×{v:,}" for k, v in sorted(r.refused.items()))
    section.notes.extend(
        [
            "partners' customers' loans are routed to their agreements at the month's first "
            "day (the simulation's only hook), dated on the disbursement day; guarantee covers "
            "on the hook day; not tied: " + (refused or "none"),
            f"joint-lending partner: funded {yuan(r.joint.principal_funded_fen)}, repaid "
            f"{yuan(r.joint.principal_repaid_fen)}, outstanding "
            f"{yuan(r.joint.principal_outstanding_fen)} yuan",
            f"bank: interest and penalty {yuan(interest)}, passed to the partner "
            f"{yuan(partner_interest)}, facilitation fees {yuan(fees)} (unpaid at the end "
            f"{yuan(r.credit('2244'))}), write-offs {yuan(written_off)} of which the partner "
            f"bore {yuan(partner_losses)}, guarantee compensation released "
            f"{yuan(compensation)}, held {yuan(r.credit('2251'))} yuan",
            f"guarantee claims: {len(r.claims):,} raised and paid, "
            + (
                f"at {min(d for _, d, _ in r.claims)}..{max(d for _, d, _ in r.claims)} days "
                "past due"
                if r.claims
                else "none reached 90 days past due in the window"
            ),
        ]
    )
    return section


RENEWAL_REFUSALS = {
    "amount_out_of_range": "principal left outside the product's amount range",
    "loan_in_arrears": "past due on the day offered",
    "outside_renewal_window": "not within 30 days of maturity",
    "loan_not_changeable/line_frozen": "its credit line frozen by post-loan monitoring",
    "loan_not_changeable/nothing_left": "repaid or renewed already",
    "loan_not_changeable/not_last_instalment": "a term loan not in its last instalment",
    "loan_not_changeable/no_line": "a receipt without a credit line",
}
"""What the platform's refusals of the demo's renewal offers mean (docs/loan-changes.md)."""


def checks_section(r: PartnersResults) -> Section:
    section = Section("Lending with partners: renewals (无还本续贷) and checks", ("", ""), rows=[])
    t = r.renewals
    declined = ", ".join(f"{k} ×{v}" for k, v in sorted(t.declined.items())) or "none"
    refused = (
        "; ".join(
            f"{k} ×{v}" + (f" ({RENEWAL_REFUSALS[k]})" if k in RENEWAL_REFUSALS else "")
            for k, v in sorted(t.refused.items())
        )
        or "none"
    )
    rows, total, partner, bank = file_totals(r.last_file)
    section.rows.extend(
        [
            ("renewals offered:", f"{t.offered:,} loans maturing within 30 days"),
            (
                "renewed:",
                f"{len(t.approved):,} (principal {yuan(t.principal_fen)} moved to new loans, "
                "no money flowed)",
            ),
            ("declined:", declined),
            ("refused:", refused),
            (
                f"settlement file {r.last_file_day}:",
                f"{rows:,} row{'' if rows == 1 else 's'}, total {yuan(total)} = partner "
                f"{yuan(partner)} + bank {yuan(bank)} "
                f"({'adds up' if total == partner + bank else 'DOES NOT add up'})",
            ),
            (
                "reconciliation:",
                f"{len(r.last_file_differences)} differences (the file against our rows; the "
                f"last day with movements through {r.last_day})",
            ),
            ("trial balance:", f"total {r.trial_balance_fen:,} fen (must be 0)"),
            ("time:", f"partners took {r.seconds:.1f}s"),
        ]
    )
    return section
