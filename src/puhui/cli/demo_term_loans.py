"""The demo's term-loan stage: a book of working-capital loans, their payments, and the
extensions (展期) and restructurings (重组) their borrowers ask for.

``term_loans_stage`` books the loans on the window's first day; ``with_term_loans`` hooks the
stage's month onto the month's publication; after the run, ``term_loans_section`` prints the
book, the changes approved and left pending, and how the loans stand by five-category class.
See ``puhui.bootstrap.demo_term_loans`` for what the borrowers do and why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, TypeVar

from puhui.cli.demo_report import Section
from puhui.domain.money import to_yuan
from puhui.domain.progress import Progress

if TYPE_CHECKING:
    import polars as pl

    from puhui.bootstrap import Platform
    from puhui.bootstrap.demo_term_loans import DemoTermLoans, TermLoansResults
    from puhui.pipelines.collecting_channel import CollectingChannel
    from puhui.pipelines.simulation import MarketApplication

T = TypeVar("T")

CATEGORIES = (
    ("pass", "正常"),
    ("special-mention", "关注"),
    ("substandard", "次级"),
    ("doubtful", "可疑"),
    ("loss", "损失"),
)


def term_loans_stage(
    platform_: Platform,
    *,
    truth: Mapping[str, pl.DataFrame],
    applications: Iterable[MarketApplication],
    window: tuple[date, date],
    progress: Progress,
    channel: CollectingChannel | None = None,
) -> DemoTermLoans:
    """The book disbursed on the window's first day to some of its applicants: genuine
    businesses only (``truth`` is ``read_truth``'s: no shells, fraud rings, fraudulent or
    packaged applications), so the branch's book is not a fraudster's."""
    import polars as pl  # noqa: PLC0415 - heavy

    from puhui.bootstrap.demo_term_loans import demo_term_loans  # noqa: PLC0415 - heavy

    progress.start(None, "term loans: booking the branch's working-capital loans")
    enterprises = truth["enterprises_truth"]
    default_months: dict[str, date | None] = dict(
        zip(
            enterprises.get_column("uscc").to_list(),
            enterprises.get_column("default_month").to_list(),
            strict=True,
        )
    )
    shells_and_rings = set(
        enterprises.filter(pl.col("is_shell") | pl.col("fraud_ring_id").is_not_null())
        .get_column("uscc")
        .to_list()
    )
    fraud_or_packaged = set(
        truth["applications_truth"]
        .filter(pl.col("is_fraud") | pl.col("is_packaged"))
        .get_column("application_id")
        .to_list()
    )
    applied = list(applications)
    not_genuine = shells_and_rings | {
        a.uscc for a in applied if a.application_id in fraud_or_packaged
    }
    stage = demo_term_loans(platform_, default_months, channel)
    stage.book(*window, sorted({a.uscc for a in applied} - not_genuine))
    return stage


def with_term_loans(publish: Callable[[date], T], stage: DemoTermLoans) -> Callable[[date], T]:
    """The month's publication, then the term loans' month (payments, then changes)."""

    def publish_then_term_loans(month: date) -> T:
        published = publish(month)
        stage.month_started(month)
        return published

    return publish_then_term_loans


def _yuan(amount_fen: int) -> str:
    return f"{to_yuan(amount_fen):,.2f}"


def term_loans_section(r: TermLoansResults) -> Section:
    refused = ", ".join(f"{k} ×{v}" for k, v in sorted(r.refused.items())) or "none"
    standing = ", ".join(
        f"{zh} {r.categories[code]}" for code, zh in CATEGORIES if r.categories[code]
    )
    return Section(
        "Term loans (流动资金贷款): extensions (展期) and restructurings (重组)",
        ("", ""),
        rows=[
            (
                "booked:",
                f"{r.loans:,} loans, {_yuan(r.principal_fen)} yuan, "
                f"{r.term_months} months, 等额本息",
            ),
            ("paid by borrowers:", f"{_yuan(r.paid_fen)} yuan, on the instalments' due dates"),
            ("extensions approved:", f"{r.extensions:,} (a longer order cycle, not difficulty)"),
            (
                "extensions rejected:",
                f"{r.rejected:,} (collections cover the maturity; the reason is on the change)",
            ),
            (
                "restructurings approved:",
                f"{r.restructurings:,}; arrears brought into the new schedules: principal "
                f"{_yuan(r.arrears_principal_fen)}, interest {_yuan(r.arrears_interest_fen)} "
                "yuan (re-aged, nothing posted)",
            ),
            ("waiting in the console:", f"{r.pending:,} changes for an approver"),
            (
                "at the end:",
                f"{standing or 'no active loans'}; {r.in_arrears:,} in arrears, "
                f"{r.closed:,} repaid",
            ),
            ("refused:", refused),
            ("time:", f"term loans took {r.seconds:.1f}s"),
        ],
    )
