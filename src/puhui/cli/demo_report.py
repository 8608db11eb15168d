"""The demo's closing summary: aligned text, or rich tables when it prints to a terminal.

The summary is a list of :class:`Section`: a title and rows of cells. On a terminal each
section is a rich table; anywhere else (a pipe, a file, a test) it is plain text in aligned
columns. The portfolio and post-loan sections keep the lines they always had in plain text,
which scripts read.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from rich.console import Console
from rich.table import Table

from puhui.cli.demo_prospects import LinesGroup, ProspectResults
from puhui.domain.money import format_yuan
from puhui.pipelines.portfolio_summary import PortfolioSummary
from puhui.pipelines.post_loan import PostLoanReport

Echo = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Section:
    """One table of the summary: columns (the first is the label) and rows of text cells."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Sentences printed under the table."""
    numeric: frozenset[int] = frozenset()
    """Indices of the columns aligned to the right (numbers)."""


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def plain_lines(section: Section) -> list[str]:
    """The section as aligned text: a title line, then one line per row."""
    lines = ["", f"== {section.title} =="]
    widths = [
        max([len(c)] + [len(r[i]) for r in section.rows if i < len(r)])
        for i, c in enumerate(section.columns)
    ]
    show_header = len(section.columns) > 2 and any(section.columns[1:])
    table = [section.columns, *section.rows] if show_header else section.rows
    for row in table:
        cells = [
            cell.rjust(widths[i]) if i in section.numeric else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
    lines.extend(section.notes)
    return lines


def rich_table(section: Section) -> Table:
    table = Table(
        title=section.title,
        title_justify="left",
        title_style="bold",
        show_header=any(section.columns),
    )
    for i, name in enumerate(section.columns):
        table.add_column(name, justify="right" if i in section.numeric else "left")
    for row in section.rows:
        table.add_row(*row)
    return table


def print_sections(sections: Sequence[Section], echo: Echo, *, terminal: bool) -> None:
    if terminal:
        console = Console(file=sys.stdout)
        for section in sections:
            console.print()
            console.print(rich_table(section))
            for note in section.notes:
                console.print(note, highlight=False)
        return
    for section in sections:
        for line in plain_lines(section):
            echo(line)


# --- the portfolio (贷款组合) ------------------------------------------------------------


def portfolio_lines(s: PortfolioSummary) -> list[str]:
    """The portfolio in plain text: the lines scripts and tests read, unchanged."""
    out = [
        "",
        f"== Portfolio {s.first_day} .. {s.last_day} ({s.eod_days} end-of-day runs) ==",
        f"applications received      {s.applications:>10,}",
        f"  existing customers       {s.repeat_customers:>10,}  (already hold a line)",
    ]
    out += [
        f"  refused at entry: {code:<22} {count:>6,}"
        for code, count in sorted(s.refused_at_entry.items())
    ]
    out += [
        f"  automatic decision {status:<15} {count:>8,}"
        for status, count in sorted(s.outcomes.items())
    ]
    out += [
        f"lines opened               {s.lines_opened:>10,}  approval rate {s.approval_rate:.1%}",
        f"limits granted             {format_yuan(s.limits_fen):>18} yuan",
        f"drawn                      {format_yuan(s.drawn_fen):>18} yuan",
        f"repaid (all components)    {format_yuan(s.repaid_fen):>18} yuan",
        f"principal outstanding      {format_yuan(s.outstanding_principal_fen):>18} yuan",
        "days past due (active receipts):",
    ]
    out += [
        f"  {name:<8} {count:>7,} receipts {format_yuan(amount):>18} yuan"
        for name, (count, amount) in s.dpd_buckets.items()
    ]
    out.append("five-category classification (五级分类):")
    out += [
        f"  {name:<16} {count:>7,} receipts {format_yuan(amount):>18} yuan"
        for name, (count, amount) in s.categories.items()
    ]
    out += utilisation_lines(s)
    out += prospect_lines(s)
    out.append(_bad_rates(s))
    out += _fraud_lines(s)
    out.append(f"trial balance total        {s.trial_balance_fen:>10,} fen (must be 0)")
    return out


UTILISATION_TITLE = "line utilisation (drawn / limit of the lines in force at each month end)"


def utilisation_lines(s: PortfolioSummary) -> list[str]:
    """Utilisation overall and by month, then how draws and amounts due went (plain text)."""
    out = [f"{UTILISATION_TITLE}: overall {pct(s.overall_utilisation)}"]
    out += [
        f"  {m.month:%Y-%m}  {m.lines:>6,} lines  limit {format_yuan(m.limit_fen):>16}  "
        f"drawn {format_yuan(m.drawn_fen):>16}  {pct(m.utilisation):>7}  "
        f"draws in the month {m.draws:>5,} ({format_yuan(m.draws_fen)} yuan)"
        for m in s.utilisation
    ]
    return [*out, _draws_line(s), _payments_line(s)]


def _draws_line(s: PortfolioSummary) -> str:
    d = s.draw_outcomes
    refused = ", ".join(
        f"{reason.replace('_', ' ')} {d[reason]:,}"
        for reason in ("frozen", "expired", "no_limit")
        if d.get(reason)
    )
    return (
        f"draws as needs called for: {d.get('in_full', 0):,} in full, "
        f"{d.get('capped', 0):,} capped by the available limit; "
        f"not drawn: {refused or 'none'}"
    )


def _lines_group(g: LinesGroup, last_day: date) -> str:
    return (
        f"{g.lines:,} lines, defaulted by {last_day} {g.defaulted:,} ({pct(g.bad_rate)}), "
        f"mean 12-month PD at booking {pct(g.mean_pd)}"
    )


def active_credit_section(r: ProspectResults) -> Section:
    """The demo's pre-approval runs on the platform, the fast-track and what it converted."""
    section = Section("Active credit on the platform (主动授信)", ("", ""))
    section.rows.append(("models:", r.models))
    for m in r.months:
        section.rows.append(
            (
                f"run for {m.month:%Y-%m}:",
                f"{m.listed:,} pre-approved ({m.customers:,} already customers), "
                f"{m.assigned:,} assigned, run and loaded in {m.seconds:.1f}s",
            )
        )
    others = [
        f"{count:,} {what}"
        for count, what in ((r.lapsed, "after their offer lapsed"), (r.again, "applying again"))
        if count
    ]
    more = f" (not linked: {', '.join(others)})" if others else ""
    section.rows.append(("fast-tracked:", f"{r.linked:,} applications linked{more}"))
    section.rows.append(
        (
            "conversions recorded:",
            ", ".join(
                f"{name} {r.conversions.get(name, 0):,}"
                for name in ("approved", "declined", "pending")
            ),
        )
    )
    section.rows.append(("from prospects:", _lines_group(r.prospects, r.last_day)))
    section.rows.append(("from walk-ins:", _lines_group(r.walk_ins, r.last_day)))
    section.notes.append(
        "defaults are the truth's, known up to the window's last day only: "
        "a short window says little about the bad rate"
    )
    return section


def _payments_line(s: PortfolioSummary) -> str:
    p = s.payment_outcomes
    return (
        f"amounts due on repayment days, paid from the month's cash: {p.get('in_full', 0):,} "
        f"in full, {p.get('partial', 0):,} partly, {p.get('none', 0):,} not at all"
    )


def prospect_lines(s: PortfolioSummary) -> list[str]:
    """Active credit by month, when the run had prospects (nothing otherwise)."""
    if not s.prospects:
        return []
    return ["prospects (主动授信): pre-approved, applied (conversion), lines opened"] + [
        f"  {m.month:%Y-%m}  {m.prospects:>8,} pre-approved  {m.applied:>6,} applied "
        f"({pct(m.conversion)})  {m.lines_opened:>6,} lines opened"
        for m in s.prospects
    ]


def prospects_section(s: PortfolioSummary) -> Section:
    """Active credit by month as a table (on a terminal)."""
    section = Section(
        "Prospects (主动授信)",
        ("month", "pre-approved", "applied", "conversion", "lines opened"),
        numeric=frozenset({1, 2, 3, 4}),
    )
    section.rows.extend(
        (
            f"{m.month:%Y-%m}",
            f"{m.prospects:,}",
            f"{m.applied:,}",
            pct(m.conversion),
            f"{m.lines_opened:,}",
        )
        for m in s.prospects
    )
    return section


def utilisation_section(s: PortfolioSummary) -> Section:
    """Utilisation by month as a table (on a terminal)."""
    section = Section(
        UTILISATION_TITLE[0].upper() + UTILISATION_TITLE[1:],
        (
            "month",
            "lines",
            "limit (yuan)",
            "drawn (yuan)",
            "utilisation",
            "draws",
            "drawn in month",
        ),
        numeric=frozenset({1, 2, 3, 4, 5, 6}),
    )
    for m in s.utilisation:
        section.rows.append(
            (
                f"{m.month:%Y-%m}",
                f"{m.lines:,}",
                format_yuan(m.limit_fen),
                format_yuan(m.drawn_fen),
                pct(m.utilisation),
                f"{m.draws:,}",
                format_yuan(m.draws_fen),
            )
        )
    section.rows.append(("overall", "", "", "", pct(s.overall_utilisation), "", ""))
    section.notes.extend([_draws_line(s), _payments_line(s)])
    return section


def _bad_rates(s: PortfolioSummary) -> str:
    return (
        f"bad rate: predicted (mean 12-month PD at booking) {pct(s.predicted_bad_rate)}; "
        f"realised 90+ DPD {pct(s.realised_90dpd_rate)}; "
        f"truth: defaulted by {s.last_day} {pct(s.realised_truth_default_rate)}"
    )


def _fraud_lines(s: PortfolioSummary) -> list[str]:
    lines = []
    for label, figures in (("fraud", s.fraud), ("packaged (中介包装)", s.packaged)):
        total = figures.get("total", 0)
        caught = figures.get("caught", 0)
        missed = figures.get("missed_line_opened", 0)
        detail = ", ".join(
            f"{k}={v}" for k, v in sorted(figures.items()) if k.startswith("caught_")
        )
        lines.append(
            f"{label} applications (truth): {total:,}; caught {caught:,}, "
            f"missed (line opened) {missed:,}" + (f" [{detail}]" if detail else "")
        )
    catch = s.anti_fraud
    if catch is not None:
        share = catch.share
        lines.append(
            f"anti-fraud flagged fraud+packaged (truth, {catch.suspicious:,} assessed): "
            f"layer 1 alone {pct(share(catch.suspicious_layer_one, catch.suspicious))}, "
            f"with the graph {pct(share(catch.suspicious_with_graph, catch.suspicious))}; "
            f"genuine flagged ({catch.genuine:,}): layer 1 "
            f"{pct(share(catch.genuine_layer_one, catch.genuine))}, with the graph "
            f"{pct(share(catch.genuine_with_graph, catch.genuine))}; genuine referred for "
            f"graph credit risk (circles, contagion) "
            f"{pct(share(catch.genuine_graph_risk, catch.genuine))}"
        )
        lines.append(
            f"genuine on the enterprise's own data ({catch.own_data:,}): flagged "
            f"{pct(share(catch.own_data_flagged, catch.own_data))}; on data an intermediary "
            f"had inflated (truth, {catch.genuine_inflated:,}): flagged "
            f"{pct(share(catch.genuine_inflated_flagged, catch.genuine_inflated))}; declined "
            f"on the executed-person list (AF03, policy, not counted as a fraud flag) "
            f"{pct(share(catch.genuine_policy_list, catch.genuine))}"
        )
    return lines


def portfolio_sections(s: PortfolioSummary) -> list[Section]:
    """The portfolio as tables (on a terminal)."""
    flows = Section(
        f"Portfolio {s.first_day} .. {s.last_day} ({s.eod_days} end-of-day runs)",
        ("", "count", "amount (yuan)"),
        numeric=frozenset({1, 2}),
    )
    flows.rows.append(("applications received", f"{s.applications:,}", ""))
    flows.rows.append(("  existing customers", f"{s.repeat_customers:,}", ""))
    for code, count in sorted(s.refused_at_entry.items()):
        flows.rows.append((f"  refused at entry: {code}", f"{count:,}", ""))
    for status, count in sorted(s.outcomes.items()):
        flows.rows.append((f"  automatic decision {status}", f"{count:,}", ""))
    flows.rows.append((f"lines opened (approval {s.approval_rate:.1%})", f"{s.lines_opened:,}", ""))
    flows.rows.append(("limits granted", "", format_yuan(s.limits_fen)))
    flows.rows.append(("drawn", f"{s.receipts:,}", format_yuan(s.drawn_fen)))
    flows.rows.append(("repaid (all components)", "", format_yuan(s.repaid_fen)))
    flows.rows.append(("principal outstanding", "", format_yuan(s.outstanding_principal_fen)))
    flows.rows.append(("trial balance (must be 0 fen)", "", f"{s.trial_balance_fen:,} fen"))
    flows.notes.append(_bad_rates(s))
    flows.notes.extend(_fraud_lines(s))
    quality = Section(
        "Active receipts by days past due and five-category class (五级分类)",
        ("", "receipts", "principal (yuan)"),
        numeric=frozenset({1, 2}),
    )
    for name, (count, amount) in s.dpd_buckets.items():
        quality.rows.append((f"DPD {name}", f"{count:,}", format_yuan(amount)))
    for name, (count, amount) in s.categories.items():
        quality.rows.append((name, f"{count:,}", format_yuan(amount)))
    prospects = [prospects_section(s)] if s.prospects else []
    return [flows, utilisation_section(s), *prospects, quality]


# --- post-loan (贷后) --------------------------------------------------------------------


def post_loan_lines(r: PostLoanReport) -> list[str]:
    """Each month's cycle, the totals, the early warning against the truth (plain text)."""
    out = ["", "== Post-loan monitoring (贷后), each month's first day =="]
    for m in r.months:
        worked = ", ".join(f"{k} {v}" for k, v in sorted(m.outcomes.items())) or "none"
        out.append(
            f"  {m.as_of}  {m.status}: {m.customers:>6,} watched, alerts {m.alerts_created:,} "
            f"new / {m.alerts_extended:,} extended, {m.tasks_created:,} tasks; worked: {worked}; "
            f"lines frozen {m.lines_frozen:,}; collection cases {m.open_cases:,}; "
            f"concentration breaches {m.breaches}"
        )
    severities = ", ".join(f"{k} {v:,}" for k, v in r.alerts_by_severity.items())
    out.append(f"alerts                     {r.alerts:>10,}  ({severities})")
    codes = ", ".join(f"{code} {n:,}" for code, n in r.top_codes) or "none"
    out.append(f"  top signals: {codes}")
    outcomes = ", ".join(f"{k} {v:,}" for k, v in r.tasks_by_outcome.items()) or "none"
    out.append(f"tasks by outcome: {outcomes}")
    if r.left_open:
        out.append(f"tasks left open for the console: {_left_open(r)}")
    out.append(f"lines frozen               {r.lines_frozen:>10,}")
    buckets = ", ".join(f"{k} {v:,}" for k, v in r.cases_by_bucket.items()) or "none"
    out.append(f"open collection cases: {buckets}")
    out.append(f"concentration breaches (last evaluation): {', '.join(r.breaches) or 'none'}")
    out.extend(_early_warning(r))
    return out


def _early_warning(r: PostLoanReport) -> list[str]:
    lead = "n/a" if r.median_lead_months is None else f"{r.median_lead_months:.1f} months"
    share = r.alerted_defaulted / r.alerted if r.alerted else None
    base = r.booked_defaulted / r.booked if r.booked else None
    return [
        f"lead time (truth): {r.alerted_before_default:,} of {r.defaulted:,} booked customers "
        f"defaulting in the window had an alert before the default month; median lead {lead}",
        f"alerted customers that default (truth): {r.alerted_defaulted:,} of {r.alerted:,} "
        f"({pct(share)}; all booked customers {pct(base)})",
    ]


def _left_open(r: PostLoanReport) -> str:
    return (
        f"{r.left_open:,}, with their alerts (a manager claims one, a supervisor assigns one:"
        " 我的任务)"
    )


def post_loan_section(r: PostLoanReport) -> Section:
    """Post-loan monitoring as a table (on a terminal): one row per monthly cycle."""
    section = Section(
        "Post-loan monitoring (贷后), each month's first day",
        ("run", "status", "watched", "new alerts", "extended", "tasks", "frozen", "cases"),
        numeric=frozenset({2, 3, 4, 5, 6, 7}),
    )
    for m in r.months:
        section.rows.append(
            (
                str(m.as_of),
                m.status,
                f"{m.customers:,}",
                f"{m.alerts_created:,}",
                f"{m.alerts_extended:,}",
                f"{m.tasks_created:,}",
                f"{m.lines_frozen:,}",
                f"{m.open_cases:,}",
            )
        )
    severities = ", ".join(f"{k} {v:,}" for k, v in r.alerts_by_severity.items())
    codes = ", ".join(f"{code} {n:,}" for code, n in r.top_codes) or "none"
    outcomes = ", ".join(f"{k} {v:,}" for k, v in r.tasks_by_outcome.items()) or "none"
    section.notes.extend(
        [
            f"alerts {r.alerts:,} ({severities}); top signals: {codes}",
            f"tasks by outcome: {outcomes}; lines frozen {r.lines_frozen:,}",
            *([f"tasks left open for the console: {_left_open(r)}"] if r.left_open else []),
            f"concentration breaches (last evaluation): {', '.join(r.breaches) or 'none'}",
            *_early_warning(r),
        ]
    )
    return section
