"""Small synthetic bank and owner folders shared by the federated tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from puhui.risk.federated.data import write_party

TEST_KEY_BITS = 512


def make_parties(root: Path, *, rows: int = 240, seed: int = 5) -> tuple[Path, Path]:
    """Bank (2 features + label) and owner (2 features) over overlapping id sets."""
    rng = np.random.default_rng(seed)
    ids = [f"E{i:06d}" for i in range(rows)]
    x = rng.normal(size=(rows, 4))
    logit = -1.0 + 0.8 * x[:, 0] - 0.5 * x[:, 1] + 1.2 * x[:, 2] + 0.7 * x[:, 3]
    labels = (rng.random(rows) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int8)
    bank_rows = list(range(0, rows - 20))
    owner_rows = list(range(20, rows))
    bank = pl.DataFrame(
        {
            "uscc": [ids[i] for i in bank_rows],
            "b0": x[bank_rows, 0],
            "b1": x[bank_rows, 1],
            "defaulted": labels[bank_rows],
        }
    )
    owner = pl.DataFrame(
        {"uscc": [ids[i] for i in owner_rows], "o0": x[owner_rows, 2], "o1": x[owner_rows, 3]}
    )
    write_party(root / "bank", bank, role="bank")
    write_party(root / "owner", owner, role="owner")
    return root / "bank", root / "owner"
