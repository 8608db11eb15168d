"""Model monitoring: PSI, characteristic analysis, decision rates, vintages, matured AUC/KS."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from puhui.risk.artefact import load_reference_profile, save_reference_profile
from puhui.risk.dataset import FeatureKind, TrainingData
from puhui.risk.errors import ModelArtefactInvalid
from puhui.risk.gbm import GbmModel
from puhui.risk.monitoring import (
    PSI_EPSILON,
    AlertCode,
    AlertSeverity,
    BinnedVariable,
    MonitoringDataInvalid,
    MonitoringThresholds,
    ReferenceProfile,
    build_reference_profile,
    characteristic_shift,
    decision_rates,
    matured_performance,
    monitor,
    psi_of_shares,
    vintages,
)
from puhui.risk.monitoring_report import write_monitoring_report
from puhui.risk.reference_profile import LOG_ODDS, POINTS, numeric_variable
from puhui.risk.scorecard import ScorecardModel
from puhui.risk.scorer import scorer_for


def _profile(score: np.ndarray, *, auc: float | None = 0.75) -> ReferenceProfile:
    """A reference of one numeric input ``x`` (weights: 10 points per unit) and the score."""
    rng = np.random.default_rng(3)
    x = rng.normal(0.0, 1.0, score.size)
    variable = numeric_variable("x", x, 5)
    weights = tuple(10.0 * i for i in range(len(variable.shares)))
    return ReferenceProfile(
        model_kind="scorecard",
        weight_unit=POINTS,
        n_rows=score.size,
        n_bad=score.size // 20,
        mean_pd=0.05,
        auc=auc,
        ks=0.4,
        score=numeric_variable("score", score, 10),
        inputs=(replace(variable, weights=weights),),
    )


def _scored(score: np.ndarray, x: np.ndarray, months: list[str]) -> pl.DataFrame:
    n = score.size
    outcomes = np.where(score > 620, "approve", np.where(score > 580, "refer", "decline"))
    return pl.DataFrame(
        {
            "month": [months[i % len(months)] for i in range(n)],
            "score": score,
            "pd": 1.0 / (1.0 + np.exp((score - 500.0) / 28.85)),
            "outcome": outcomes,
            "x": x,
        }
    )


DEVELOPMENT_SCORE = np.random.default_rng(1).normal(600.0, 40.0, 5000)


# --- PSI -------------------------------------------------------------------------------------


def test_psi_of_identical_distributions_is_zero() -> None:
    shares = [0.1, 0.2, 0.0, 0.3, 0.4]
    assert psi_of_shares(shares, shares) == 0.0
    reference = _profile(DEVELOPMENT_SCORE)
    scored = _scored(DEVELOPMENT_SCORE, np.zeros(DEVELOPMENT_SCORE.size), ["2026-01"])
    result = monitor(
        scored, None, reference, model_version="m1", first_month="2026-01", last_month="2026-01"
    )
    assert result.score_psi == 0.0
    assert result.score_by_month[0].psi == 0.0
    assert not [a for a in result.alerts if a.subject == "score"]


def test_an_empty_bin_takes_the_stated_epsilon_share() -> None:
    expected = [0.5, 0.5]
    actual = [1.0, 0.0]
    by_hand = (1.0 - 0.5) * math.log(1.0 / 0.5) + (PSI_EPSILON - 0.5) * math.log(PSI_EPSILON / 0.5)
    assert psi_of_shares(expected, actual) == pytest.approx(by_hand)
    assert math.isfinite(psi_of_shares(expected, actual))


def test_a_shifted_score_crosses_the_alert_threshold() -> None:
    reference = _profile(DEVELOPMENT_SCORE)
    shifted = np.random.default_rng(2).normal(640.0, 40.0, 2000)
    result = monitor(
        _scored(shifted, np.zeros(shifted.size), ["2026-01", "2026-02"]),
        None,
        reference,
        model_version="m1",
        first_month="2026-01",
        last_month="2026-02",
    )
    assert result.score_psi is not None
    assert result.score_psi > 0.25
    shifted_subjects = [a.subject for a in result.alerts if a.code is AlertCode.SCORE_PSI_SHIFTED]
    assert shifted_subjects == ["score", "score 2026-01", "score 2026-02"]
    assert all(m.psi is not None and m.psi > 0.25 for m in result.score_by_month)


def test_a_drift_in_the_last_month_alone_is_caught_month_by_month() -> None:
    reference = _profile(DEVELOPMENT_SCORE)
    rng = np.random.default_rng(8)
    steady = _scored(rng.choice(DEVELOPMENT_SCORE, 4000), np.zeros(4000), ["2026-01"])
    drifted = _scored(rng.normal(680.0, 40.0, 500), np.zeros(500), ["2026-02"])
    result = monitor(
        pl.concat([steady, drifted]),
        None,
        reference,
        model_version="m1",
        first_month="2026-01",
        last_month="2026-02",
    )
    score_alerts = {a.subject: a.code for a in result.alerts if a.subject.startswith("score")}
    assert score_alerts["score 2026-02"] is AlertCode.SCORE_PSI_SHIFTED
    assert "score 2026-01" not in score_alerts
    assert score_alerts.get("score") is not AlertCode.SCORE_PSI_SHIFTED


def test_a_small_shift_is_a_warning_not_an_alert() -> None:
    reference = _profile(DEVELOPMENT_SCORE)
    nudged = np.random.default_rng(2).normal(615.0, 40.0, 5000)
    result = monitor(
        _scored(nudged, np.random.default_rng(3).normal(0.0, 1.0, 5000), ["2026-01"]),
        None,
        reference,
        model_version="m1",
        first_month="2026-01",
        last_month="2026-01",
    )
    assert result.score_psi is not None
    assert 0.10 <= result.score_psi < 0.25
    score_alerts = [a for a in result.alerts if a.subject == "score"]
    assert [(a.code, a.severity) for a in score_alerts] == [
        (AlertCode.SCORE_PSI_WATCH, AlertSeverity.WARNING)
    ]


def test_too_few_applications_are_shown_but_not_alerted() -> None:
    reference = _profile(DEVELOPMENT_SCORE)
    shifted = np.full(50, 700.0)
    result = monitor(
        _scored(shifted, np.zeros(50), ["2026-01"]),
        None,
        reference,
        model_version="m1",
        first_month="2026-01",
        last_month="2026-01",
    )
    assert result.score_psi is not None
    assert result.score_psi > 1.0
    assert result.alerts == ()
    assert any("only 50 scored applications" in note for note in result.notes)


def test_a_shifted_input_raises_its_own_alert() -> None:
    reference = _profile(DEVELOPMENT_SCORE)
    rng = np.random.default_rng(4)
    result = monitor(
        _scored(rng.choice(DEVELOPMENT_SCORE, 3000), rng.normal(2.0, 1.0, 3000), ["2026-03"]),
        None,
        reference,
        model_version="m1",
        first_month="2026-03",
        last_month="2026-03",
    )
    inputs = [a for a in result.alerts if a.code is AlertCode.INPUT_PSI_SHIFTED]
    assert [a.subject for a in inputs] == ["x"]
    assert inputs[0].value == result.characteristics[0].psi


# --- characteristic analysis -----------------------------------------------------------------


def test_characteristic_shift_weighs_the_moved_shares_by_the_points_of_each_bin() -> None:
    variable = BinnedVariable(
        "purpose",
        FeatureKind.CATEGORICAL,
        (),
        {"car": 0, "home": 1},
        ("{car}", "{home}"),
        (),
        shares=(0.6, 0.4, 0.0, 0.0),
        weights=(20.0, 50.0, 0.0, 35.0),
    )
    column = pl.Series("purpose", ["car", "home", "home", None])  # 25% / 50% / missing 25%
    analysis = characteristic_shift(variable, column, POINTS)
    assert [b.actual_share for b in analysis.bins] == [0.25, 0.5, 0.0, 0.25]
    # (0.25-0.6)·20 + (0.5-0.4)·50 + 0 + (0.25-0)·35 = -7 + 5 + 8.75
    assert analysis.shift == pytest.approx(6.75)
    assert analysis.n == 4


def test_an_unseen_category_falls_in_the_missing_bin_as_in_scoring() -> None:
    variable = BinnedVariable(
        "region", FeatureKind.CATEGORICAL, (), {"east": 0}, ("{east}",), (), (1.0, 0.0, 0.0)
    )
    index = variable.bin_index(pl.Series(["east", "mars", None]))
    assert index.tolist() == [0, 2, 2]


# --- decisions -------------------------------------------------------------------------------


def test_decision_rates_count_every_outcome_by_month() -> None:
    scored = pl.DataFrame(
        {
            "month": [date(2026, 1, 5), date(2026, 1, 20), date(2026, 1, 9), date(2026, 2, 1)],
            "outcome": ["approve", "refer", "decline", "approve"],
        }
    ).with_columns(pl.col("month").dt.truncate("1mo"))
    rates = decision_rates(scored)
    assert [(r.month, r.n, r.approved, r.referred, r.declined) for r in rates] == [
        ("2026-01", 3, 1, 1, 1),
        ("2026-02", 1, 1, 0, 0),
    ]
    assert rates[0].approval_rate == pytest.approx(1 / 3)
    assert rates[1].referral_rate == 0.0


def test_an_unknown_outcome_or_month_is_refused() -> None:
    with pytest.raises(MonitoringDataInvalid):
        decision_rates(pl.DataFrame({"month": ["2026-01"], "outcome": ["maybe"]}))
    with pytest.raises(MonitoringDataInvalid):
        decision_rates(pl.DataFrame({"month": ["2026-13"], "outcome": ["approve"]}))


# --- outcomes --------------------------------------------------------------------------------


def _booked(rows: list[tuple[str, float, int, int | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "booking_month": [r[0] for r in rows],
            "pd": [r[1] for r in rows],
            "months_on_book": [r[2] for r in rows],
            "bad": [0 if r[3] is None else 1 for r in rows],
            "months_to_bad": [r[3] for r in rows],
        },
        schema_overrides={"months_to_bad": pl.Int64},
    )


def test_vintage_counts_and_cumulative_bad_rates() -> None:
    booked = _booked(
        [
            # 2025-01: four loans, 14 months on book, bad at months 3 and 13
            ("2025-01", 0.10, 14, 3),
            ("2025-01", 0.10, 14, 13),
            ("2025-01", 0.05, 14, None),
            ("2025-01", 0.15, 14, None),
            # 2025-12: two loans, 3 months on book, one bad at month 2
            ("2025-12", 0.20, 3, 2),
            ("2025-12", 0.20, 3, None),
        ]
    )
    old, young = vintages(booked, horizon_months=12)
    assert (old.booking_month, old.n, old.months_observed) == ("2025-01", 4, 14)
    assert old.mean_pd == pytest.approx(0.10)
    assert old.bad_rate_by_month[:3] == (0.0, 0.0, 0.25)
    assert old.bad_rate_by_month[11] == 0.25  # month 12
    assert old.bad_rate_by_month[12] == 0.5  # month 13
    assert old.realised_bad_rate == 0.25  # bad within the 12-month horizon
    assert old.ratio == pytest.approx(2.5)
    assert young.bad_rate_by_month == (0.0, 0.5, 0.5)
    assert young.realised_bad_rate is None  # not matured: no realised rate, no ratio
    assert young.ratio is None


def test_auc_and_ks_count_matured_loans_only() -> None:
    booked = _booked(
        [
            # matured and perfectly ranked
            ("2024-06", 0.30, 18, 4),
            ("2024-06", 0.25, 18, 11),
            ("2024-06", 0.02, 18, None),
            ("2024-06", 0.01, 18, None),
            # went bad after the horizon: a good at 12 months
            ("2024-06", 0.03, 18, 15),
            # immature goods with high PD: counting them would spoil the ranking
            ("2026-01", 0.90, 5, None),
            ("2026-01", 0.80, 5, None),
            # immature but already bad: its outcome at the horizon is known
            ("2026-01", 0.50, 5, 2),
        ]
    )
    performance = matured_performance(booked, horizon_months=12)
    assert (performance.n, performance.n_bad) == (6, 3)
    assert performance.auc == 1.0
    assert performance.ks == 1.0


def test_a_booked_loan_without_its_predicted_pd_is_refused() -> None:
    frame = _booked([("2024-01", 0.1, 20, None)]).with_columns(pl.lit(None).alias("pd"))
    with pytest.raises(MonitoringDataInvalid, match="pd"):
        matured_performance(frame)


def test_auc_and_ks_wait_for_both_goods_and_bads() -> None:
    performance = matured_performance(_booked([("2024-01", 0.1, 20, None)]), horizon_months=12)
    assert performance.auc is None
    assert performance.ks is None


def test_months_to_bad_must_match_the_bad_flag() -> None:
    frame = _booked([("2024-01", 0.1, 20, None)]).with_columns(pl.lit(1).alias("bad"))
    with pytest.raises(MonitoringDataInvalid):
        vintages(frame)


def test_realised_far_above_predicted_and_an_auc_drop_raise_alerts() -> None:
    rng = np.random.default_rng(7)
    n = 400
    pd_ = rng.uniform(0.01, 0.09, n)
    bad = rng.random(n) < 0.15  # 3x the predicted 5%, and unrelated to the PD
    rows = [("2024-03", float(p), 16, 6 if b else None) for p, b in zip(pd_, bad, strict=True)]
    booked = _booked(rows)
    reference = _profile(DEVELOPMENT_SCORE, auc=0.80)
    result = monitor(
        _scored(DEVELOPMENT_SCORE[:500], np.zeros(500), ["2026-01"]),
        booked,
        reference,
        model_version="m1",
        first_month="2026-01",
        last_month="2026-01",
    )
    codes = {a.code for a in result.alerts}
    assert AlertCode.BAD_RATE_ABOVE_PREDICTED in codes
    assert AlertCode.AUC_DROP in codes
    few = monitor(
        _scored(DEVELOPMENT_SCORE[:500], np.zeros(500), ["2026-01"]),
        booked.head(100),
        reference,
        model_version="m1",
        first_month="2026-01",
        last_month="2026-01",
    )
    assert not {AlertCode.BAD_RATE_ABOVE_PREDICTED, AlertCode.AUC_DROP} & {
        a.code for a in few.alerts
    }


def test_thresholds_are_configurable() -> None:
    reference = _profile(DEVELOPMENT_SCORE)
    nudged = np.random.default_rng(2).normal(615.0, 40.0, 5000)
    strict = MonitoringThresholds(score_psi_warn=0.01, score_psi_alert=0.02)
    result = monitor(
        _scored(nudged, np.zeros(5000), ["2026-01"]),
        None,
        reference,
        model_version="m1",
        first_month="2026-01",
        last_month="2026-01",
        thresholds=strict,
    )
    assert AlertCode.SCORE_PSI_SHIFTED in {a.code for a in result.alerts}
    with pytest.raises(MonitoringDataInvalid):
        MonitoringThresholds(bad_rate_ratio_low=1.2)


# --- without a reference ---------------------------------------------------------------------


def test_a_model_without_a_reference_profile_is_reported_plainly(tmp_path: Path) -> None:
    assert load_reference_profile(tmp_path) is None
    result = monitor(
        _scored(DEVELOPMENT_SCORE[:300], np.zeros(300), ["2026-01"]),
        None,
        None,
        model_version="m0",
        first_month="2026-01",
        last_month="2026-01",
    )
    assert result.score_psi is None
    assert result.characteristics == ()
    assert any("without a reference profile" in note for note in result.notes)
    assert result.decision_rates[0].n == 300
    path = write_monitoring_report(tmp_path / "report", result)
    text = path.read_text(encoding="utf-8")
    assert "without a reference profile" in text
    assert "Score stability" not in text
    assert not (tmp_path / "report" / "score_psi.png").exists()


def test_a_corrupt_reference_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "reference.json").write_text('{"format": "something-else/9"}', encoding="utf-8")
    with pytest.raises(ModelArtefactInvalid):
        load_reference_profile(tmp_path)


# --- from real models ------------------------------------------------------------------------


def test_scorecard_reference_keeps_the_models_bins_and_points_and_round_trips(
    scorecard: ScorecardModel, training_data: TrainingData, tmp_path: Path
) -> None:
    profile = build_reference_profile(scorecard, training_data.features, training_data.target)
    assert profile.weight_unit == POINTS
    assert profile.n_rows == training_data.n_rows
    for variable, c in zip(profile.inputs, scorecard.characteristics, strict=True):
        assert variable.edges == c.edges
        assert variable.weights == c.points
        assert variable.shares == pytest.approx([n / training_data.n_rows for n in c.counts])
    save_reference_profile(profile, tmp_path)
    assert load_reference_profile(tmp_path) == profile
    scorer = scorer_for(scorecard)
    assessed = scorer.assess_frame(training_data.features)
    scored = training_data.features.with_columns(
        month=pl.lit("2026-01"),
        score=assessed.get_column("score"),
        pd=assessed.get_column("pd"),
        outcome=pl.lit("approve"),
    )
    result = monitor(
        scored, None, profile, model_version="sc", first_month="2026-01", last_month="2026-01"
    )
    assert result.score_psi == 0.0
    assert all(c.psi == 0.0 and c.shift == 0.0 for c in result.characteristics)
    assert result.alerts == ()


def test_gbm_reference_bins_inputs_at_deciles_with_log_odds_weights(
    gbm: GbmModel, training_data: TrainingData
) -> None:
    profile = build_reference_profile(gbm, training_data.features, training_data.target)
    assert profile.weight_unit == LOG_ODDS
    assert [v.name for v in profile.inputs] == list(gbm.feature_names)
    assert profile.auc is not None
    assert 0.6 < profile.auc < 0.95
    for variable in profile.inputs:
        assert sum(variable.shares) == pytest.approx(1.0)
        assert len(variable.weights) == len(variable.shares)
    income = next(v for v in profile.inputs if v.name == "income")
    assert 5 <= len(income.labels) <= 10
    assert income.shares[-1] > 0  # income is missing for some applicants
    purpose = next(v for v in profile.inputs if v.name == "purpose")
    assert purpose.kind is FeatureKind.CATEGORICAL
    assert set(purpose.categories) <= {"car", "home", "business", "education", "other"}


def test_the_report_has_its_tables_and_charts(tmp_path: Path) -> None:
    reference = _profile(DEVELOPMENT_SCORE)
    shifted = np.random.default_rng(2).normal(640.0, 40.0, 2000)
    booked = _booked(
        [("2024-03", 0.05, 16, 6 if i % 10 == 0 else None) for i in range(300)]
        + [("2025-11", 0.05, 4, None) for _ in range(50)]
    )
    result = monitor(
        _scored(shifted, np.random.default_rng(3).normal(1.0, 1.0, 2000), ["2026-01", "2026-02"]),
        booked,
        reference,
        model_version="m1",
        first_month="2026-01",
        last_month="2026-02",
    )
    path = write_monitoring_report(tmp_path, result)
    text = path.read_text(encoding="utf-8")
    for heading in ("## Alerts", "## Score stability", "## Characteristic analysis", "## Vintages"):
        assert heading in text
    assert "score_psi_shifted" in text
    for chart in ("score_psi.png", "score_distribution.png", "vintages.png"):
        assert (tmp_path / chart).read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "predicted_vs_realised.png").is_file()


def test_gbm_contributions_from_a_sample_keep_shares_exact_and_weights_close(
    gbm: GbmModel, training_data: TrainingData, monkeypatch: pytest.MonkeyPatch
) -> None:
    full = build_reference_profile(gbm, training_data.features, training_data.target)
    monkeypatch.setattr("puhui.risk.reference_profile.CONTRIBUTION_SAMPLE", 1000)
    sampled = build_reference_profile(gbm, training_data.features, training_data.target)
    for exact, estimate in zip(full.inputs, sampled.inputs, strict=True):
        assert estimate.shares == exact.shares
        assert all(math.isfinite(w) for w in estimate.weights)
    age_full = next(v for v in full.inputs if v.name == "age")
    age_sampled = next(v for v in sampled.inputs if v.name == "age")
    assert np.corrcoef(age_full.weights[:-2], age_sampled.weights[:-2])[0, 1] > 0.9
