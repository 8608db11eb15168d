"""Real data through the command line: train and evaluate on the German credit data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from puhui.cli.model import app

runner = CliRunner()
GERMAN = Path(__file__).resolve().parents[1] / "data" / "german_credit.csv"


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["gbm", "scorecard"])
def test_train_reports_cross_validated_figures_and_evaluate_runs_on_german_credit(
    tmp_path: Path, kind: str
) -> None:
    model_dir = tmp_path / kind
    trained = runner.invoke(
        app,
        ["train", "--data", str(GERMAN), "--target", "bad", "--kind", kind,
         "--out", str(model_dir)],
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    assert "cross-validated (5-fold) AUC" in trained.stdout
    assert "development" not in trained.stdout  # no in-sample figure is quoted
    metadata = json.loads((model_dir / "model.json").read_text())["metadata"]
    out_of_sample = metadata["metrics"]["out_of_sample"]
    assert out_of_sample["folds"] == 5
    assert out_of_sample["n"] == 1000
    assert out_of_sample["auc"] > 0.7  # published results on this data are 0.75-0.80
    evaluated = runner.invoke(
        app,
        ["evaluate", "--model", str(model_dir), "--data", str(GERMAN), "--target", "bad",
         "--json"],
    )  # fmt: skip
    assert evaluated.exit_code == 0, evaluated.output
    assert json.loads(evaluated.stdout)["n"] == 1000


def test_export_refuses_an_unknown_format_in_one_sentence(tmp_path: Path) -> None:
    model_dir = tmp_path / "card"
    trained = runner.invoke(
        app,
        ["train", "--data", str(GERMAN), "--target", "bad", "--kind", "scorecard",
         "--out", str(model_dir)],
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    for fmt, words in (("pmml", "PMML export is not offered"), ("tflite", "unknown export")):
        refused = runner.invoke(
            app,
            ["export", "--model", str(model_dir), "--format", fmt,
             "--out", str(tmp_path / "m.bin")],
        )  # fmt: skip
        assert refused.exit_code != 0
        assert "unsupported_export_format" in refused.stderr
        assert words in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
    exported = runner.invoke(
        app,
        ["export", "--model", str(model_dir), "--format", "onnx",
         "--out", str(tmp_path / "card.onnx")],
    )  # fmt: skip
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / "card.onnx").stat().st_size > 0


def test_export_refuses_a_model_of_unknown_kind(tmp_path: Path) -> None:
    (tmp_path / "model.json").write_text(
        json.dumps({"format": "puhui-risk-model/1", "metadata": {"kind": "neural"}, "model": {}})
    )
    refused = runner.invoke(
        app, ["export", "--model", str(tmp_path), "--format", "onnx", "--out", str(tmp_path / "x")]
    )
    assert refused.exit_code != 0
    assert "unknown model kind 'neural'" in refused.stderr
