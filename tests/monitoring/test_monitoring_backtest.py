"""The measured core of monitoring on tiny generated markets: inputs point in time, the
behavioural model, and ``puhui monitor backtest`` / ``train-model`` through the CLI."""

from __future__ import annotations

import csv
import re
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from puhui.adapters.db.post_loan.signals import ServicingSignalSource
from puhui.bootstrap import Platform
from puhui.bootstrap.monitoring import MarketSignalSource
from puhui.cli.main import app
from puhui.decision.triggers import MONITORING_INPUTS, load_shipped_triggers
from puhui.market.generate import generate_market
from puhui.market.params import MarketParams
from puhui.pipelines.monitoring_inputs import (
    GUARANTEES,
    INPUT_SCHEMA,
    evaluate_alerts,
    guarantee_circles,
    monitoring_inputs,
    open_market,
)
from puhui.risk.behaviour import (
    BehaviouralModel,
    behaviour_features,
    load_behaviour_model,
    train_behaviour_model,
)
from puhui.risk.errors import ModelArtefactInvalid
from puhui.risk.features import MarketTables, month_start_plus
from puhui.services.monitoring.ports import MonitoredCustomer, MonitoringDataMissing

START = date(2022, 1, 1)
MONTHS = 30
runner = CliRunner()


@pytest.fixture(scope="module")
def markets(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two tiny markets (train, evaluate); the training one is copied without ``truth/``."""
    root = tmp_path_factory.mktemp("monitoring-markets")
    made = []
    for seed in (3, 4):
        out = root / f"market-{seed}"
        generate_market(MarketParams(enterprises=2500, months=MONTHS, start=START, seed=seed), out)
        made.append(out)
    public = root / "train-public"
    shutil.copytree(made[0] / "tables", public / "tables")
    shutil.copy(made[0] / "manifest.json", public / "manifest.json")
    return public, made[1]


@pytest.fixture(scope="module")
def model_dir(markets: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("behaviour-model")
    train_behaviour_model(markets[0], trained_at=datetime(2026, 1, 1, tzinfo=UTC), out=out)
    return out


@pytest.fixture(scope="module")
def model(model_dir: Path) -> BehaviouralModel:
    return load_behaviour_model(model_dir)


def _truncated(tables: MarketTables, month: date) -> MarketTables:
    """The tables as they stood at the end of ``month``: every later row removed."""
    cut = month_start_plus(month, 1)
    frames = {}
    for name, frame in tables.frames.items():
        columns = frame.collect_schema().names()
        if "month" in columns:
            frames[name] = frame.filter(pl.col("month") < cut)
        elif name == GUARANTEES:
            frames[name] = frame.filter(pl.col("start_month") < cut)
        else:
            frames[name] = frame
    return MarketTables(frames)


def test_the_training_market_needs_no_truth_folder(markets: tuple[Path, Path]) -> None:
    public, _ = markets
    assert not (public / "truth").exists()
    trained = train_behaviour_model(public, trained_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert int(trained.info["bad"]) > 0
    assert "out_of_sample" in trained.artefact.metadata.metrics


def test_inputs_of_a_month_read_nothing_after_it(
    markets: tuple[Path, Path], model: BehaviouralModel
) -> None:
    _, evaluated = markets
    tables = open_market(evaluated)
    month = date(2023, 9, 1)
    full = monitoring_inputs(tables, month, model=model, chunk_size=700)
    cut = monitoring_inputs(_truncated(tables, month), month, model=model, chunk_size=700)
    assert full.height > 1000
    assert full.equals(cut)


def test_the_future_changes_nothing_but_the_past_does(markets: tuple[Path, Path]) -> None:
    # The check above could pass if the inputs ignored the data altogether: a month earlier
    # cuts data the month reads, and the inputs change.
    _, evaluated = markets
    tables = open_market(evaluated)
    month = date(2023, 9, 1)
    full = monitoring_inputs(tables, month)
    earlier = monitoring_inputs(_truncated(tables, month_start_plus(month, -1)), month)
    assert not full.equals(earlier)


def test_inputs_have_every_monitoring_input_typed_as_declared(
    markets: tuple[Path, Path], model: BehaviouralModel
) -> None:
    frame = monitoring_inputs(open_market(markets[1]), date(2023, 6, 1), model=model)
    assert frame.columns == ["customer_id", *MONITORING_INPUTS]
    assert dict(frame.schema) == {"customer_id": pl.String(), **INPUT_SCHEMA}
    assert frame.get_column("customer_id").is_unique().all()
    pd = frame.get_column("behavioural_pd")
    assert pd.null_count() == 0
    assert pd.min() >= 0.0  # type: ignore[operator]
    assert pd.max() <= 1.0  # type: ignore[operator]
    assert frame.get_column("declared_sales_yoy_change").null_count() < frame.height // 10


def test_platform_facts_override_the_market_and_name_the_customers(
    markets: tuple[Path, Path],
) -> None:
    tables = open_market(markets[1])
    month = date(2023, 6, 1)
    some = monitoring_inputs(tables, month).get_column("customer_id").head(3).to_list()
    customers = pl.DataFrame(
        {"uscc": some, "days_past_due": [45, None, 0], "origination_pd": [0.01, 0.02, None]}
    )
    frame = monitoring_inputs(tables, month, customers=customers)
    assert frame.get_column("customer_id").to_list() == sorted(some)
    by_id = {row["customer_id"]: row for row in frame.iter_rows(named=True)}
    assert by_id[some[0]]["days_past_due"] == 45
    assert by_id[some[0]]["origination_pd"] == 0.01
    assert by_id[some[2]]["origination_pd"] is None
    alerts = evaluate_alerts(frame, load_shipped_triggers())
    first = alerts.filter(pl.col("customer_id") == some[0]).row(0, named=True)
    assert first["severity"] == "high"
    assert "DPD_SERIOUS" in first["codes"].split(";")


def test_behaviour_features_of_a_chunk_equal_those_of_the_market(
    markets: tuple[Path, Path],
) -> None:
    tables = open_market(markets[1])
    tables = MarketTables({k: v for k, v in tables.frames.items() if k != GUARANTEES})
    as_of = date(2023, 7, 1)
    whole = behaviour_features(tables, as_of)
    some = whole.get_column("uscc").gather_every(7).to_list()
    part = behaviour_features(tables.for_enterprises(some), as_of)
    # Equal up to the order of floating-point sums (a standard deviation may differ in its
    # last bit).
    assert_frame_equal(part, whole.filter(pl.col("uscc").is_in(some)), rel_tol=1e-12)


def test_backtest_writes_the_contract_csv(
    markets: tuple[Path, Path], model_dir: Path, tmp_path: Path
) -> None:
    _, evaluated = markets
    out = tmp_path / "alerts.csv"
    result = runner.invoke(
        app,
        ["monitor", "backtest", "--market", str(evaluated), "--from", "2023-04",
         "--to", "2023-06", "--out", str(out), "--model", str(model_dir)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["uscc", "month", "severity", "codes", "behavioural_pd"]
    body = rows[1:]
    assert body
    codes = {s.code for s in load_shipped_triggers().signals.values()}
    seen = set()
    for uscc, month, severity, joined, pd in body:
        assert re.fullmatch(r"[0-9A-Z]{18}", uscc)
        assert month in {"2023-04", "2023-05", "2023-06"}
        assert severity in {"low", "medium", "high"}
        assert joined
        assert set(joined.split(";")) <= codes
        assert 0.0 <= float(pd) <= 1.0
        assert (uscc, month) not in seen
        seen.add((uscc, month))
    assert not list(tmp_path.glob(".*part"))


def test_backtest_trains_on_another_market_when_asked(
    markets: tuple[Path, Path], tmp_path: Path
) -> None:
    public, evaluated = markets
    out = tmp_path / "alerts.csv"
    result = runner.invoke(
        app,
        ["monitor", "backtest", "--market", str(evaluated), "--from", "2023-06",
         "--to", "2023-06", "--out", str(out), "--train-market", str(public)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("uscc,month,severity,codes,behavioural_pd\n")


def test_train_model_command_saves_a_loadable_model(
    markets: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "model"
    result = runner.invoke(
        app, ["monitor", "train-model", "--market", str(markets[0]), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "out-of-sample AUC" in result.output
    loaded = load_behaviour_model(out)
    assert loaded.info["market"] == str(markets[0])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--from", "2023-06", "--to", "2023-04"], "before"),
        (["--from", "2023-13", "--to", "2023-14"], "not a month"),
        (["--from", "2023-04", "--to", "2023-05", "--model", "MISSING"], "no behavioural model"),
        (["--from", "2023-04", "--to", "2023-05", "--train-market", "MISSING"], "not both"),
        (["--from", "2023-04", "--to", "2023-05", "--market", "MISSING"], "no generated market"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    markets: tuple[Path, Path],
    model_dir: Path,
    tmp_path: Path,
    arguments: list[str],
    message: str,
) -> None:
    _, evaluated = markets
    out = tmp_path / "alerts.csv"
    options = {"--market": str(evaluated), "--out": str(out)}
    if "--model" not in arguments:
        options["--model"] = str(model_dir)
    given = list(arguments)
    for flag, value in list(options.items()):
        if flag not in given:
            given += [flag, value]
    given = [str(tmp_path / "missing") if v == "MISSING" else v for v in given]
    result = runner.invoke(app, ["monitor", "backtest", *given])
    assert result.exit_code != 0
    assert message in result.output
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_a_model_trained_on_the_evaluated_market_is_refused(
    markets: tuple[Path, Path], model_dir: Path, tmp_path: Path
) -> None:
    public, evaluated = markets
    out = tmp_path / "alerts.csv"
    same = runner.invoke(
        app,
        ["monitor", "backtest", "--market", str(public), "--from", "2023-04", "--to", "2023-04",
         "--out", str(out), "--model", str(model_dir)],
    )  # fmt: skip
    assert same.exit_code != 0
    assert "another market" in same.output
    again = runner.invoke(
        app,
        ["monitor", "backtest", "--market", str(evaluated), "--from", "2023-04", "--to",
         "2023-04", "--out", str(out), "--train-market", str(evaluated)],
    )  # fmt: skip
    assert again.exit_code != 0
    assert "another market" in again.output
    assert not out.exists()


def test_an_unreadable_model_is_refused(model_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(model_dir, broken)
    (broken / "model.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelArtefactInvalid):
        load_behaviour_model(broken)
    with pytest.raises(ModelArtefactInvalid, match="no behavioural model"):
        load_behaviour_model(tmp_path)


def test_the_input_schema_follows_the_trigger_document() -> None:
    triggers = load_shipped_triggers()
    assert tuple(INPUT_SCHEMA) == MONITORING_INPUTS
    declared = {name: spec.type.value for name, spec in triggers.document.inputs.items()}
    kinds = {
        "number": pl.Float64(),
        "string": pl.String(),
        "boolean": pl.Boolean(),
        "integer": pl.Int64(),
        "fen": pl.Int64(),
    }
    assert {name: kinds[kind] for name, kind in declared.items()} == INPUT_SCHEMA


def test_the_database_run_sees_what_the_batch_kernel_sees(
    markets: tuple[Path, Path], model: BehaviouralModel, platform: Platform
) -> None:
    market = markets[1]
    as_of = date(2023, 7, 15)  # reads June 2023, the last month ended before July
    month = date(2023, 6, 1)
    tables = open_market(market)
    everyone = monitoring_inputs(tables, month, model=model)
    usccs = everyone.get_column("customer_id").head(300).to_list()
    late = {usccs[0]: 45, usccs[1]: 3}
    customers = [MonitoredCustomer(uscc, (), None, late.get(uscc, 0), 1_000_000) for uscc in usccs]
    source = MarketSignalSource(
        ServicingSignalSource(platform.database.engine), market, model=model
    )
    triggers = load_shipped_triggers()
    hits = source.signals(customers, as_of, triggers)
    by_customer: dict[str, set[str]] = {}
    for found in hits:
        by_customer.setdefault(found.hit.customer_id, set()).add(found.hit.code)
    facts = pl.DataFrame(
        {"uscc": usccs, "days_past_due": [late.get(u, 0) for u in usccs]},
        schema={"uscc": pl.String, "days_past_due": pl.Int64},
    )
    batch = evaluate_alerts(
        monitoring_inputs(tables, month, customers=facts, model=model), triggers
    )
    expected = {
        row["customer_id"]: set(row["codes"].split(";")) for row in batch.iter_rows(named=True)
    }
    assert by_customer == expected
    assert "DPD_SERIOUS" in by_customer[usccs[0]]
    assert "DPD_EARLY" in by_customer[usccs[1]]
    evidence = next(h.evidence for h in hits if h.hit.customer_id == usccs[0])
    assert evidence["data_month"] == "2023-06"
    assert evidence["inputs"]["days_past_due"] == 45
    assert evidence["behavioural_model"].startswith("behaviour:")


def test_a_run_past_the_published_data_is_told_the_month_is_missing(
    markets: tuple[Path, Path], platform: Platform
) -> None:
    source = MarketSignalSource(
        ServicingSignalSource(platform.database.engine), markets[1], model=None
    )
    month_after_last = month_start_plus(START, MONTHS + 1)
    with pytest.raises(MonitoringDataMissing, match="not published yet"):
        source._servicing = _AlwaysFinal()  # type: ignore[assignment]
        source.check_data(month_after_last)


class _AlwaysFinal(ServicingSignalSource):
    def __init__(self) -> None:
        pass

    def check_data(self, as_of: date) -> None:
        return None


def test_without_a_model_the_rules_run_on_the_market_data_alone(
    markets: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PUHUI_BEHAVIOUR_MODEL_DIR", raising=False)
    out = tmp_path / "alerts.csv"
    result = runner.invoke(
        app,
        [
            "monitor",
            "backtest",
            "--market",
            str(markets[1]),
            "--from",
            "2023-06",
            "--to",
            "2023-07",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "without behavioural PD" in result.output
    with out.open(encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert rows, "the market data alone raises alerts"
    assert {row["behavioural_pd"] for row in rows} == {""}
    assert not any("BEHAVIOUR_PD" in row["codes"] for row in rows)


def test_guarantee_circles_name_each_connected_part_by_its_smallest_member() -> None:
    guarantees = pl.DataFrame(
        {
            "guarantor_uscc": ["B", "C", "A", "X", "Y"],
            "borrower_uscc": ["C", "B", "C", "Y", "Z"],
            "start_month": [date(2023, 1, 1)] * 4 + [date(2024, 1, 1)],
            "amount_fen": [1] * 5,
        }
    )
    tables = MarketTables({GUARANTEES: guarantees.lazy()})
    circles = dict(guarantee_circles(tables, date(2023, 6, 1)).iter_rows())
    # A-B-C is one circle (mutual B<->C plus A->C); X-Y another; Y->Z starts later.
    assert circles == {"A": "A", "B": "A", "C": "A", "X": "X", "Y": "X"}
