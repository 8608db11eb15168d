"""A market of N enterprise slots has exactly N enterprises, fraud rings included."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from puhui.market import store
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.market.population import RING_BLOCK, formed_rings, ring_ids


def test_asking_for_n_enterprises_gives_exactly_n(small_market: Path) -> None:
    params = store.read_parameters(small_market)
    enterprises = store.read(small_market, "enterprises")
    truth = store.read(small_market, "enterprises_truth")
    assert enterprises.height == params.enterprises
    assert enterprises["uscc"].n_unique() == params.enterprises
    assert sorted(truth["enterprise_index"].to_list()) == list(range(params.enterprises))
    manifest = store.read_manifest(small_market)
    assert manifest["tables"]["enterprises"]["rows"] == params.enterprises


def test_rings_planned_after_the_window_leave_ordinary_firms_in_their_slots(
    small_market: Path,
) -> None:
    params = store.read_parameters(small_market)
    slots = np.arange(params.enterprises)
    planned = ring_ids(params.seed, params.enterprises, slots)[0] >= 0
    formed = formed_rings(params, slots)[1] >= 0
    not_formed = planned & ~formed
    assert not_formed.any()  # the window is shorter than the span rings register over
    truth = store.read(small_market, "enterprises_truth").sort("enterprise_index")
    assert not truth["is_shell"].to_numpy()[not_formed].any()
    assert truth["is_shell"].to_numpy()[formed].all()


@pytest.mark.parametrize(
    ("enterprises", "months", "chunk_size"),
    [
        (1, 1, 1),
        (199, 2, 50),  # a short last chunk
        (RING_BLOCK + 1, 1, 1_000),  # past a ring block, rings planned after a 1-month window
        (2 * RING_BLOCK, 3, RING_BLOCK),  # chunks on the ring blocks' boundaries
    ],
)
def test_every_chunking_gives_exactly_the_enterprises_asked_for(
    enterprises: int, months: int, chunk_size: int, tmp_path: Path
) -> None:
    params = MarketParams(
        enterprises=enterprises, months=months, start=date(2023, 1, 1), seed=enterprises
    )
    manifest = generate_market(params, tmp_path / "market", chunk_size=chunk_size)
    assert manifest["run"]["chunks"] == -(-enterprises // chunk_size)
    assert manifest["tables"]["enterprises"]["rows"] == enterprises
    uscc = store.read(tmp_path / "market", "enterprises").get_column("uscc")
    assert uscc.len() == uscc.n_unique() == enterprises
