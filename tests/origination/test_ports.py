"""The real origination ports: line opening exactly once, point-in-time pulls, decision mapping."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from puhui.adapters.sources.market import (
    SCOPE_TABLES,
    MarketDataSource,
    MarketTableUnordered,
    _DatedPrefix,
    _invoices_by_party,
)
from puhui.bootstrap import Platform
from puhui.bootstrap.wiring import build_line_opener, origination_ports
from puhui.decision.outcome import Decision, ModelResult
from puhui.decision.outcome import Outcome as DecisionOutcome
from puhui.decision.strategy import load_shipped_strategy, load_strategy, shipped_strategy_text
from puhui.domain.errors import IdempotencyConflict
from puhui.domain.ids import CreditLineId
from puhui.domain.origination.assessment import Outcome
from puhui.domain.origination.consent import DataScope
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.risk.features import (
    APPLICATION_FEATURE_NAMES,
    CORE_SIZE_BAND,
    MarketTables,
    compute_features,
)
from puhui.risk.scorer import Assessment as RiskAssessment
from puhui.services.origination.assessment import (
    NOT_GOVERNED,
    StrategyAssessor,
    tables_from_pull,
    to_assessment,
)
from puhui.services.origination.governance import FixedSetup, LiveModel, LiveSetup, LiveStrategy
from puhui.services.origination.line_opening import ServicingLineOpener
from puhui.services.origination.placeholders import NoDataSource
from puhui.services.origination.ports import AssessmentRequest, EarlierApplication, LineOpening

USCC = "91350100M000100Y43"


def _opening(key: str = "line-for-app_1", limit_fen: int = 50_000_000) -> LineOpening:
    return LineOpening(
        idempotency_key=key,
        application_id="app_1",
        uscc=USCC,
        contract_no="HT2026030212345678",
        limit_fen=limit_fen,
        annual_rate=Decimal("0.0545"),
        term_months=12,
        opened_on=date(2026, 3, 2),
    )


def test_opening_a_line_twice_with_one_key_opens_it_once(platform: Platform) -> None:
    opener = build_line_opener(platform)
    first = opener.open_line(_opening())
    again = opener.open_line(_opening())
    assert again == first
    with platform.servicing_uow() as uow:
        line = uow.lines.get(CreditLineId(first))
        assert line is not None
        assert line.limit_fen == 50_000_000
        assert line.expiry_date == date(2027, 3, 2)
        counted = uow.table_counts()["credit_lines"]
    assert counted == 1


def test_a_key_reused_for_another_line_is_refused(platform: Platform) -> None:
    opener = build_line_opener(platform)
    opener.open_line(_opening())
    with pytest.raises(IdempotencyConflict):
        opener.open_line(_opening(limit_fen=60_000_000))


def test_a_second_opener_finds_the_product_created_by_the_first(platform: Platform) -> None:
    assert build_line_opener(platform).product_id == build_line_opener(platform).product_id


@pytest.fixture(scope="module")
def small_market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("market")
    generate_market(MarketParams(enterprises=300, months=18, start=date(2024, 1, 1), seed=3), out)
    return out


def test_a_pull_returns_only_what_was_known_on_its_day(small_market: Path) -> None:
    source = MarketDataSource(small_market)
    uscc = next(iter(pl.read_parquet(small_market / "tables/enterprises/*.parquet")["uscc"]))
    as_of = date(2025, 3, 15)
    for scope in DataScope:
        pulled = source.pull(uscc, scope, as_of=as_of)
        for name in SCOPE_TABLES[scope]:
            frame = pulled["tables"][name]
            if "month" in frame.columns and frame.height:
                assert frame["month"].max() < date(2025, 3, 1)
    registration = source.pull(uscc, DataScope.REGISTRATION, as_of=as_of)
    assert len(registration["legal_representative_id_number"]) == 18
    date.fromisoformat(registration["registered_on"])
    tax = source.pull(uscc, DataScope.TAX, as_of=as_of)["tables"]["tax_monthly"]
    assert tax.height > 0
    assert set(tax["uscc"].to_list()) == {uscc}


def test_a_monthly_pull_is_exactly_the_rows_a_filter_of_the_table_gives(
    small_market: Path,
) -> None:
    source = MarketDataSource(small_market)
    scopes = {
        DataScope.TAX: "tax_monthly",
        DataScope.UTILITY: "utilities_monthly",
        DataScope.SETTLEMENT: "settlement_monthly",
        DataScope.BUREAU: "bureau",
    }
    usccs = pl.read_parquet(small_market / "tables/enterprises/*.parquet")["uscc"].to_list()
    for scope, name in scopes.items():
        table = pl.read_parquet(small_market / f"tables/{name}/*.parquet")
        for uscc in usccs[:25]:
            for as_of in (date(2024, 1, 1), date(2024, 7, 19), date(2025, 6, 2), date(2030, 1, 1)):
                expected = table.filter(
                    (pl.col("uscc") == uscc) & (pl.col("month") < date(as_of.year, as_of.month, 1))
                ).sort("month")
                pulled = source.pull(uscc, scope, as_of=as_of)["tables"][name]
                assert pulled.equals(expected), (name, uscc, as_of)


def test_registration_court_and_invoice_pulls_are_exactly_what_filters_of_the_tables_give(
    small_market: Path,
) -> None:
    """The source answers from row spans and day numbers; a filter of the whole table is the
    reference: the same rows, in the same order (court and registration as the table has them;
    invoices in month order, within a month the seller's rows, then the buyer's others)."""
    source = MarketDataSource(small_market)
    enterprises = pl.read_parquet(small_market / "tables/enterprises/*.parquet")
    court = pl.read_parquet(small_market / "tables/court_cases/*.parquet")
    invoices = pl.read_parquet(small_market / "tables/invoices/*.parquet")
    core = set(enterprises.filter(pl.col("size_band") == CORE_SIZE_BAND)["uscc"].to_list())
    # Enterprises registered late, with court events (listed ones first), and core buyers.
    listed = court.filter(pl.col("event").is_in(["executed_listed", "dishonest_listed"]))
    usccs = list(
        dict.fromkeys(
            [
                *enterprises.sort("registration_date", descending=True)["uscc"].to_list()[:10],
                *listed["uscc"].to_list()[:10],
                *court["uscc"].to_list()[:20],
                *sorted(core)[:5],
                *enterprises["uscc"].to_list()[:20],
                USCC,
            ]
        )
    )
    assert listed.height
    assert len(usccs) > 40
    dates = (date(2023, 12, 31), date(2024, 6, 15), date(2024, 11, 1), date(2025, 3, 9))
    for uscc in usccs:
        for as_of in dates:
            cutoff = date(as_of.year, as_of.month, 1)
            registered = enterprises.filter(
                (pl.col("uscc") == uscc) & (pl.col("registration_date") < as_of)
            )
            pulled = source.pull(uscc, DataScope.REGISTRATION, as_of=as_of)
            assert pulled["tables"]["enterprises"].equals(registered), (uscc, as_of)
            if registered.height:
                assert pulled["registered_on"] == registered["registration_date"][0].isoformat()
            else:
                assert "registered_on" not in pulled

            events = court.filter((pl.col("uscc") == uscc) & (pl.col("event_date") < as_of))
            pulled = source.pull(uscc, DataScope.COURT, as_of=as_of)
            assert pulled["tables"]["court_cases"].equals(events), (uscc, as_of)
            assert pulled["executed_person"] == bool(
                events["event"].is_in(["executed_listed", "dishonest_listed"]).any()
            )

            known = pl.concat(
                [
                    invoices.filter(pl.col("seller_uscc") == uscc),
                    invoices.filter(
                        (pl.col("buyer_uscc") == uscc) & (pl.col("seller_uscc") != uscc)
                    ),
                ]
            ).filter(pl.col("month") < cutoff)
            known = known.sort("month", maintain_order=True)
            pulled = source.pull(uscc, DataScope.INVOICE, as_of=as_of)
            assert pulled["tables"]["invoices"].equals(known), (uscc, as_of)
            parties = set(known["seller_uscc"].to_list()) | set(known["buyer_uscc"].to_list())
            assert pulled["tables"]["core_enterprises"]["uscc"].to_list() == sorted(parties & core)


def test_invoices_before_a_cutoff_are_a_prefix_of_the_partys_month_ordered_rows() -> None:
    """Out-of-order months, an invoice to itself and one without a month: each party's rows
    run in month order (issued before received within a month), the undated last and never
    before any cutoff."""
    a, b, c = "A" * 18, "B" * 18, "C" * 18
    invoices = pl.DataFrame(
        {
            "seller_uscc": [a, b, a, a, c, a],
            "buyer_uscc": [b, a, a, c, a, b],
            "month": [
                date(2024, 3, 1),
                date(2024, 1, 1),
                date(2024, 1, 1),
                None,
                date(2024, 3, 1),
                date(2024, 2, 1),
            ],
            "amount_fen": [1, 2, 3, 4, 5, 6],
        }
    )
    by_party = _invoices_by_party(invoices)
    rows = by_party.rows_before(a, date(2030, 1, 1))
    # January: A's own invoice to itself (issued), then B's to A (received); February: A's;
    # March: A's to B (issued), then C's to A (received); the undated is left out.
    assert rows.get_column("amount_fen").to_list() == [3, 2, 6, 1, 5]
    assert by_party.rows_before(a, date(2024, 3, 1)).get_column("amount_fen").to_list() == [
        3,
        2,
        6,
    ]
    assert by_party.rows_before(a, date(2024, 1, 1)).height == 0
    assert by_party.rows_before(c, date(2024, 4, 1)).get_column("amount_fen").to_list() == [5]
    assert by_party.rows_before("D" * 18, date(2030, 1, 1)).height == 0


def test_a_monthly_table_is_served_in_month_order_and_a_repeated_month_is_refused() -> None:
    a, b = "A" * 18, "B" * 18
    months = [date(2024, 3, 1), date(2024, 1, 1), date(2024, 2, 1), date(2024, 1, 1)]
    table = pl.DataFrame({"uscc": [a, a, a, b], "month": months, "sales": [3, 1, 2, 9]})
    monthly = _DatedPrefix.monthly(table)
    assert monthly.rows_before(a, date(2024, 3, 1)).get_column("sales").to_list() == [1, 2]
    assert monthly.rows_before(b, date(2024, 3, 1)).get_column("sales").to_list() == [9]
    assert monthly.rows_before(a, date(2024, 1, 1)).height == 0
    repeated = pl.concat([table, table.head(1)])
    with pytest.raises(MarketTableUnordered, match="one row per enterprise-month"):
        _DatedPrefix.monthly(repeated)


def test_an_unknown_enterprise_has_no_records_rather_than_an_error(small_market: Path) -> None:
    source = MarketDataSource(small_market)
    pulled = source.pull(USCC, DataScope.TAX, as_of=date(2025, 3, 15))
    assert pulled["tables"]["tax_monthly"].height == 0
    assert "legal_representative_id_number" not in source.pull(
        USCC, DataScope.REGISTRATION, as_of=date(2025, 3, 15)
    )


def _decision(outcome: DecisionOutcome, reasons: tuple[str, ...] = ()) -> Decision:
    approve = outcome is not DecisionOutcome.DECLINE
    return Decision(
        outcome=outcome,
        limit_fen=30_000_000 if approve else 0,
        annual_rate=Decimal("0.0455") if approve else None,
        term_months=12 if approve else None,
        grade="B",
        pd=0.013,
        score=640.4,
        reasons=reasons,
        strategy_version="mse-online-credit@1",
        model_versions={"mse_pd": "gbm-x"},
    )


def test_an_approval_becomes_an_assessment_with_the_offer_terms() -> None:
    strategy = load_shipped_strategy("mse-online-credit")
    assessment = to_assessment(
        _decision(DecisionOutcome.APPROVE), strategy, ModelResult(0.013, 640)
    )
    assert assessment.outcome is Outcome.APPROVE
    assert assessment.limit_fen == 30_000_000
    assert assessment.annual_rate == Decimal("0.0455")
    assert assessment.term_months == 12
    assert assessment.pd == Decimal("0.013")
    assert assessment.score == 640
    assert assessment.trace["strategy"] == "mse-online-credit@1"


def test_a_decline_carries_its_reasons_with_text_in_both_languages() -> None:
    strategy = load_shipped_strategy("mse-online-credit")
    model = ModelResult(
        0.2, 500, ("RC_SALES_GROWTH_3M",), {}, {"RC_SALES_GROWTH_3M": ("销售", "sales")}
    )
    decision = _decision(DecisionOutcome.DECLINE, ("RISK_TOO_HIGH", "RC_SALES_GROWTH_3M"))
    assessment = to_assessment(decision, strategy, model)
    assert assessment.outcome is Outcome.DECLINE
    assert assessment.limit_fen is None
    assert assessment.reasons == ("RISK_TOO_HIGH", "RC_SALES_GROWTH_3M")
    texts = assessment.trace["reason_texts"]
    assert texts["RISK_TOO_HIGH"][0] == "综合信用评估未达到准入标准"
    assert texts["RC_SALES_GROWTH_3M"] == ["销售", "sales"]


def test_features_from_pulled_data_equal_the_batch_features(small_market: Path) -> None:
    source = MarketDataSource(small_market)
    month = date(2025, 4, 1)
    batch = compute_features(MarketTables.from_dir(small_market), month)
    checked = 0
    for row in batch.head(25).iter_rows(named=True):
        uscc = row.pop("uscc")
        data = {scope: source.pull(uscc, scope, as_of=date(2025, 4, 9)) for scope in DataScope}
        online = compute_features(tables_from_pull(data), month).row(0, named=True)
        online.pop("uscc")
        # Equal up to the order of floating-point summation (a last-digit difference).
        assert online.keys() == row.keys()
        for name, value in row.items():
            if isinstance(value, float):
                assert online[name] == pytest.approx(value, rel=1e-12, nan_ok=True), name
            else:
                assert online[name] == value, name
        checked += 1
    assert checked == 25


def test_without_market_and_approved_versions_every_application_is_referred(
    platform: Platform,
) -> None:
    ports = origination_ports(platform)
    assert ports.wired == ("assessor", "line_opener")
    assert isinstance(ports.data_source, NoDataSource)
    assert isinstance(ports.line_opener, ServicingLineOpener)
    # No active strategy version in the database and no champion model: nobody approved
    # anything, so a person decides (never the packaged file behind governance's back).
    request = AssessmentRequest(
        application_id="app_1",
        uscc=USCC,
        requested_amount_fen=30_000_000,
        as_of=date(2026, 3, 2),
        data={},
        fraud_hits=(),
    )
    assessment = ports.assessor.assess(request)
    assert assessment.outcome is Outcome.REFER
    assert assessment.reasons == (NOT_GOVERNED,)


class _CrashOnFirstCommit:
    """A servicing unit of work whose first commit dies, as a process killed mid-commit."""

    crashed = False

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __enter__(self) -> _CrashOnFirstCommit:
        self._inner.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__(*exc)

    def commit(self) -> None:
        if not _CrashOnFirstCommit.crashed:
            _CrashOnFirstCommit.crashed = True
            raise RuntimeError("killed before the commit")
        self._inner.commit()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_a_crash_while_opening_leaves_nothing_and_the_retry_opens_once(
    platform: Platform,
) -> None:
    product_id = build_line_opener(platform).product_id
    _CrashOnFirstCommit.crashed = False
    opener = ServicingLineOpener(lambda: _CrashOnFirstCommit(platform.servicing_uow()))
    opener._product_id = product_id  # the product exists; only the line's commit crashes
    with pytest.raises(RuntimeError):
        opener.open_line(_opening())
    with platform.servicing_uow() as uow:
        counts = uow.table_counts()
    assert counts["credit_lines"] == 0
    assert counts["service_requests"] == 0
    line_id = opener.open_line(_opening())
    assert opener.open_line(_opening()) == line_id
    with platform.servicing_uow() as uow:
        assert uow.table_counts()["credit_lines"] == 1


class _RecordingScorer:
    """A model that reads the given features and remembers what it was shown."""

    def __init__(self, feature_names: tuple[str, ...]) -> None:
        self.feature_names = feature_names
        self.seen: list[dict[str, Any]] = []

    def assess(self, features: Any, *, with_reasons: bool = True) -> RiskAssessment:
        self.seen.append(dict(features))
        return RiskAssessment(pd=0.01, score=700.0, grade="B", reasons=())


def _fixed(scorer: _RecordingScorer) -> FixedSetup:
    compiled = load_shipped_strategy("mse-online-credit")
    strategy = LiveStrategy("mse-online-credit", 1, compiled.content_hash, compiled)
    return FixedSetup(LiveSetup(strategy, None, LiveModel("mse_pd", "m1", "gbm", scorer)))


def _request_for(source: MarketDataSource, uscc: str, **application: Any) -> AssessmentRequest:
    day = date(2025, 4, 9)
    return AssessmentRequest(
        application_id="app_now",
        uscc=uscc,
        requested_amount_fen=30_000_000,
        as_of=day,
        data={scope: source.pull(uscc, scope, as_of=day) for scope in DataScope},
        fraud_hits=(),
        **application,
    )


def test_a_model_that_reads_application_features_gets_them_from_the_request(
    small_market: Path,
) -> None:
    source = MarketDataSource(small_market)
    uscc = compute_features(MarketTables.from_dir(small_market), date(2025, 4, 1)).row(0)[0]
    earlier = EarlierApplication(date(2025, 1, 15), "qr", 20_000_000, 6)
    request = _request_for(
        source, uscc, requested_term_months=12, channel="branch", earlier_applications=(earlier,)
    )
    reads_them = _RecordingScorer(("sales_12m_log", *APPLICATION_FEATURE_NAMES))
    assessor = StrategyAssessor(_fixed(reads_them))
    assessor.assess(request)
    (shown,) = reads_them.seen[-1:]
    assert shown["application_term"] == "12"
    assert shown["application_channel"] == "branch"
    assert shown["application_previous_12m"] == 1.0
    assert shown["application_months_since_previous"] == 3.0  # January to April
    assert shown["application_amount_to_sales"] is not None

    enterprise_only = _RecordingScorer(("sales_12m_log",))
    StrategyAssessor(_fixed(enterprise_only)).assess(request)
    assert not set(APPLICATION_FEATURE_NAMES) & set(enterprise_only.seen[-1])


def test_the_applicants_registered_clusters_reach_a_tightened_strategy(small_market: Path) -> None:
    source = MarketDataSource(small_market)
    uscc = compute_features(MarketTables.from_dir(small_market), date(2025, 4, 1)).row(0)[0]
    request = _request_for(source, uscc)
    (registered,) = (
        pl.read_parquet(small_market / "tables/enterprises/*.parquet")
        .filter(pl.col("uscc") == uscc)
        .select("industry_code", "region_code", "park")
        .rows(named=True)
    )
    assessor = StrategyAssessor(_fixed(_RecordingScorer(("sales_12m_log",))))
    inputs = assessor.strategy_inputs(request, {})
    assert {k: inputs[k] for k in ("industry_code", "region_code", "park")} == registered
    core = request.data[DataScope.INVOICE]["tables"]["core_enterprises"]["uscc"].to_list()
    assert inputs["core_enterprise"] is None or inputs["core_enterprise"] in core

    # A version that closes the applicant's industry (as a concentration breach proposes)
    # declines it; the same version leaves other industries alone.
    data = yaml.safe_load(shipped_strategy_text("mse-online-credit"))
    data["version"] = 2
    data["inputs"]["industry_code"] = {"type": "string"}
    data["limit"]["cluster_limit_multiplier"] = {
        "industry": {"input": "industry_code", "by_cluster": {registered["industry_code"]: "0"}}
    }
    closed = load_strategy("v2", text=yaml.safe_dump(data, allow_unicode=True))
    live = LiveStrategy("mse-online-credit", 2, closed.content_hash, closed)
    scorer = _RecordingScorer(("sales_12m_log",))
    setup = FixedSetup(LiveSetup(live, None, LiveModel("mse_pd", "m1", "gbm", scorer)))
    assessment = StrategyAssessor(setup).assess(request)
    assert assessment.outcome is not Outcome.APPROVE
    assert assessment.evidence is not None
    assert assessment.evidence.inputs["industry_code"] == registered["industry_code"]
