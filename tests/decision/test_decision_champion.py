"""Champion/challenger routing and shadow runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal

import pytest

from puhui.decision import CompiledStrategy, Experiment, ModelResult, Outcome
from puhui.decision.champion import Arm, bucket
from puhui.decision.errors import InvalidExperiment

Applicant = Callable[..., dict[str, Any]]
AS_OF = dt.date(2026, 3, 2)
GRADE_B = ModelResult(pd=0.015, score=640.0, model_versions={"m": "1"})


def test_the_bucket_is_a_stable_function_of_id_and_salt() -> None:
    assert bucket("91350211MA2Y0B1A2B", "exp-1") == bucket("91350211MA2Y0B1A2B", "exp-1")
    buckets = {bucket("91350211MA2Y0B1A2B", f"exp-{i}") for i in range(20)}
    assert len(buckets) > 15  # a new salt reshuffles the population


def test_shadow_arms_are_recorded_and_not_acted_on(
    strategy: CompiledStrategy, applicant: Applicant
) -> None:
    experiment = Experiment(
        [Arm("champion", strategy, 10_000), Arm("challenger", strategy, 0, mode="shadow")],
        salt="exp-1",
    )
    routed = experiment.evaluate("ent_1", applicant(), GRADE_B, as_of=AS_OF, licence_type="bank")
    assert routed.arm == "champion"
    assert routed.decision.outcome is Outcome.APPROVE
    assert set(routed.shadow) == {"challenger"}
    assert routed.shadow["challenger"] == routed.decision


def test_the_same_applicant_always_meets_the_same_arm(strategy: CompiledStrategy) -> None:
    experiment = Experiment(
        [Arm("champion", strategy, 9_000), Arm("challenger", strategy, 1_000)], salt="exp-2"
    )
    arms = {experiment.assign("ent_42").name for _ in range(10)}
    assert len(arms) == 1


Mode = Literal["live", "shadow"]


@pytest.mark.parametrize(
    "arms",
    [
        [("a", 5_000, "live"), ("b", 4_000, "live")],
        [("a", 10_000, "live"), ("b", 100, "shadow")],
        [("a", 10_000, "live"), ("a", 0, "shadow")],
        [("a", 0, "shadow")],
    ],
)
def test_misconfigured_experiments_are_refused(
    strategy: CompiledStrategy, arms: list[tuple[str, int, Mode]]
) -> None:
    with pytest.raises(ValueError, match=r"."):
        Experiment([Arm(n, strategy, s, mode=m) for n, s, m in arms], salt="x")


def test_an_experiment_that_cannot_split_traffic_is_refused_with_a_code(
    strategy: CompiledStrategy,
) -> None:
    with pytest.raises(InvalidExperiment) as refused:
        Experiment([Arm("a", strategy, 5_000)], salt="x")
    assert refused.value.code == "invalid_experiment"
    assert isinstance(refused.value, ValueError)  # callers that catch ValueError keep working
