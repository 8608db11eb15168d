"""``puhui decision show``'s text: what a reader needs, in yuan and percent, "-" where a
decision has no value (the stored document itself is printed whole by ``--json``)."""

from __future__ import annotations

from typing import Any

import pytest

from puhui.cli.decision import _print_record


def _document(**overrides: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "application_id": "app_1",
        "decided_at": "2025-06-03T02:00:58+00:00",
        "outcome": "approve",
        "reasons": [],
        "grade": "B",
        "limit_fen": 7_800_050,
        "annual_rate": "0.0450",
        "term_months": 6,
        "fraud_hits": [],
        "trace": {},
        "evidence": {
            "as_of": "2025-06-03",
            "strategy_name": "mse-online-credit",
            "strategy_version": 2,
            "strategy_hash": "94883fd52321aa",
            "arm": "champion",
            "bucket": 17,
            "model_name": "mse_pd",
            "model_version": "model_1",
            "model_pd": 0.0171496335,
            "model_score": 603.93731894,
            "features": {"a": 1.0},
            "feature_source": "store",
            "feature_lineage": {"month": "2025-06-01"},
            "data_reference": {"rows": {"bureau": 29}},
            "shadow": {},
            "inputs": {"tax_grade": "C"},
        },
    }
    document.update(overrides)
    return document


def _lines(capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    return {line[:14].strip(): line[14:] for line in capsys.readouterr().out.splitlines()}


def test_an_offer_reads_in_yuan_and_percent(capsys: pytest.CaptureFixture[str]) -> None:
    _print_record(_document())
    lines = _lines(capsys)
    assert lines["outcome"] == "approve  grade B  limit 78000.50 yuan  rate 0.0450  term 6 months"
    assert lines["model"] == "mse_pd model_1  pd 1.7150%  score 603.9"
    assert lines["strategy"] == "mse-online-credit@2  (hash 94883fd52321)  arm champion  bucket 17"


def test_a_decline_shows_dashes_not_none(capsys: pytest.CaptureFixture[str]) -> None:
    _print_record(
        _document(
            outcome="decline",
            reasons=["TAX_GRADE_TOO_LOW"],
            grade=None,
            limit_fen=None,
            annual_rate=None,
            term_months=None,
        )
    )
    lines = _lines(capsys)
    assert lines["outcome"] == "decline  grade -  limit -  rate -  term -"
    assert lines["reasons"] == "TAX_GRADE_TOO_LOW"


def test_the_challenger_s_shadow_decision_reads_like_the_decision(
    capsys: pytest.CaptureFixture[str],
) -> None:
    evidence = _document()["evidence"]
    shadow = {"arm": "challenger", "strategy_version": 3, "outcome": "decline"}
    _print_record(_document(evidence={**evidence, "shadow": shadow}))
    assert _lines(capsys)["shadow"] == "challenger 3: decline  limit -  rate -"
    offered = {**shadow, "outcome": "approve", "limit_fen": 5_000_000, "annual_rate": "0.0500"}
    _print_record(_document(evidence={**evidence, "shadow": offered}))
    assert _lines(capsys)["shadow"] == "challenger 3: approve  limit 50000.00 yuan  rate 0.0500"
