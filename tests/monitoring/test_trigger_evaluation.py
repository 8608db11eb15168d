"""The shipped trigger rules on one customer and on a frame of customers."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from puhui.decision.triggers import (
    MONITORING_INPUTS,
    CompiledTriggers,
    MonitoringInputsRefused,
    load_shipped_triggers,
)
from puhui.domain.monitoring import Severity


@pytest.fixture(scope="module")
def triggers() -> CompiledTriggers:
    return load_shipped_triggers()


def clean(**overrides: Any) -> dict[str, Any]:
    """A customer whose monitoring data raises no signal."""
    inputs: dict[str, Any] = {
        "declared_sales_yoy_change": 0.05,
        "tax_grade": "B",
        "tax_grade_previous": "B",
        "tax_late_filings_12m": 0,
        "tax_arrears_fen": 0,
        "court_cases_new_as_defendant": 0,
        "enforcement_listed": False,
        "overdue_accounts_other_lenders": 0,
        "credit_enquiries_other_lenders_90d": 1,
        "electricity_yoy_change": -0.1,
        "settlement_inflow_change_3m": -0.2,
        "guarantor_in_default": False,
        "guarantee_circle_members_in_default": 0,
        "guaranteed_party_defaulted": False,
        "main_trade_partner_defaulted": False,
        "guarantee_circle_distressed_share": 0.0,
        "guarantee_circle_exposure_fen": 300_000_000,
        "contagion_score": 0.1,
        "behavioural_pd": 0.015,
        "origination_pd": 0.012,
        "days_past_due": 0,
        "fund_use_diverted_share": 0.05,
        "industry_prosperity_index": 38.0,  # a downturn that began before: no new signal
        "industry_prosperity_index_previous": 39.0,
        "industry_prosperity_change_3m": -14.9,
        "region_prosperity_index": 55.0,
        "region_prosperity_index_previous": 54.0,
        "region_prosperity_change_3m": 3.0,
    }
    inputs.update(overrides)
    return inputs


CRAFTED: dict[str, dict[str, Any]] = {
    "SALES_DROP": {"declared_sales_yoy_change": -0.7},
    "SALES_COLLAPSE": {"declared_sales_yoy_change": -0.95},
    "TAX_GRADE_DROP": {"tax_grade": "M", "tax_grade_previous": "A"},
    "TAX_GRADE_LOW": {"tax_grade": "D", "tax_grade_previous": "C"},
    "TAX_LATE_FILING": {"tax_late_filings_12m": 6},
    "TAX_ARREARS": {"tax_arrears_fen": 5_000_000},
    "COURT_NEW_CASE": {"court_cases_new_as_defendant": 2, "behavioural_pd": 0.02},
    "ENFORCEMENT_LISTED": {"enforcement_listed": True},
    "OVERDUE_ELSEWHERE": {"overdue_accounts_other_lenders": 1, "behavioural_pd": 0.03},
    "ENQUIRIES_ELSEWHERE": {"credit_enquiries_other_lenders_90d": 6},
    "ELECTRICITY_DROP": {"electricity_yoy_change": -0.92},
    "SETTLEMENT_DROP": {"settlement_inflow_change_3m": -0.9},
    "GUARANTOR_DEFAULT": {"guarantor_in_default": True},
    "CIRCLE_DEFAULT": {"guarantee_circle_members_in_default": 2},
    "GUARANTEE_CALLED": {"guaranteed_party_defaulted": True},
    "TRADE_PARTNER_DEFAULT": {"main_trade_partner_defaulted": True, "behavioural_pd": 0.02},
    "CIRCLE_UNDER_STRESS": {"guarantee_circle_distressed_share": 0.5},
    "CONTAGION_HIGH": {"contagion_score": 0.5, "behavioural_pd": 0.02},
    "BEHAVIOUR_PD_HIGH": {"behavioural_pd": 0.21},
    "BEHAVIOUR_PD_DOUBLED": {"behavioural_pd": 0.07, "origination_pd": 0.03},
    "DPD_EARLY": {"days_past_due": 1},
    "DPD_SERIOUS": {"days_past_due": 31},
    "FUND_USE_DIVERTED": {"fund_use_diverted_share": 0.2},
    "INDUSTRY_DOWNTURN": {
        "industry_prosperity_index": 39.9,
        "industry_prosperity_index_previous": 40,
    },
    "INDUSTRY_PROSPERITY_FALL": {"industry_prosperity_change_3m": -15},
    "REGION_DOWNTURN": {"region_prosperity_index": 35.0, "region_prosperity_index_previous": 52.5},
    "REGION_PROSPERITY_FALL": {"region_prosperity_change_3m": -20.5},
}


def codes(triggers: CompiledTriggers, inputs: dict[str, Any]) -> list[str]:
    return [s.code for s in triggers.evaluate(inputs)]


def test_a_clean_customer_raises_no_signal(triggers: CompiledTriggers) -> None:
    assert codes(triggers, clean()) == []


def test_a_customer_with_no_data_at_all_raises_no_signal(triggers: CompiledTriggers) -> None:
    # Every input is optional: missing data is not evidence of trouble (the run reports gaps).
    assert codes(triggers, {}) == []


def test_every_shipped_signal_has_a_crafted_case() -> None:
    shipped = {s.code for s in load_shipped_triggers().signals.values()}
    assert shipped == set(CRAFTED)


@pytest.mark.parametrize("code", sorted(CRAFTED))
def test_each_shipped_signal_fires_alone_on_its_crafted_input(
    triggers: CompiledTriggers, code: str
) -> None:
    assert codes(triggers, clean(**CRAFTED[code])) == [code]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"declared_sales_yoy_change": -0.69}, []),
        ({"declared_sales_yoy_change": -0.9}, ["SALES_DROP"]),
        ({"declared_sales_yoy_change": -0.91}, ["SALES_COLLAPSE"]),
        ({"days_past_due": 30}, ["DPD_EARLY"]),
        ({"behavioural_pd": 0.2}, ["BEHAVIOUR_PD_HIGH"]),
        ({"behavioural_pd": 0.199, "origination_pd": 0.1}, []),
        ({"overdue_accounts_other_lenders": 1, "behavioural_pd": 0.019}, []),
        ({"court_cases_new_as_defendant": 1, "behavioural_pd": 0.019}, []),
        ({"court_cases_new_as_defendant": 1, "behavioural_pd": None}, []),
        ({"behavioural_pd": 0.059, "origination_pd": 0.01}, []),
        ({"behavioural_pd": 0.06, "origination_pd": 0.03}, ["BEHAVIOUR_PD_DOUBLED"]),
        ({"tax_grade": "A", "tax_grade_previous": "B"}, []),
        ({"tax_grade": "B", "tax_grade_previous": "A"}, []),
        ({"tax_grade": "D", "tax_grade_previous": "A"}, ["TAX_GRADE_LOW"]),
        ({"tax_grade": "C", "tax_grade_previous": "A"}, []),
        ({"tax_grade": "D", "tax_grade_previous": "D"}, []),
        ({"tax_late_filings_12m": 5, "tax_arrears_fen": 4_999_999}, []),
        ({"guarantee_circle_members_in_default": 1}, []),
        ({"origination_pd": None}, []),
        ({"fund_use_diverted_share": 0.19}, []),
        ({"fund_use_diverted_share": None}, []),
        ({"guarantee_circle_distressed_share": 0.49}, []),
        (
            {"guarantee_circle_distressed_share": 0.5, "guarantee_circle_exposure_fen": 99_999_999},
            [],
        ),
        ({"guarantee_circle_distressed_share": 0.5, "guarantee_circle_exposure_fen": None}, []),
        ({"contagion_score": 0.49, "behavioural_pd": 0.5}, ["BEHAVIOUR_PD_HIGH"]),
        ({"contagion_score": 0.9, "behavioural_pd": 0.019}, []),
        ({"main_trade_partner_defaulted": True, "behavioural_pd": 0.019}, []),
        ({"main_trade_partner_defaulted": None, "behavioural_pd": 0.05}, []),
    ],
)
def test_thresholds_sit_where_the_document_says(
    triggers: CompiledTriggers, overrides: dict[str, Any], expected: list[str]
) -> None:
    assert codes(triggers, clean(**overrides)) == expected


def test_hits_carry_the_customer_severity_and_texts(triggers: CompiledTriggers) -> None:
    hits = triggers.hits("c1", clean(days_past_due=45, tax_late_filings_12m=7))
    assert [(h.customer_id, h.code, h.severity) for h in hits] == [
        ("c1", "TAX_LATE_FILING", Severity.LOW),
        ("c1", "DPD_SERIOUS", Severity.HIGH),
    ]
    assert hits[1].text_zh == "本行贷款逾期超过30天"


def test_wrongly_typed_inputs_are_refused_naming_each(triggers: CompiledTriggers) -> None:
    with pytest.raises(MonitoringInputsRefused) as caught:
        triggers.evaluate(clean(days_past_due="3", tax_grade="Z", tax_arrears_fen=-1))
    problems = caught.value.details["problems"]
    assert len(problems) == 3
    assert problems[0].startswith("tax_grade:")


def frame_of(rows: dict[str, dict[str, Any]]) -> pl.DataFrame:
    records = [{"customer_id": key, **inputs} for key, inputs in rows.items()]
    return pl.DataFrame(records, schema={"customer_id": pl.String, **_SCHEMA})


_SCHEMA: dict[str, Any] = {
    name: (
        pl.String
        if name.startswith("tax_grade")
        else pl.Boolean
        if name
        in {
            "enforcement_listed",
            "guarantor_in_default",
            "guaranteed_party_defaulted",
            "main_trade_partner_defaulted",
        }
        else pl.Float64
        if name.endswith(
            ("_change", "_change_3m", "_pd", "_share", "_score", "_index", "_previous")
        )
        else pl.Int64
    )
    for name in MONITORING_INPUTS
}


def test_batch_evaluation_equals_the_online_one(triggers: CompiledTriggers) -> None:
    rows: dict[str, dict[str, Any]] = {
        f"c{k:02d}": clean(**CRAFTED[c]) for k, c in enumerate(CRAFTED)
    }
    rows["clean"] = clean()
    rows["many"] = clean(**CRAFTED["DPD_SERIOUS"], **CRAFTED["GUARANTOR_DEFAULT"])
    rows["sparse"] = dict.fromkeys(MONITORING_INPUTS) | {"days_past_due": 3}
    batch = triggers.evaluate_frame(frame_of(rows))
    online = [(key, code) for key, inputs in rows.items() for code in codes(triggers, inputs)]
    assert list(zip(batch["customer_id"], batch["code"], strict=True)) == online
    assert batch.columns == ["customer_id", "signal_id", "code", "severity"]
    assert set(batch["severity"]) <= {s.value for s in Severity}


def test_a_column_left_out_of_the_frame_is_missing_for_everyone(
    triggers: CompiledTriggers,
) -> None:
    frame = pl.DataFrame({"customer_id": ["a", "b"], "days_past_due": [0, 95]})
    batch = triggers.evaluate_frame(frame)
    assert batch.rows() == [("b", "TR_DPD_SERIOUS", "DPD_SERIOUS", "high")]


def test_batch_refuses_bad_rows_together(triggers: CompiledTriggers) -> None:
    frame = pl.DataFrame({"customer_id": ["a", "b", "c"], "tax_grade": ["A", "X", "Y"]})
    with pytest.raises(MonitoringInputsRefused) as caught:
        triggers.evaluate_frame(frame)
    assert [row.split(":")[0] for row in caught.value.details["rows"]] == ["b", "c"]


def test_batch_needs_its_key_column(triggers: CompiledTriggers) -> None:
    with pytest.raises(MonitoringInputsRefused):
        triggers.evaluate_frame(pl.DataFrame({"days_past_due": [1]}))


def _value_pool(name: str) -> st.SearchStrategy[Any]:
    kind = _SCHEMA[name]
    if kind == pl.String:
        return st.sampled_from([None, "A", "B", "M", "C", "D"])
    if kind == pl.Boolean:
        return st.sampled_from([None, True, False])
    if kind == pl.Float64:
        return st.one_of(
            st.none(), st.sampled_from([-0.95, -0.9, -0.6, -0.5, -0.3, 0.0, 0.012, 0.06, 0.15])
        )
    return st.one_of(st.none(), st.integers(min_value=0, max_value=120))


_CUSTOMERS = st.lists(
    st.fixed_dictionaries({name: _value_pool(name) for name in MONITORING_INPUTS}),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(customers=_CUSTOMERS)
def test_batch_equals_online_on_any_customers(customers: list[dict[str, Any]]) -> None:
    triggers = load_shipped_triggers()
    rows = {f"c{k}": inputs for k, inputs in enumerate(customers)}
    batch = triggers.evaluate_frame(frame_of(rows))
    online = [(key, code) for key, inputs in rows.items() for code in codes(triggers, inputs)]
    assert list(zip(batch["customer_id"], batch["code"], strict=True)) == online
