"""The `puhui model` command contracts: train, evaluate --json, score, refusals with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from puhui.cli.model import app
from puhui.risk.synthetic import make_credit_frame

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("cli")
    frame = make_credit_frame(3000, seed=21)
    paths = {"train": root / "train.csv", "test": root / "test.parquet", "root": root}
    frame[:2000].write_csv(paths["train"])
    frame[2000:].write_parquet(paths["test"])
    return paths


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["scorecard", "gbm"])
def test_train_evaluate_and_score_a_csv(files: dict[str, Path], kind: str) -> None:
    model_dir = files["root"] / f"model_{kind}"
    trained = runner.invoke(
        app,
        [
            "train",
            "--data", str(files["train"]),
            "--target", "bad",
            "--kind", kind,
            "--out", str(model_dir),
            "--id-col", "id",
            "--exclude", "noise",
        ],
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    evaluated = runner.invoke(
        app,
        ["evaluate", "--model", str(model_dir), "--data", str(files["test"]), "--target", "bad",
         "--json", "--report", str(files["root"] / f"report_{kind}")],
    )  # fmt: skip
    assert evaluated.exit_code == 0, evaluated.output
    metrics = json.loads(evaluated.stdout)
    assert set(metrics) == {"auc", "ks", "gini", "brier", "n"}
    assert metrics["n"] == 1000
    assert 0.6 < metrics["auc"] < 0.9
    assert (files["root"] / f"report_{kind}" / "report.md").is_file()
    assert (files["root"] / f"report_{kind}" / "calibration.png").is_file()
    out = files["root"] / f"scores_{kind}.csv"
    scored = runner.invoke(
        app, ["score", "--model", str(model_dir), "--data", str(files["test"]), "--out", str(out)]
    )
    assert scored.exit_code == 0, scored.output
    scores = pl.read_csv(out)
    assert scores.height == 1000
    assert scores.columns[:4] == ["id", "pd", "score", "grade"]
    assert scores["pd"].is_between(0, 1).all()


@pytest.mark.parametrize(
    ("content", "target", "message"),
    [
        ("a,t\n1,0\n2,1\n3,2\n", "t", "not binary"),
        ("a,t\n1,0\n2,0\n", "t", "only one class"),
        ("a,t\n1,0\n2,1\n", "bad", "not found"),
        ("", "t", "empty"),
        ("a,t\n", "t", "no rows"),
    ],
)
def test_bad_input_is_refused_with_exit_2_and_a_clear_message(
    tmp_path: Path, content: str, target: str, message: str
) -> None:
    data = tmp_path / "data.csv"
    data.write_text(content)
    result = runner.invoke(
        app,
        ["train", "--data", str(data), "--target", target, "--kind", "scorecard",
         "--out", str(tmp_path / "m")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert message in result.stderr


def test_missing_file_and_missing_model_are_refused(tmp_path: Path) -> None:
    absent = runner.invoke(
        app,
        ["train", "--data", str(tmp_path / "x.csv"), "--target", "t", "--kind", "gbm",
         "--out", str(tmp_path / "m")],
    )  # fmt: skip
    assert absent.exit_code == 2
    assert "not found" in absent.stderr
    no_model = runner.invoke(
        app, ["evaluate", "--model", str(tmp_path), "--data", str(tmp_path / "x.csv"),
              "--target", "t"],
    )  # fmt: skip
    assert no_model.exit_code == 2
    assert "model.json" in no_model.stderr


def test_registry_commands_enforce_four_eyes(files: dict[str, Path]) -> None:
    model_dir = files["root"] / "model_reg"
    runner.invoke(
        app,
        ["train", "--data", str(files["train"]), "--target", "bad", "--kind", "scorecard",
         "--out", str(model_dir), "--id-col", "id"],
    )  # fmt: skip
    registry = str(files["root"] / "registry")
    registered = runner.invoke(
        app, ["register", "--model", str(model_dir), "--registry", registry, "--name", "sme",
              "--builder", "li"],
    )  # fmt: skip
    assert registered.exit_code == 0, registered.output
    version = registered.stdout.split()[0]
    refused = runner.invoke(
        app, ["approve", "--registry", registry, "--version", version, "--approver", "li"]
    )
    assert refused.exit_code == 2
    assert "approver_is_builder" in refused.stderr
    approved = runner.invoke(
        app, ["approve", "--registry", registry, "--version", version, "--approver", "wang"]
    )
    assert approved.exit_code == 0
    promoted = runner.invoke(
        app, ["promote", "--registry", registry, "--version", version, "--actor", "wang"]
    )
    assert promoted.exit_code == 0
    listed = runner.invoke(app, ["list", "--registry", registry])
    assert "champion" in listed.stdout
