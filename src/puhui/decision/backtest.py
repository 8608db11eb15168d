"""Backtest: replay stored decision inputs through a strategy (and the current one) and compare."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from puhui.decision.engine import CompiledStrategy
from puhui.decision.outcome import Decision, ModelResult, Outcome
from puhui.domain.errors import InvalidInput
from puhui.domain.money import format_yuan, round_fen

DEFAULT_LGD = Decimal("0.45")
"""Loss given default for unsecured SME credit (the Basel foundation-IRB senior unsecured value)."""


@dataclass(slots=True)
class Group:
    """Totals for one slice of the population (all, a grade, a segment)."""

    applicants: int = 0
    approved: int = 0
    referred: int = 0
    declined: int = 0
    pd_sum_approved: float = 0.0
    limit_fen_approved: int = 0
    expected_loss_fen: Decimal = Decimal(0)
    expected_interest_fen: Decimal = Decimal(0)

    def add(self, decision: Decision, lgd: Decimal) -> None:
        self.applicants += 1
        if decision.outcome is Outcome.DECLINE:
            self.declined += 1
            return
        if decision.outcome is Outcome.REFER:
            self.referred += 1
            return
        self.approved += 1
        pd = Decimal(repr(decision.pd or 0.0))
        self.pd_sum_approved += decision.pd or 0.0
        self.limit_fen_approved += decision.limit_fen
        self.expected_loss_fen += pd * lgd * decision.limit_fen
        # One year of interest on a fully drawn line, earned by the borrowers who do not default.
        rate = decision.annual_rate or Decimal(0)
        self.expected_interest_fen += decision.limit_fen * rate * (1 - pd)

    @property
    def approval_rate(self) -> float:
        return self.approved / self.applicants if self.applicants else 0.0

    @property
    def referral_rate(self) -> float:
        return self.referred / self.applicants if self.applicants else 0.0

    @property
    def expected_bad_rate(self) -> float:
        """Mean PD of the approved: the share expected to default within a year."""
        return self.pd_sum_approved / self.approved if self.approved else 0.0


@dataclass(slots=True)
class StrategyResult:
    strategy_version: str
    total: Group = field(default_factory=Group)
    by_grade: dict[str, Group] = field(default_factory=dict)
    by_segment: dict[str, Group] = field(default_factory=dict)
    reasons: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True)
class SwapSet:
    """Applicants whose outcome changes between the current strategy and the candidate."""

    swap_in: int = 0
    """Approved by the candidate, not by the current strategy."""
    swap_out: int = 0
    """Approved by the current strategy, not by the candidate."""
    swap_in_pd_sum: float = 0.0
    swap_out_pd_sum: float = 0.0
    by_segment: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def swap_in_bad_rate(self) -> float:
        return self.swap_in_pd_sum / self.swap_in if self.swap_in else 0.0

    @property
    def swap_out_bad_rate(self) -> float:
        return self.swap_out_pd_sum / self.swap_out if self.swap_out else 0.0


@dataclass(slots=True)
class BacktestReport:
    population: str
    applicants: int
    as_of: dt.date
    licence_type: str
    lgd: Decimal
    candidate: StrategyResult
    current: StrategyResult | None = None
    swaps: SwapSet | None = None
    skipped: list[str] = field(default_factory=list)
    """Rows refused by input validation (``applicant_id: problem``), reported, not hidden."""

    def to_markdown(self, chart: str | None = None) -> str:
        lines = [
            f"# Backtest of {self.candidate.strategy_version}",
            "",
            f"- population: `{self.population}` ({self.applicants} applicants)",
            f"- as of {self.as_of.isoformat()}, licence type `{self.licence_type}`, LGD {self.lgd}",
            "- expected bad rate = mean PD of approved applicants; expected loss = "
            "PD x LGD x limit; expected interest = limit x rate x (1 - PD), one year fully drawn",
        ]
        if self.skipped:
            lines.append(f"- {len(self.skipped)} rows refused by input validation (listed below)")
        lines += ["", "## Summary", ""]
        results = [self.candidate] + ([self.current] if self.current else [])
        lines += _summary_table(results)
        for result in results:
            lines += ["", f"## {result.strategy_version} by grade", ""]
            lines += _group_table("grade", result.by_grade)
            lines += ["", f"## {result.strategy_version} by segment", ""]
            lines += _group_table("segment", result.by_segment)
            lines += ["", f"## {result.strategy_version}: most frequent reasons", ""]
            lines += ["| reason | applicants |", "| --- | ---: |"]
            lines += [f"| {code} | {count} |" for code, count in result.reasons.most_common(12)]
        if self.swaps is not None and self.current is not None:
            swaps = self.swaps
            lines += [
                "",
                f"## Swap set: {self.candidate.strategy_version} vs "
                f"{self.current.strategy_version}",
                "",
                "| | applicants | expected bad rate |",
                "| --- | ---: | ---: |",
                f"| swap-in (approved only by the candidate) | {swaps.swap_in} | "
                f"{swaps.swap_in_bad_rate:.2%} |",
                f"| swap-out (approved only by the current) | {swaps.swap_out} | "
                f"{swaps.swap_out_bad_rate:.2%} |",
                "",
                "| segment | swap-in | swap-out |",
                "| --- | ---: | ---: |",
            ]
            lines += [
                f"| {segment} | {ins} | {outs} |"
                for segment, (ins, outs) in sorted(swaps.by_segment.items())
            ]
        if chart:
            lines += ["", f"![approval and bad rate by grade]({chart})"]
        if self.skipped:
            lines += ["", "## Rows refused", ""] + [f"- {s}" for s in self.skipped[:50]]
        return "\n".join(lines) + "\n"


def _summary_table(results: list[StrategyResult]) -> list[str]:
    lines = [
        "| strategy | approved | approval rate | referred | declined | expected bad rate "
        "| approved limits (yuan) | expected loss (yuan) | expected interest (yuan) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for result in results:
        t = result.total
        lines.append(
            f"| {result.strategy_version} | {t.approved} | {t.approval_rate:.2%} | {t.referred} "
            f"| {t.declined} | {t.expected_bad_rate:.2%} | {format_yuan(t.limit_fen_approved)} "
            f"| {format_yuan(round_fen(t.expected_loss_fen))} "
            f"| {format_yuan(round_fen(t.expected_interest_fen))} |"
        )
    return lines


def _group_table(label: str, groups: Mapping[str, Group]) -> list[str]:
    lines = [
        f"| {label} | applicants | approved | approval rate | referred | expected bad rate "
        "| approved limits (yuan) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for key in sorted(groups):
        g = groups[key]
        lines.append(
            f"| {key} | {g.applicants} | {g.approved} | {g.approval_rate:.2%} | {g.referred} "
            f"| {g.expected_bad_rate:.2%} | {format_yuan(g.limit_fen_approved)} |"
        )
    return lines


def _model_result(row: Mapping[str, Any]) -> ModelResult:
    version = row.get("model_version")
    return ModelResult(
        pd=row.get("pd"),
        score=row.get("score"),
        model_versions={}
        if version is None
        else dict([str(version).split(":", 1)])
        if ":" in str(version)
        else {"model": str(version)},
    )


def _replay(
    strategy: CompiledStrategy,
    row: Mapping[str, Any],
    model: ModelResult,
    as_of: dt.date,
    licence_type: str,
) -> Decision:
    return strategy.evaluate(
        row,
        model,
        as_of=row.get("as_of") or as_of,
        licence_type=row.get("licence_type") or licence_type,
    )


def run_backtest(
    strategy: CompiledStrategy,
    rows: Iterable[Mapping[str, Any]],
    *,
    against: CompiledStrategy | None = None,
    as_of: dt.date,
    licence_type: str,
    lgd: Decimal = DEFAULT_LGD,
    population: str = "population",
) -> BacktestReport:
    """Replay every row (inputs + stored model outputs) through the strategies and total up."""
    candidate = StrategyResult(strategy.version)
    current = None if against is None else StrategyResult(against.version)
    swaps = None if against is None else SwapSet()
    skipped: list[str] = []
    count = 0
    for row in rows:
        count += 1
        model = _model_result(row)
        segment = str(row.get("segment") or "all")
        try:
            decision = _replay(strategy, row, model, as_of, licence_type)
            previous = (
                None if against is None else _replay(against, row, model, as_of, licence_type)
            )
        except InvalidInput as exc:
            skipped.append(f"{row.get('applicant_id', count)}: {exc.message}")
            continue
        _tally(candidate, decision, segment, lgd)
        if previous is not None and current is not None and swaps is not None:
            _tally(current, previous, segment, lgd)
            new_ok = decision.outcome is Outcome.APPROVE
            old_ok = previous.outcome is Outcome.APPROVE
            if new_ok != old_ok:
                ins, outs = swaps.by_segment.get(segment, (0, 0))
                if new_ok:
                    swaps.swap_in += 1
                    swaps.swap_in_pd_sum += decision.pd or 0.0
                    swaps.by_segment[segment] = (ins + 1, outs)
                else:
                    swaps.swap_out += 1
                    swaps.swap_out_pd_sum += previous.pd or 0.0
                    swaps.by_segment[segment] = (ins, outs + 1)
    return BacktestReport(
        population=population,
        applicants=count,
        as_of=as_of,
        licence_type=licence_type,
        lgd=lgd,
        candidate=candidate,
        current=current,
        swaps=swaps,
        skipped=skipped,
    )


def _tally(result: StrategyResult, decision: Decision, segment: str, lgd: Decimal) -> None:
    result.total.add(decision, lgd)
    grade = decision.grade or "(none)"
    result.by_grade.setdefault(grade, Group()).add(decision, lgd)
    result.by_segment.setdefault(segment, Group()).add(decision, lgd)
    result.reasons.update(decision.reasons)


def read_population(path: Path) -> pl.DataFrame:
    try:
        return pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InvalidInput(f"cannot read population {path}: {exc}") from None


def backtest_file(
    strategy: CompiledStrategy,
    population: Path,
    *,
    against: CompiledStrategy | None = None,
    as_of: dt.date,
    licence_type: str,
    lgd: Decimal = DEFAULT_LGD,
) -> BacktestReport:
    frame = read_population(population)
    missing = [
        check.name
        for check in strategy.inputs
        if check.required and check.name not in frame.columns
    ]
    if missing:
        raise InvalidInput(f"population {population} lacks required inputs: {missing}")
    return run_backtest(
        strategy,
        frame.iter_rows(named=True),
        against=against,
        as_of=as_of,
        licence_type=licence_type,
        lgd=lgd,
        population=str(population),
    )


def write_report(report: BacktestReport, out_dir: Path) -> tuple[Path, Path]:
    """Write ``backtest.md`` and ``backtest.png`` (approval and bad rate by grade)."""
    # Imported here: matplotlib is slow to import and only the report needs it.
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    out_dir.mkdir(parents=True, exist_ok=True)
    chart = out_dir / "backtest.png"
    results = [report.candidate] + ([report.current] if report.current else [])
    grades = sorted({g for r in results for g in r.by_grade})
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    width = 0.8 / len(results)
    for index, result in enumerate(results):
        positions = [i + index * width for i in range(len(grades))]
        left.bar(
            positions,
            [result.by_grade.get(g, Group()).approved for g in grades],
            width,
            label=result.strategy_version,
        )
        right.bar(
            positions,
            [result.by_grade.get(g, Group()).expected_bad_rate * 100 for g in grades],
            width,
            label=result.strategy_version,
        )
    for axis, title in ((left, "approved applicants"), (right, "expected bad rate (%)")):
        axis.set_xticks([i + width * (len(results) - 1) / 2 for i in range(len(grades))])
        axis.set_xticklabels(grades)
        axis.set_xlabel("grade")
        axis.set_title(title)
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(chart, dpi=100)
    plt.close(figure)
    markdown = out_dir / "backtest.md"
    markdown.write_text(report.to_markdown(chart=chart.name), encoding="utf-8")
    return markdown, chart
