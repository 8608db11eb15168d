"""Reading modelling files and refusing data that cannot give a binary credit model."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from puhui.risk.dataset import FeatureKind, binary_target, prepare_training, read_table
from puhui.risk.errors import InvalidTrainingData


def test_unknown_target_column_is_refused_naming_the_columns() -> None:
    frame = pl.DataFrame({"a": [1, 2], "bad": [0, 1]})
    with pytest.raises(InvalidTrainingData, match="'default' not found; columns are: a, bad"):
        binary_target(frame, "default")


@pytest.mark.parametrize("values", [[0, 1, 2], [1, 2, 1], ["yes", "no", "yes"], [0.5, 1.0, 0.0]])
def test_non_binary_target_is_refused(values: list[object]) -> None:
    with pytest.raises(InvalidTrainingData, match="not binary"):
        binary_target(pl.DataFrame({"t": values}), "t")


def test_target_with_one_class_is_refused() -> None:
    with pytest.raises(InvalidTrainingData, match="only one class"):
        binary_target(pl.DataFrame({"t": [0, 0, 0]}), "t")


def test_target_with_missing_values_is_refused() -> None:
    with pytest.raises(InvalidTrainingData, match="1 missing values"):
        binary_target(pl.DataFrame({"t": [0, None, 1]}), "t")


def test_boolean_and_text_targets_are_read_as_zero_one() -> None:
    assert binary_target(pl.DataFrame({"t": [True, False]}), "t").tolist() == [1, 0]
    assert binary_target(pl.DataFrame({"t": ["1", "0"]}), "t").tolist() == [1, 0]


def test_empty_missing_and_header_only_files_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    header_only = tmp_path / "header.csv"
    header_only.write_text("a,bad\n")
    with pytest.raises(InvalidTrainingData, match="empty"):
        read_table(empty)
    with pytest.raises(InvalidTrainingData, match="no rows"):
        read_table(header_only)
    with pytest.raises(InvalidTrainingData, match="not found"):
        read_table(tmp_path / "absent.csv")
    with pytest.raises(InvalidTrainingData, match="unsupported"):
        read_table(header_only.rename(tmp_path / "data.xlsx"))


def test_features_are_typed_and_useless_columns_left_out_with_a_reason() -> None:
    frame = pl.DataFrame(
        {
            "ref": [f"R{i}" for i in range(60)],
            "amount": list(range(60)),
            "sector": ["a", "b", "c"] * 20,
            "flag": [True, False] * 30,
            "same": [1] * 60,
            "bad": [0, 1] * 30,
        }
    )
    data = prepare_training(frame, target="bad", exclude=["flag"])
    kinds = {spec.name: spec.kind for spec in data.specs}
    assert kinds == {"amount": FeatureKind.NUMERIC, "sector": FeatureKind.CATEGORICAL}
    assert data.excluded == {
        "flag": "excluded by request",
        "ref": "text with one value per row (identifier-like)",
        "same": "constant or empty",
    }
    assert data.features.schema["amount"] == pl.Float64


def test_unknown_excluded_column_is_refused() -> None:
    frame = pl.DataFrame({"a": [1.0, 2.0], "bad": [0, 1]})
    with pytest.raises(InvalidTrainingData, match="columns not found: nope"):
        prepare_training(frame, target="bad", exclude=["nope"])
