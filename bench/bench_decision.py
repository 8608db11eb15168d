"""Benchmark the decision engine against the same tables run through GoRules zen-engine.

Run:  .venv/bin/python bench/bench_decision.py [--size 20000] [--loops 5] [--core 0]

What is timed ("strategy evaluation", everything except model scoring): input validation,
computed values, knockouts, fraud, grade, limit, price, term and referrals of the shipped
strategy ``mse-online-credit``, on a synthetic population whose model outputs are stored.
The zen-engine baseline evaluates the four decision tables of the same strategy, exported with
``puhui strategy export-jdm`` (so it does less work than ours: no validation, no limit, price or
term), through the fast loader path ``ZenEngine.evaluate`` (not ``create_decision``, see
gorules/zen#441). Both run in this process, one after the other, on the same inputs.

Trace off and trace on run the same generated decision function (ADR 0013): with the trace
off, its trace lines are left out; "no input check" leaves out its input-check lines too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from puhui.decision import ModelResult, Outcome, load_shipped_strategy
from puhui.decision.jdm import export_jdm
from puhui.decision.population import generate_population

AS_OF = dt.date(2026, 3, 2)


LPR_2026 = Decimal("0.0300")
SPREAD = {
    "A": Decimal("0.0050"),
    "B": Decimal("0.0150"),
    "C": Decimal("0.0300"),
    "D": Decimal("0.0500"),
}
SALES_MULTIPLE = {"A": (3, 1), "B": (5, 2), "C": (2, 1), "D": (6, 5)}
TAX_MULTIPLE = {"A": 30, "B": 24, "C": 18, "D": 10}
MAX_TERM = {"A": 36, "B": 24, "C": 12, "D": 12}
TERMS = (3, 6, 12, 24, 36)


def hand_written(x: dict[str, Any], model: ModelResult) -> tuple[Any, ...]:
    """``mse-online-credit@1`` written by hand (no validation, no trace): the speed of light."""
    ko = []
    if x["blacklisted"]:
        ko.append("BLACKLISTED")
    if x["industry_restricted"]:
        ko.append("INDUSTRY_RESTRICTED")
    if x["enterprise_age_months"] < 12:
        ko.append("ENTERPRISE_TOO_YOUNG")
    if x["owner_age_years"] < 18 or x["owner_age_years"] > 65:
        ko.append("OWNER_AGE_OUT_OF_RANGE")
    if x["tax_grade"] in ("C", "D"):
        ko.append("TAX_GRADE_TOO_LOW")
    gap = x["tax_filing_gap_months"]
    if gap is not None and gap >= 3:
        ko.append("TAX_FILINGS_MISSING")
    if (x["current_overdue_count"] or 0) >= 1:
        ko.append("CURRENTLY_OVERDUE")
    if x["abnormal_operation_listed"]:
        ko.append("ABNORMAL_OPERATION")
    if ko:
        return ("decline", 0, None, tuple(ko))
    shared, velocity = x["shared_contact_count"] or 0, x["applications_30d"] or 0
    ratio = x["invoice_round_trip_ratio"] or 0
    if shared >= 5 or ratio >= 0.3:
        return ("decline", 0, None, ())
    refer = shared >= 2 or velocity >= 6
    pd = model.pd
    if pd is None:
        return ("refer", 0, None, ())
    grade = (
        "A" if pd < 0.01 else "B" if pd < 0.02 else "C" if pd < 0.035 else "D" if pd < 0.06 else "E"
    )
    if grade == "E":
        return ("decline", 0, None, ())
    caps = [x["requested_amount_fen"], 300_000_000]
    for name in ("need_estimate_fen", "concentration_headroom_fen"):
        if x[name] is not None:
            caps.append(x[name])
    afford = 0
    if x["verified_monthly_sales_fen"] is not None:
        num, den = SALES_MULTIPLE[grade]
        afford = x["verified_monthly_sales_fen"] * num // den
    if x["verified_monthly_tax_fen"] is not None:
        afford = max(afford, x["verified_monthly_tax_fen"] * TAX_MULTIPLE[grade])
    caps.append(afford)
    limit = min(caps) // 100_000 * 100_000
    if limit < 1_000_000:
        return ("decline", 0, None, ())
    rate = min(max(LPR_2026 + SPREAD[grade], Decimal("0.03")), Decimal("0.15"), Decimal("0.24"))
    wanted = min(x["requested_term_months"] or 12, MAX_TERM[grade])
    term = max([m for m in TERMS if m <= wanted] or [3])
    sales = x["verified_monthly_sales_fen"]
    growth = x["sales_growth_12m"]
    refer = (
        refer
        or limit >= 100_000_000
        or (growth is not None and growth < -0.3)
        or x["tax_grade"] == "M"
        or (x["court_cases_open"] or 0) >= 1
        or (grade == "D" and (x["overdue_count_24m"] or 0) >= 2)
        or (bool(sales) and x["requested_amount_fen"] / (sales * 12) > 1)
    )
    return ("refer" if refer else "approve", limit, rate, term)


def throughput(call: Callable[[Any], object], items: list[Any], loops: int) -> tuple[float, float]:
    """Decisions per second over ``loops`` passes: (median, best); CPU time of this process."""
    for item in items[:2000]:
        call(item)
    rates = []
    for _ in range(loops):
        gc.collect()
        start = time.process_time()
        for item in items:
            call(item)
        rates.append(len(items) / (time.process_time() - start))
    return statistics.median(rates), max(rates)


def latencies(calls: dict[str, Callable[[Any], object]], items: list[Any]) -> dict[str, list[int]]:
    """Per-call wall time in ns, variants interleaved per input so that noise hits all alike."""
    timings: dict[str, list[int]] = {name: [] for name in calls}
    clock = time.perf_counter_ns
    for item in items:
        for name, call in calls.items():
            start = clock()
            call(item)
            timings[name].append(clock() - start)
    return timings


def percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--loops", type=int, default=5)
    parser.add_argument("--core", type=int, default=None, help="pin to this CPU core")
    args = parser.parse_args()
    if args.core is not None:
        os.sched_setaffinity(0, {args.core})

    strategy = load_shipped_strategy("mse-online-credit")
    frame = generate_population(args.size, seed=42)
    rows = frame.to_dicts()
    names = [check.name for check in strategy.inputs]
    cases = [
        ({name: row[name] for name in names}, ModelResult(pd=row["pd"], score=row["score"]))
        for row in rows
    ]

    def ours(case: tuple[dict[str, Any], ModelResult]) -> object:
        return strategy.evaluate(case[0], case[1], as_of=AS_OF, licence_type="bank")

    def ours_traced(case: tuple[dict[str, Any], ModelResult]) -> object:
        decision = strategy.evaluate(case[0], case[1], as_of=AS_OF, licence_type="bank", trace=True)
        len(decision.trace)
        return decision

    def ours_traced_expanded(case: tuple[dict[str, Any], ModelResult]) -> object:
        decision = strategy.evaluate(case[0], case[1], as_of=AS_OF, licence_type="bank", trace=True)
        return decision.trace[0]  # forces the full expansion into TraceStep records

    def ours_unchecked(case: tuple[dict[str, Any], ModelResult]) -> object:
        return strategy.evaluate(case[0], case[1], as_of=AS_OF, licence_type="bank", check=False)

    def hand(case: tuple[dict[str, Any], ModelResult]) -> object:
        return hand_written(case[0], case[1])

    disagree = 0
    for inputs, model in cases:
        mine = strategy.evaluate(inputs, model, as_of=AS_OF, licence_type="bank")
        theirs = hand_written(inputs, model)
        same = (mine.outcome.value, mine.limit_fen) == theirs[:2]
        if mine.outcome is not Outcome.DECLINE:
            same = same and (mine.annual_rate, mine.term_months) == theirs[2:]
        disagree += not same
    print(f"parity: {disagree} disagreements between puhui and the hand-written function")

    variants: dict[str, Callable[[Any], object]] = {
        "hand-written if/elif (same strategy)": hand,
        "puhui evaluate, trace off, no input check": ours_unchecked,
        "puhui evaluate, trace off": ours,
        "puhui evaluate, trace on": ours_traced,
        "puhui evaluate, trace on + expanded": ours_traced_expanded,
    }

    zen_contexts: list[str] = []
    try:
        import zen  # noqa: PLC0415 (optional baseline)
    except ImportError:
        zen = None  # type: ignore[assignment]
        print("zen-engine is not installed: `.venv/bin/pip install zen-engine` for the baseline")
    if zen is not None:
        graph = json.dumps(export_jdm(strategy.document))
        engine = zen.ZenEngine({"loader": lambda key: graph})
        for inputs, model in cases:
            env = strategy.features(inputs)
            env["pd"], env["score"] = model.pd, model.score
            decision = strategy.evaluate(inputs, model, as_of=AS_OF, licence_type="bank")
            # The referral table reads the limit, which ZEN does not compute: give it ours.
            env["limit_fen"] = decision.limit_fen
            zen_contexts.append(json.dumps(env))
        zen_items = list(zip(cases, zen_contexts, strict=True))

        def zen_eval(item: tuple[Any, str]) -> object:
            return engine.evaluate("mse", item[1])

        def zen_traced(item: tuple[Any, str]) -> object:
            return engine.evaluate("mse", item[1], {"trace": True})

        mismatches = check_parity(strategy, engine, cases[:5000], zen_contexts[:5000])
        print(f"parity: {mismatches} mismatches between puhui and ZEN on 5000 applicants")

    print(
        f"\npython {sys.version.split()[0]}, {args.size} applicants, {args.loops} loops, "
        f"cpu affinity {sorted(os.sched_getaffinity(0))}, load {os.getloadavg()[0]:.2f}"
    )
    outcomes = dict.fromkeys(Outcome, 0)
    for case in cases:
        outcomes[strategy.evaluate(case[0], case[1], as_of=AS_OF, licence_type="bank").outcome] += 1
    print("outcomes: " + ", ".join(f"{o.value} {n / len(cases):.1%}" for o, n in outcomes.items()))

    results: dict[str, tuple[float, float]] = {}
    for name, call in variants.items():
        results[name] = throughput(call, cases, args.loops)
    if zen is not None:
        results["zen-engine evaluate (4 tables)"] = throughput(zen_eval, zen_items, args.loops)
        results["zen-engine evaluate, trace on"] = throughput(zen_traced, zen_items, args.loops)

    latency_calls = {k: v for k, v in variants.items() if "expanded" not in k}
    lat = latencies(latency_calls, cases)
    if zen is not None:
        zen_lat = latencies({"zen-engine evaluate (4 tables)": zen_eval}, zen_items)
        lat.update(zen_lat)

    print(
        "\n| variant | decisions/s per core, median (best) | p50 µs | p90 µs | p99 µs | p99.9 µs |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, (median, best) in results.items():
        timings = lat.get(name)
        cells = (
            " | ".join(f"{percentile(timings, q):.1f}" for q in (0.5, 0.9, 0.99, 0.999))
            if timings
            else "– | – | – | –"
        )
        print(f"| {name} | {median:,.0f} ({best:,.0f}) | {cells} |")

    base = results["puhui evaluate, trace off"][0]
    traced = results["puhui evaluate, trace on"][0]
    expanded = results["puhui evaluate, trace on + expanded"][0]
    handmade = results["hand-written if/elif (same strategy)"][0]
    print(f"\nhand-written / puhui: {handmade / base:.1f}x (the price of a data-driven engine)")
    print(
        f"trace on is {base / traced:.2f}x slower than trace off (bar: at most 3x); "
        f"expanding every step for storage: {base / expanded:.2f}x"
    )
    p99 = percentile(lat["puhui evaluate, trace off"], 0.99)
    print(f"trace off: {base:,.0f} decisions/s (bar: 100,000), p99 {p99:.1f} µs (bar: 50 µs)")
    if zen is not None:
        zen_rate = results["zen-engine evaluate (4 tables)"][0]
        print(f"puhui / zen-engine throughput: {base / zen_rate:.1f}x")


def check_parity(
    strategy: Any, engine: Any, cases: list[tuple[dict[str, Any], ModelResult]], contexts: list[str]
) -> int:
    """Count applicants on which ZEN's tables disagree with ours (reasons, grade)."""
    mismatches = 0
    for (inputs, model), context in zip(cases, contexts, strict=True):
        ours = strategy.evaluate(inputs, model, as_of=AS_OF, licence_type="bank", trace=True)
        result = engine.evaluate("mse", context)["result"]
        matched = {(s.section, s.rule_id) for s in ours.trace if s.matched}
        theirs: set[tuple[str, str]] = set()
        for section in ("knockouts", "fraud", "referrals"):
            theirs |= {(section, hit["rule_id"]) for hit in result.get(section, [])}
        if result.get("rule_id"):
            theirs.add(("grading.table", result["rule_id"]))
        # ZEN runs every table; ours stops at the first decline: compare what both evaluated.
        evaluated = {s.section for s in ours.trace}
        theirs = {(section, rule) for section, rule in theirs if section in evaluated}
        if theirs != matched - {("computed", name) for name, _ in strategy.computed} - {
            (s.section, s.rule_id) for s in ours.trace if s.section in ("limit", "pricing", "term")
        }:
            mismatches += 1
    return mismatches


if __name__ == "__main__":
    main()
