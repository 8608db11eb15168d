"""The supply-chain strategy: the core's facility and voucher pricing, and dealer line sizing."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from puhui.decision.strategy import (
    StrategyInvalid,
    load_shipped_strategy,
    load_strategy,
    shipped_strategies,
    shipped_strategy_text,
)
from puhui.decision.supply_chain import (
    CoreFacts,
    DealerFacts,
    InvalidDealerFacts,
    SupplyChainPolicy,
    UnknownCoreEnterprise,
    core_facts_from_sources,
    dealer_facts_from_sources,
    dealer_purchases,
)
from puhui.domain.errors import InvalidInput
from puhui.market import schema as market_schema
from puhui.risk.enterprise_inputs import one_enterprise_inputs

AS_OF = dt.date(2025, 6, 15)  # LPR 1y in force: 3.00 % (from 2025-05-20)
YUAN = 100


@pytest.fixture(scope="module")
def policy() -> SupplyChainPolicy:
    return SupplyChainPolicy.load()


def core(**overrides: Any) -> CoreFacts:
    """A medium manufacturer selling RMB 200 M a year, tax grade B, clean record."""
    facts = CoreFacts(
        uscc="91330100190182932J",
        enterprise_age_months=100,
        owner_age_years=50,
        annual_sales_fen=200_000_000 * YUAN,
        monthly_sales_fen=200_000_000 * YUAN // 12,
        tax_grade="B",
        court_cases_open=0,
        overdue_count_24m=0,
        current_overdue_count=0,
        abnormal_operation_listed=False,
        size_band="medium",
        requested_fen=80_000_000 * YUAN,
        as_of=AS_OF,
    )
    return dataclasses.replace(facts, **overrides)


# --- the document and the core's facility --------------------------------------------------


def test_the_document_is_shipped_and_compiled_by_the_strategy_compiler() -> None:
    assert "supply-chain-finance" in shipped_strategies()
    compiled = load_shipped_strategy("supply-chain-finance")
    assert compiled.version == "supply-chain-finance@1"
    assert compiled.document.models == ()  # graded by rules on the core's own data
    assert [name for name, _ in compiled.computed] == ["core_score"]


def test_a_grade_b_core_gets_a_fifth_of_its_sales_priced_lpr_plus_60bp(
    policy: SupplyChainPolicy,
) -> None:
    decision = policy.decide_facility(core())
    # score: tax B 25 + age 20 + no overdue 20 + sales >= RMB 100 M 14 = 79: grade B
    assert decision.core_score == 79
    assert (decision.approved, decision.outcome, decision.grade) == (True, "approve", "B")
    assert decision.limit_fen == 40_000_000 * YUAN  # 0.20 x 200 M, under the 80 M asked
    assert decision.discount_annual_rate == Decimal("0.0360")  # 3.00 % + 0.60 %
    assert decision.fee_rate == Decimal("0.0010")
    assert (decision.term_days, decision.term_months) == (365, 12)
    assert decision.reasons == ()
    assert decision.strategy_version == "supply-chain-finance@1"


def test_a_grade_a_core_gets_a_quarter_and_the_requested_amount_caps_it(
    policy: SupplyChainPolicy,
) -> None:
    decision = policy.decide_facility(core(tax_grade="A"))
    assert decision.grade == "A"
    assert decision.limit_fen == 50_000_000 * YUAN
    assert decision.discount_annual_rate == Decimal("0.0320")
    assert decision.fee_rate == Decimal("0.0005")
    asked = policy.decide_facility(core(tax_grade="A", requested_fen=12_345_678 * YUAN))
    assert asked.limit_fen == 12_340_000 * YUAN  # rounded down to the RMB 10,000 step


def test_the_limit_is_refused_below_the_minimum(policy: SupplyChainPolicy) -> None:
    decision = policy.decide_facility(core(annual_sales_fen=4_000_000 * YUAN))
    assert not decision.approved
    assert decision.reasons == ("FACILITY_TOO_SMALL",)
    assert decision.limit_fen == 0


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"blacklisted": True}, "BLACKLISTED"),
        ({"abnormal_operation_listed": True}, "ABNORMAL_OPERATION"),
        ({"tax_grade": "C"}, "TAX_GRADE_TOO_LOW"),
        ({"tax_grade": "D"}, "TAX_GRADE_TOO_LOW"),
        ({"current_overdue_count": 1}, "CURRENTLY_OVERDUE"),
        ({"court_cases_open": 3}, "COURT_CASES_TOO_MANY"),
        ({"enterprise_age_months": 23}, "CORE_TOO_YOUNG"),
        ({"size_band": "micro"}, "CORE_SIZE_OUT_OF_SCOPE"),
        ({"size_band": "large"}, "CORE_SIZE_OUT_OF_SCOPE"),
    ],
)
def test_each_knockout_declines_with_its_reason(
    policy: SupplyChainPolicy, overrides: dict[str, Any], reason: str
) -> None:
    decision = policy.decide_facility(core(**overrides))
    assert (decision.approved, decision.outcome) == (False, "decline")
    assert reason in decision.reasons
    assert decision.limit_fen == 0
    assert decision.grade is None
    assert decision.discount_annual_rate is None


def test_small_cores_are_in_scope(policy: SupplyChainPolicy) -> None:
    assert policy.decide_facility(core(size_band="small")).approved


def test_a_weak_score_declines_and_open_cases_refer(policy: SupplyChainPolicy) -> None:
    weak = policy.decide_facility(
        core(tax_grade=None, enterprise_age_months=30, overdue_count_24m=3)
    )
    # 12 + 5 + 0 + 14 = 31 < 45
    assert (weak.outcome, weak.reasons) == ("decline", ("CORE_RISK_TOO_HIGH",))
    cases = policy.decide_facility(core(court_cases_open=1))
    assert (cases.approved, cases.outcome, cases.reasons) == (False, "refer", ("COURT_CASES",))
    assert cases.proposed_limit_fen > 0
    assert cases.limit_fen == 0


def test_a_very_large_facility_is_referred(policy: SupplyChainPolicy) -> None:
    big = core(tax_grade="A", annual_sales_fen=2_000_000_000 * YUAN, requested_fen=10**12)
    decision = policy.decide_facility(big)
    assert (decision.outcome, decision.reasons) == ("refer", ("LARGE_FACILITY",))
    assert decision.proposed_limit_fen == 200_000_000 * YUAN  # the product cap


def test_the_trace_shows_every_step(policy: SupplyChainPolicy) -> None:
    decision = policy.evaluate(core(), trace=True)
    sections = {step.section for step in decision.trace}
    assert {"knockouts", "grading.table"} <= sections


def test_pricing_by_grade_follows_the_lpr_date_floor_and_cap(policy: SupplyChainPolicy) -> None:
    assert policy.discount_rate("A", as_of=AS_OF) == Decimal("0.0320")
    assert policy.discount_rate("C", as_of=AS_OF) == Decimal("0.0420")
    # on 2024-08-01 the LPR was 3.35 %
    assert policy.discount_rate("B", as_of=dt.date(2024, 8, 1)) == Decimal("0.0395")
    assert [policy.fee_rate(g) for g in "ABC"] == [
        Decimal("0.0005"),
        Decimal("0.0010"),
        Decimal("0.0020"),
    ]
    with pytest.raises(InvalidInput):
        policy.fee_rate("D")
    with pytest.raises(InvalidInput):
        policy.discount_rate("E", as_of=AS_OF)


def test_the_price_is_raised_to_the_floor() -> None:
    text = shipped_strategy_text("supply-chain-finance")
    edited = text.replace('floor: "0.0250"', 'floor: "0.0350"')
    assert edited != text
    floored = SupplyChainPolicy(load_strategy("edited.yaml", text=edited))
    assert floored.discount_rate("A", as_of=AS_OF) == Decimal("0.0350")  # 3.20 % raised
    assert floored.discount_rate("C", as_of=AS_OF) == Decimal("0.0420")  # above the floor


def test_a_lending_grade_without_a_fee_rate_is_refused() -> None:
    text = shipped_strategy_text("supply-chain-finance")
    edited = text.replace('{grade: C, fee_rate: "0.0020"}', "{grade: C}")
    assert edited != text
    with pytest.raises(StrategyInvalid):
        SupplyChainPolicy(load_strategy("edited.yaml", text=edited))


# --- facts from the market sources ---------------------------------------------------------


def _frame(name: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=market_schema.TABLES[name].polars_schema())


CORE = "91330100190182932J"
DEALER = "92330300733033838Y"


def _enterprise(uscc: str, registered: dt.date, size: str, rep: str) -> dict[str, Any]:
    return {
        "uscc": uscc,
        "name": "杭州测试有限公司",
        "legal_form": "company",
        "industry_code": "C38",
        "industry_section": "C",
        "industry_group": "manufacturing",
        "region_code": "330100",
        "registration_date": registered,
        "registered_capital_fen": 10**9,
        "taxpayer_type": "general",
        "employees": 300,
        "size_band": size,
        "park": None,
        "phone": "13800000000",
        "address": "杭州",
        "settlement_account": "6217000000000000000",
        "legal_rep_id_number": rep,
    }


def _tax(uscc: str, months: list[dt.date], sales: int, grade: str) -> list[dict[str, Any]]:
    return [
        {
            "uscc": uscc,
            "month": m,
            "declared_sales_fen": sales,
            "vat_payable_fen": sales // 50,
            "vat_exempt": False,
            "late_filing": False,
            "arrears_fen": 0,
            "tax_credit_grade": grade,
        }
        for m in months
    ]


def _months(first: dt.date, count: int) -> list[dt.date]:
    out = []
    for k in range(count):
        index = first.month - 1 + k
        out.append(dt.date(first.year + index // 12, index % 12 + 1, 1))
    return out


@pytest.fixture
def pulled() -> dict[str, Any]:
    """What MarketDataSource.pull returns for the core, by scope, 24 months of filings."""
    months = _months(dt.date(2023, 6, 1), 24)  # 2023-06 .. 2025-05
    tax = _tax(CORE, months, 10_000_000 * YUAN, "B")
    tax[-1]["tax_credit_grade"] = "A"  # the latest filing before June 2025 has grade A
    tax.append(_tax(CORE, [dt.date(2025, 6, 1)], 99 * 10**10, "D")[0])  # not yet known
    court = [
        {
            "case_id": "c1",
            "uscc": CORE,
            "event_date": dt.date(2024, 3, 5),
            "month": dt.date(2024, 3, 1),
            "event": "filed",
            "role": "defendant",
            "case_type": "contract_dispute",
            "amount_fen": 10**7,
        }
    ]
    owner: dict[str, Any] = {
        "id_number": "330106197001010018",
        "name": "张三",
        "gender": "M",
        "birth_date": dt.date(1970, 1, 1),
        "age_years": 53,
        "education": "bachelor",
        "years_in_trade": 20,
        "phone": "13800000001",
        "enterprises_represented": 1,
    }
    invoices = [
        {
            "seller_uscc": CORE,
            "buyer_uscc": DEALER,
            "month": m,
            "amount_fen": (3 if m.month in (10, 11, 12) else 1) * 100_000 * YUAN,
            "invoice_count": 3,
            "voided_count": 0,
            "red_letter_count": 0,
        }
        for m in months
        if m.month != 2  # no purchase in February
    ]
    return {
        "registration": {
            "tables": {
                "enterprises": _frame(
                    "enterprises",
                    [
                        _enterprise(CORE, dt.date(2015, 3, 20), "medium", owner["id_number"]),
                        _enterprise(DEALER, dt.date(2020, 1, 2), "micro", "x"),
                    ],
                ),
                "owners": _frame("owners", [owner]),
            }
        },
        "tax": {"tables": {"tax_monthly": _frame("tax_monthly", tax)}},
        "court": {
            "executed_person": False,
            "tables": {"court_cases": _frame("court_cases", court)},
        },
        "invoice": {"tables": {"invoices": _frame("invoices", invoices)}},
    }


def test_core_facts_come_from_the_pulled_rows_point_in_time(pulled: dict[str, Any]) -> None:
    facts = core_facts_from_sources(pulled, uscc=CORE, as_of=AS_OF, requested_fen=10**9)
    assert facts.enterprise_age_months == 123  # 2015-03 to 2025-06
    assert facts.owner_age_years == 55
    assert facts.annual_sales_fen == 12 * 10_000_000 * YUAN  # June 2025 not yet known
    assert facts.monthly_sales_fen == 10_000_000 * YUAN
    assert facts.tax_grade == "A"
    assert facts.court_cases_open == 1
    assert (facts.overdue_count_24m, facts.current_overdue_count) == (0, 0)  # no bureau rows
    assert facts.size_band == "medium"
    assert (facts.requested_fen, facts.as_of) == (10**9, AS_OF)
    assert not facts.abnormal_operation_listed
    assert not facts.blacklisted


def test_an_unknown_or_not_yet_registered_core_is_refused(pulled: dict[str, Any]) -> None:
    with pytest.raises(UnknownCoreEnterprise):
        core_facts_from_sources(pulled, uscc="9133" + "0" * 14, as_of=AS_OF, requested_fen=1)
    with pytest.raises(UnknownCoreEnterprise):
        core_facts_from_sources(pulled, uscc=CORE, as_of=dt.date(2015, 3, 1), requested_fen=1)


def test_dealer_purchases_are_the_twelve_months_before_as_of(pulled: dict[str, Any]) -> None:
    invoices = pulled["invoice"]["tables"]["invoices"]
    first, months = dealer_purchases(invoices, core_uscc=CORE, dealer_uscc=DEALER, as_of=AS_OF)
    assert first == dt.date(2024, 6, 1)
    # Jun..Sep 1, Oct..Dec 3, Jan 1, Feb 0, Mar..May 1 (x RMB 100,000)
    assert [m // (100_000 * YUAN) for m in months] == [1, 1, 1, 1, 3, 3, 3, 1, 0, 1, 1, 1]
    facts = dealer_facts_from_sources(
        pulled,
        dealer_uscc=DEALER,
        core_uscc=CORE,
        core_commitment="none",
        core_grade="B",
        as_of=AS_OF,
    )
    assert facts.purchases_12m_fen == 17 * 100_000 * YUAN
    assert facts.enterprise_age_months == 65
    assert facts.tax_grade is None


# --- dealer lines ---------------------------------------------------------------------------

FLAT = (100_000 * YUAN,) * 12
SEASONAL = (50, 50, 50, 50, 50, 50, 50, 50, 300, 400, 500, 60)  # 16.6 M  # RMB 10,000s, peak Q4


def dealer(months: tuple[int, ...] = FLAT, **overrides: Any) -> DealerFacts:
    facts = DealerFacts(
        dealer_uscc=DEALER,
        core_uscc=CORE,
        purchases_12m_fen=sum(months),
        monthly_purchases_fen=months,
        core_commitment="none",
        core_grade="B",
        first_month=dt.date(2024, 6, 1),
        enterprise_age_months=40,
        tax_grade="B",
        as_of=AS_OF,
    )
    return dataclasses.replace(facts, **overrides)


def seasonal() -> tuple[int, ...]:
    return tuple(m * 10_000 * YUAN for m in SEASONAL)


def test_a_flat_dealer_gets_one_and_a_half_months_without_commitment(
    policy: SupplyChainPolicy,
) -> None:
    decision = policy.dealer_limit(dealer())
    assert decision.approved
    assert decision.reasons == ()
    assert decision.peak_average_fen == 100_000 * YUAN
    assert decision.limit_fen == 150_000 * YUAN  # 1.5 x peak, under 25 % of 1.2 M
    assert decision.grade == "B"  # no commitment: the core's own grade
    assert decision.annual_rate == Decimal("0.0560")  # 3.00 + 0.60 + 2.00 premium
    assert decision.term_months == 12


def test_seasonality_sizes_on_the_three_peak_months(policy: SupplyChainPolicy) -> None:
    decision = policy.dealer_limit(dealer(seasonal()))
    # top three months: 5 M, 4 M, 3 M -> average 4 M; peak in the 11th month = April
    assert decision.peak_average_fen == 4_000_000 * YUAN
    assert decision.seasonal_peak_month == 4
    # 1.5 x 4 M = 6 M, but capped at 25 % of 16.6 M = 4.15 M
    assert decision.cap_fen == 4_150_000 * YUAN
    assert decision.limit_fen == 4_150_000 * YUAN
    without_dates = policy.dealer_limit(dealer(seasonal(), first_month=None))
    assert without_dates.seasonal_peak_month is None
    assert without_dates.limit_fen == decision.limit_fen


@pytest.mark.parametrize(
    ("commitment", "multiple", "grade", "rate"),
    [
        ("none", "1.5", "B", "0.0560"),
        ("guarantee", "2.0", "A", "0.0420"),  # guarantee: grade A price + 1.00 %
        ("repurchase", "2.5", "A", "0.0370"),  # repurchase: grade A price + 0.50 %
    ],
)
def test_the_core_commitment_raises_the_multiple_and_the_grade(
    policy: SupplyChainPolicy, commitment: str, multiple: str, grade: str, rate: str
) -> None:
    decision = policy.dealer_limit(dealer(core_commitment=commitment))
    assert decision.multiple == Decimal(multiple)
    assert decision.limit_fen == int(Decimal(multiple) * 100_000 * YUAN)
    assert decision.grade == grade
    assert decision.annual_rate == Decimal(rate)


def test_the_commitment_raises_the_cap_share_on_a_seasonal_dealer(
    policy: SupplyChainPolicy,
) -> None:
    limits = [
        policy.dealer_limit(dealer(seasonal(), core_commitment=c)).limit_fen
        for c in ("none", "guarantee", "repurchase")
    ]
    # 25 %, 30 %, 35 % of 16.6 M (the multiple x peak is above each)
    assert limits == [4_150_000 * YUAN, 4_980_000 * YUAN, 5_810_000 * YUAN]


def test_the_product_cap_the_request_and_the_step(policy: SupplyChainPolicy) -> None:
    huge = policy.dealer_limit(dealer(tuple(10**10 for _ in range(12))))
    assert huge.limit_fen == 30_000_000 * YUAN
    asked = policy.dealer_limit(dealer(requested_fen=123_456 * YUAN))
    assert asked.limit_fen == 123_000 * YUAN


def test_a_line_below_the_minimum_is_declined(policy: SupplyChainPolicy) -> None:
    tiny = policy.dealer_limit(dealer(tuple(2_000 * YUAN for _ in range(12))))
    assert (tiny.approved, tiny.limit_fen, tiny.reasons) == (False, 0, ("LIMIT_TOO_SMALL",))


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"core_grade": None}, "CORE_NOT_APPROVED"),
        ({"core_grade": "D"}, "CORE_NOT_APPROVED"),
        ({"blacklisted": True}, "BLACKLISTED"),
        ({"abnormal_operation_listed": True}, "ABNORMAL_OPERATION"),
        ({"tax_grade": "D"}, "TAX_GRADE_TOO_LOW"),
        ({"current_overdue_count": 2}, "CURRENTLY_OVERDUE"),
        ({"court_cases_open": 2}, "COURT_CASES_TOO_MANY"),
        ({"enterprise_age_months": 11}, "DEALER_TOO_YOUNG"),
    ],
)
def test_each_dealer_knockout_declines(
    policy: SupplyChainPolicy, overrides: dict[str, Any], reason: str
) -> None:
    decision = policy.dealer_limit(dealer(**overrides))
    assert (decision.approved, decision.limit_fen, decision.annual_rate) == (False, 0, None)
    assert decision.reasons == (reason,)
    assert policy.explain(decision.reasons, "en")[0] != reason  # a text, not the code


def test_no_or_irregular_purchases_decline(policy: SupplyChainPolicy) -> None:
    none = policy.dealer_limit(dealer((0,) * 12))
    assert none.reasons == ("NO_PURCHASES",)
    assert none.seasonal_peak_month is None
    five = (10**7,) * 5 + (0,) * 7
    assert policy.dealer_limit(dealer(five)).reasons == ("PURCHASES_IRREGULAR",)
    six = (10**7,) * 6 + (0,) * 6
    assert policy.dealer_limit(dealer(six)).approved


def test_inconsistent_dealer_facts_are_refused(policy: SupplyChainPolicy) -> None:
    with pytest.raises(InvalidDealerFacts):
        policy.dealer_limit(dealer(FLAT[:11]))
    with pytest.raises(InvalidDealerFacts):
        policy.dealer_limit(dealer(core_commitment="pledge"))
    with pytest.raises(InvalidDealerFacts):
        policy.dealer_limit(dataclasses.replace(dealer(), purchases_12m_fen=1))


# --- on a generated market -------------------------------------------------------------------


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from puhui.market.generate import generate_market
    from puhui.market.params import MarketParams

    out = tmp_path_factory.mktemp("scf-market") / "m"
    generate_market(
        MarketParams(enterprises=2_000, months=24, start=dt.date(2023, 1, 1), seed=11), out
    )
    return out


def test_the_market_cores_are_decided_with_facilities_within_their_sales(
    policy: SupplyChainPolicy, market: Path
) -> None:
    from puhui.adapters.sources.market import MarketDataSource
    from puhui.domain.origination.consent import DataScope

    source = MarketDataSource(market)
    as_of = dt.date(2025, 1, 15)
    cores = [
        row["uscc"] for row in source.registry.iter_rows(named=True) if row["size_band"] == "medium"
    ]
    outcomes = {"approve": 0, "decline": 0, "refer": 0}
    dealers_approved = 0
    checked: set[str] = set()
    for uscc in cores:
        scopes = (DataScope.REGISTRATION, DataScope.TAX, DataScope.BUREAU, DataScope.COURT)
        pulled = {scope: source.pull(uscc, scope, as_of=as_of) for scope in scopes}
        facts = core_facts_from_sources(pulled, uscc=uscc, as_of=as_of, requested_fen=10**10)
        decision = policy.decide_facility(facts)
        outcomes[decision.outcome] += 1
        frames = {name: f for result in pulled.values() for name, f in result["tables"].items()}
        features = {
            "enterprise_age_months": facts.enterprise_age_months,
            "owner_age_years": facts.owner_age_years,
            "tax_grade": facts.tax_grade,
        }
        risk = one_enterprise_inputs(frames, features, uscc, as_of)
        # the same definitions as the online strategy's inputs (risk.enterprise_inputs)
        assert facts.monthly_sales_fen == risk["verified_monthly_sales_fen"]
        assert facts.overdue_count_24m == (risk["overdue_count_24m"] or 0)
        assert facts.current_overdue_count == (risk["current_overdue_count"] or 0)
        assert facts.court_cases_open == risk["court_cases_open"]
        if decision.approved:
            assert 0 < decision.limit_fen <= facts.annual_sales_fen // 4
            assert decision.grade in {"A", "B", "C"}
            invoices = source.pull(uscc, DataScope.INVOICE, as_of=as_of)["tables"]["invoices"]
            for buyer in invoices.filter(pl.col("seller_uscc") == uscc)["buyer_uscc"].unique():
                own = {s: source.pull(buyer, s, as_of=as_of) for s in scopes}
                dealer_facts = dealer_facts_from_sources(
                    {**own, "invoices": invoices},
                    dealer_uscc=buyer,
                    core_uscc=uscc,
                    core_commitment="guarantee",
                    core_grade=decision.grade,
                    as_of=as_of,
                )
                line = policy.dealer_limit(dealer_facts)
                if buyer not in checked:  # the dealer's own facts: the risk definitions
                    checked.add(buyer)
                    frames = {
                        name: frame
                        for result in own.values()
                        for name, frame in result["tables"].items()
                    }
                    same = one_enterprise_inputs(
                        frames,
                        {
                            "enterprise_age_months": dealer_facts.enterprise_age_months,
                            "owner_age_years": None,
                            "tax_grade": dealer_facts.tax_grade,
                        },
                        buyer,
                        as_of,
                    )
                    assert (same["court_cases_open"] or 0) == dealer_facts.court_cases_open
                    assert (same["current_overdue_count"] or 0) == (
                        dealer_facts.current_overdue_count
                    )
                if line.approved:
                    dealers_approved += 1
                    assert line.limit_fen <= dealer_facts.purchases_12m_fen * 30 // 100
    assert outcomes["approve"] >= 5
    assert outcomes["decline"] >= 1
    assert dealers_approved >= 3
