"""Online scoring: one row equals batch, reasons are the largest losses, bad values refused."""

from __future__ import annotations

import math

import numpy as np
import pytest

from puhui.risk.dataset import TrainingData
from puhui.risk.errors import InvalidApplicantData
from puhui.risk.gbm import GbmModel
from puhui.risk.scorecard import ScorecardModel
from puhui.risk.scorer import (
    MASTER_SCALE,
    FeatureLabel,
    GbmScorer,
    ScorecardScorer,
    grade_of,
    reason_code,
    scorer_for,
)


def test_one_applicant_scores_as_in_batch_for_both_kinds(
    scorecard: ScorecardModel, gbm: GbmModel, holdout_data: TrainingData
) -> None:
    rows = holdout_data.features.head(300)
    for model in (scorecard, gbm):
        scorer = scorer_for(model)
        batch = scorer.predict_pd(scorer.matrix(rows))
        online = np.array([scorer.assess(r, with_reasons=False).pd for r in rows.to_dicts()])
        np.testing.assert_allclose(online, batch, rtol=0, atol=1e-12)


def test_missing_keys_none_and_nan_all_score_as_missing(
    scorecard: ScorecardModel, gbm: GbmModel
) -> None:
    for model in (scorecard, gbm):
        scorer = scorer_for(model)
        base = {"age": 40.0, "income": 9000.0, "late_30_59": 0.0, "purpose": "car"}
        absent = scorer.assess(base).pd
        assert scorer.assess({**base, "debt_ratio": None}).pd == absent
        assert scorer.assess({**base, "debt_ratio": math.nan}).pd == absent


def test_scorecard_reasons_are_the_characteristics_that_lost_most_points(
    scorecard: ScorecardModel,
) -> None:
    labels = {"debt_ratio": FeatureLabel("负债率", "debt ratio")}
    scorer = ScorecardScorer(scorecard, labels)
    applicant = {"age": 22.0, "income": None, "debt_ratio": None, "late_30_59": 3.0}
    result = scorer.assess(applicant)
    lost = [r.impact for r in result.reasons]
    assert lost == sorted(lost, reverse=True)
    assert 0 < len(result.reasons) <= 4
    debt = next(r for r in result.reasons if r.feature == "debt_ratio")
    assert debt.code == "RC_DEBT_RATIO"
    assert debt.text_zh.startswith("负债率")
    assert debt.text_en.startswith("debt ratio")
    char = next(c for c in scorecard.characteristics if c.name == "debt_ratio")
    assert debt.impact == pytest.approx(char.best_points - char.points[-1])


def test_best_applicant_has_no_reasons(scorecard: ScorecardModel) -> None:
    best: dict[str, object] = {}
    for c in scorecard.characteristics:
        j = max(
            (k for k, n in enumerate(c.counts) if n > 0 and k != c.n_bins),
            key=lambda k, c=c: c.points[k],
        )
        if j == c.n_bins + 1:
            best[c.name] = None
        elif c.kind.value == "categorical":
            best[c.name] = next(k for k, v in c.categories.items() if v == j)
        else:
            best[c.name] = c.edges[j - 1] if j > 0 else c.edges[0] - 1.0
    result = ScorecardScorer(scorecard).assess(best)
    assert result.reasons == ()
    assert result.score == pytest.approx(sum(c.best_points for c in scorecard.characteristics))


def test_gbm_reasons_come_from_shap_contributions(gbm: GbmModel) -> None:
    scorer = GbmScorer(gbm)
    applicant = {"age": 22.0, "debt_ratio": None, "late_30_59": 4.0, "utilisation": 1.4}
    result = scorer.assess(applicant)
    assert result.reasons
    impacts = [r.impact for r in result.reasons]
    assert impacts == sorted(impacts, reverse=True)
    assert all(i > 0 for i in impacts)
    assert result.reasons[0].feature in {"late_30_59", "utilisation", "debt_ratio", "age"}


def test_text_for_a_numeric_characteristic_is_refused(
    scorecard: ScorecardModel, gbm: GbmModel
) -> None:
    for model in (scorecard, gbm):
        with pytest.raises(InvalidApplicantData):
            scorer_for(model).assess({"age": "forty"})


def test_grades_follow_the_master_scale() -> None:
    assert grade_of(0.001) == "A"
    assert grade_of(0.005) == "A"
    assert grade_of(0.0051) == "B"
    assert grade_of(0.5) == "H"
    assert [name for name, _ in MASTER_SCALE] == list("ABCDEFGH")


def test_reason_codes_are_stable_identifiers() -> None:
    assert reason_code("debt-ratio 12m") == "RC_DEBT_RATIO_12M"


def test_assess_frame_gives_pd_score_grade_and_reason_codes(
    scorecard: ScorecardModel, gbm: GbmModel, holdout_data: TrainingData
) -> None:
    rows = holdout_data.features.head(50)
    for model in (scorecard, gbm):
        scorer = scorer_for(model)
        frame = scorer.assess_frame(rows)
        assert frame.columns == ["pd", "score", "grade", "reason_1", "reason_2", "reason_3"]
        online = [scorer.assess(r) for r in rows.head(5).to_dicts()]
        assert frame["grade"].head(5).to_list() == [a.grade for a in online]
        np.testing.assert_allclose(frame["score"].head(5), [a.score for a in online], atol=1e-9)
        assert frame["reason_1"].head(5).to_list() == [
            a.reasons[0].code if a.reasons else None for a in online
        ]
