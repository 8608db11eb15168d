"""Counter-based draws: pure functions of (seed, stream, entity, month) with the right laws."""

from __future__ import annotations

import numpy as np
import pytest

from puhui.market.hashing import Streams


def test_a_draw_depends_only_on_its_counters() -> None:
    s = Streams(42)
    whole = s.uniform(7, np.arange(1_000)[:, None], np.arange(12)[None, :])
    part = s.uniform(7, np.arange(500, 600)[:, None], np.arange(3, 5)[None, :])
    assert np.array_equal(whole[500:600, 3:5], part)
    assert np.array_equal(Streams(42).uniform(7, 5, 3), s.uniform(7, 5, 3))


def test_streams_and_seeds_are_independent() -> None:
    a = Streams(1).uniform(1, np.arange(50_000))
    b = Streams(1).uniform(2, np.arange(50_000))
    c = Streams(2).uniform(1, np.arange(50_000))
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.02
    assert abs(np.corrcoef(a, c)[0, 1]) < 0.02


def test_uniform_normal_and_poisson_have_their_laws() -> None:
    s = Streams(9)
    u = s.uniform(1, np.arange(200_000))
    assert u.min() > 0.0
    assert u.max() < 1.0
    assert u.mean() == pytest.approx(0.5, abs=0.005)
    z = s.normal(2, np.arange(200_000))
    assert z.mean() == pytest.approx(0.0, abs=0.01)
    assert z.std() == pytest.approx(1.0, abs=0.01)
    k = s.poisson(3, 4.0, np.arange(200_000))
    assert k.mean() == pytest.approx(4.0, abs=0.03)
    assert k.var() == pytest.approx(4.0, abs=0.1)
    idx = s.choice(4, [1, 3], np.arange(100_000))
    assert idx.mean() == pytest.approx(0.75, abs=0.01)


def test_negative_months_of_the_burn_in_are_distinct_counters() -> None:
    s = Streams(3)
    assert s.uniform(1, 10, -1) != s.uniform(1, 10, 1)
    assert s.uniform(1, 10, -1) != s.uniform(1, 10, 0)
