"""``puhui model``: train, evaluate and score credit risk models on tabular files.

The modelling libraries (LightGBM, optbinning, scikit-learn) take seconds to import, so each
command imports them itself: every other ``puhui`` command stays quick to start.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer

from puhui.cli.context import fail
from puhui.cli.engine_options import EngineOption, MasterOption, chosen_engine
from puhui.cli.progress import progress_bar
from puhui.domain.errors import PuhuiError
from puhui.risk.kinds import ModelKind

app = typer.Typer(help="Credit risk models: scorecard and gradient boosting.", no_args_is_help=True)


def _monotone(text: str | None) -> dict[str, int]:
    """``col=+1,col2=-1`` → {col: 1, col2: -1}."""
    from puhui.risk.errors import InvalidTrainingData  # noqa: PLC0415 - see module note

    if not text:
        return {}
    result: dict[str, int] = {}
    for part in text.split(","):
        name, sep, direction = part.partition("=")
        if not sep or direction.strip() not in {"+1", "1", "-1", "0"}:
            raise InvalidTrainingData(f"--monotone expects col=+1 or col=-1, got {part!r}")
        result[name.strip()] = int(direction.strip())
    return result


@app.command()
def train(
    *,
    data: Annotated[Path, typer.Option(help="CSV or Parquet file, one row per applicant.")],
    target: Annotated[str, typer.Option(help="Binary target column (1 = bad).")],
    kind: Annotated[ModelKind, typer.Option(help="scorecard or gbm.")],
    out: Annotated[Path, typer.Option(help="Directory to write the model to.")],
    id_col: Annotated[str | None, typer.Option(help="Identifier column (not a feature).")] = None,
    exclude: Annotated[
        str | None, typer.Option(help="Columns to leave out, comma-separated.")
    ] = None,
    monotone: Annotated[
        str | None, typer.Option(help="GBM monotone constraints: col=+1,col2=-1 (+1: PD rises).")
    ] = None,
    pdo: Annotated[float, typer.Option(help="Points to double the odds.")] = 20.0,
    base_score: Annotated[float, typer.Option(help="Score at the base odds.")] = 600.0,
    base_odds: Annotated[float, typer.Option(help="Good:bad odds at the base score.")] = 50.0,
) -> None:
    """Train a model on a tabular file and save it with its metadata."""
    from puhui.risk.artefact import save_artefact  # noqa: PLC0415 - see module note
    from puhui.risk.dataset import file_sha256, prepare_training, read_table  # noqa: PLC0415
    from puhui.risk.gbm import GbmConfig  # noqa: PLC0415
    from puhui.risk.scorecard import ScorecardConfig  # noqa: PLC0415
    from puhui.risk.training import save_development_profile, train_model  # noqa: PLC0415

    try:
        with progress_bar() as progress:
            progress.start(None, f"{kind.value} model: reading {data}")
            frame = read_table(data)
            excluded = [c.strip() for c in (exclude or "").split(",") if c.strip()]
            prepared = prepare_training(
                frame, target=target, id_col=id_col, exclude=excluded, data_hash=file_sha256(data)
            )
            progress.start(None, f"{kind.value} model: training on {prepared.n_rows:,} rows")
            scaling = ScorecardConfig(pdo=pdo, base_score=base_score, base_odds=base_odds)
            artefact = train_model(
                prepared,
                kind,
                trained_at=datetime.now(UTC),
                target=target,
                id_col=id_col,
                scorecard_config=scaling,
                gbm_config=GbmConfig(monotone=_monotone(monotone)),
            )
            save_artefact(artefact, out)
            save_development_profile(artefact, prepared.features, prepared.target, out)
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    typer.echo(
        f"{kind.value} model on {prepared.n_rows:,} rows, "
        f"{len(artefact.model.feature_names)} features -> {out}"
    )
    typer.echo(_quality_line(artefact.metadata.metrics, with_brier=True))


def _quality_line(metrics: dict[str, dict[str, float]], *, with_brier: bool) -> str:
    """The model's figures on rows it did not see, labelled with how they were measured."""
    from puhui.risk.training import OUT_OF_SAMPLE, out_of_sample_label  # noqa: PLC0415

    label = out_of_sample_label(metrics)
    if label is None:
        return "no out-of-sample figures recorded (a model saved by an older version)"
    figures = metrics[OUT_OF_SAMPLE]
    line = f"{label} AUC {figures['auc']:.4f}  KS {figures['ks']:.4f}" + (
        f"  Brier {figures['brier']:.4f}" if with_brier else ""
    )
    return f"{line}  (n {int(figures['n']):,})"


@app.command()
def evaluate(
    model: Annotated[Path, typer.Option(help="Model directory written by `model train`.")],
    data: Annotated[Path, typer.Option(help="CSV or Parquet file with the target.")],
    target: Annotated[str, typer.Option(help="Binary target column (1 = bad).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
    report: Annotated[
        Path | None, typer.Option(help="Also write a validation report (Markdown + PNG) here.")
    ] = None,
) -> None:
    """Measure a saved model on a labelled file: AUC, KS, Gini, Brier."""
    from puhui.risk.artefact import load_artefact  # noqa: PLC0415 - see module note
    from puhui.risk.dataset import binary_target, read_table  # noqa: PLC0415
    from puhui.risk.metrics import evaluate as evaluate_metrics  # noqa: PLC0415
    from puhui.risk.report import write_validation_report  # noqa: PLC0415
    from puhui.risk.scorer import scorer_for  # noqa: PLC0415
    from puhui.risk.training import scoring_frame  # noqa: PLC0415

    try:
        artefact = load_artefact(model)
        frame = read_table(data)
        y = binary_target(frame, target)
        scorer = scorer_for(artefact.model)
        pd = scorer.predict_pd(scorer.matrix(scoring_frame(artefact, frame)))
        metrics = evaluate_metrics(y, pd)
        if report is not None:
            write_validation_report(report, y, pd, title=f"{artefact.kind.value} model {model}")
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    if as_json:
        typer.echo(json.dumps(metrics.to_dict()))
        return
    typer.echo(
        f"n {metrics.n:,}  AUC {metrics.auc:.4f}  KS {metrics.ks:.4f}  "
        f"Gini {metrics.gini:.4f}  Brier {metrics.brier:.4f}"
    )


@app.command()
def score(
    model: Annotated[Path, typer.Option(help="Model directory written by `model train`.")],
    data: Annotated[Path, typer.Option(help="CSV or Parquet file to score.")],
    out: Annotated[Path, typer.Option(help="Output file (.csv or .parquet).")],
) -> None:
    """Write PD, score, grade and reason codes for every row."""
    from puhui.risk.artefact import load_artefact  # noqa: PLC0415 - see module note
    from puhui.risk.dataset import read_table  # noqa: PLC0415
    from puhui.risk.scorer import scorer_for  # noqa: PLC0415
    from puhui.risk.training import scoring_frame  # noqa: PLC0415

    try:
        artefact = load_artefact(model)
        frame = read_table(data)
        scored = scorer_for(artefact.model).assess_frame(scoring_frame(artefact, frame))
        id_col = artefact.metadata.id_col
        if id_col and id_col in frame.columns:
            scored = scored.insert_column(0, frame.get_column(id_col))
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.suffix.lower() == ".parquet":
            scored.write_parquet(out)
        else:
            scored.write_csv(out)
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    typer.echo(f"scored {scored.height:,} rows -> {out}")


@app.command(name="score-market")
def score_market(
    *,
    model: Annotated[Path, typer.Option(help="Model directory written by `model train-market`.")],
    market: Annotated[Path, typer.Option(help="Folder of a generated market.")],
    as_of: Annotated[str, typer.Option(help="Month YYYY-MM: features from the data before it.")],
    out: Annotated[Path, typer.Option(help="Output file (.csv or .parquet), one row per firm.")],
    engine: EngineOption = "local",
    master: MasterOption = None,
) -> None:
    """Score every enterprise of a market as of a month (batch, local or Spark engine)."""
    from puhui.pipelines.batch_scoring import score_market as run  # noqa: PLC0415
    from puhui.risk.artefact import load_artefact  # noqa: PLC0415 - see module note

    runner = chosen_engine(engine, master)
    day = _as_of(as_of)
    try:
        with progress_bar() as progress:
            progress.start(None, f"scoring {market} as of {as_of} ({runner.name} engine)")
            rows = run(market, day, load_artefact(model), out, engine=runner)
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    typer.echo(f"scored {rows:,} enterprises as of {as_of} -> {out}")


@app.command()
def export(
    *,
    model: Annotated[Path, typer.Option(help="Model directory written by `model train`.")],
    export_format: Annotated[
        str, typer.Option("--format", help="onnx (pmml is refused: no Java-free evaluator).")
    ],
    out: Annotated[Path, typer.Option(help="File to write the exported model to.")],
) -> None:
    """Export a saved model (scorecard or GBM) as ONNX that outputs the same PD as `score`."""
    from puhui.risk.artefact import load_artefact  # noqa: PLC0415 - see module note
    from puhui.risk.export import export_model  # noqa: PLC0415

    try:
        artefact = load_artefact(model)
        exported = export_model(artefact, export_format)
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(exported)
    typer.echo(
        f"{artefact.kind.value} model -> {out} ({export_format.lower()}, {len(exported):,} bytes): "
        f"one input per feature, output pd"
    )


@app.command()
def register(
    model: Annotated[Path, typer.Option(help="Model directory written by `model train`.")],
    registry: Annotated[Path, typer.Option(help="Registry directory.")],
    name: Annotated[str, typer.Option(help="Model name (the champion slot it competes for).")],
    builder: Annotated[str, typer.Option(help="Who built the model.")],
) -> None:
    """Register a trained model as a candidate."""
    from puhui.risk.registry import ModelRegistry  # noqa: PLC0415 - see module note

    try:
        entry = ModelRegistry(registry).register(
            model, name=name, builder=builder, at=datetime.now(UTC)
        )
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    typer.echo(f"{entry.version} registered as {entry.status.value} ({entry.kind} {entry.name})")


@app.command()
def approve(
    registry: Annotated[Path, typer.Option(help="Registry directory.")],
    version: Annotated[str, typer.Option(help="Model version to approve.")],
    approver: Annotated[str, typer.Option(help="Who approves (not the builder).")],
) -> None:
    """Approve a candidate (four eyes: the approver may not be the builder)."""
    from puhui.risk.registry import ModelRegistry  # noqa: PLC0415 - see module note

    try:
        entry = ModelRegistry(registry).approve(version, approver=approver, at=datetime.now(UTC))
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    typer.echo(f"{entry.version} approved by {entry.approver}")


@app.command()
def promote(
    registry: Annotated[Path, typer.Option(help="Registry directory.")],
    version: Annotated[str, typer.Option(help="Approved model version.")],
    actor: Annotated[str, typer.Option(help="Who promotes it.")],
) -> None:
    """Make an approved model the champion; the previous champion retires."""
    from puhui.risk.registry import ModelRegistry  # noqa: PLC0415 - see module note

    try:
        entry = ModelRegistry(registry).promote(version, actor=actor, at=datetime.now(UTC))
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    typer.echo(f"{entry.version} is now champion of {entry.name}")


@app.command(name="list")
def list_models(registry: Annotated[Path, typer.Option(help="Registry directory.")]) -> None:
    """List registered model versions and their statuses."""
    from puhui.risk.registry import ModelRegistry  # noqa: PLC0415 - see module note
    from puhui.risk.training import OUT_OF_SAMPLE  # noqa: PLC0415 - see module note

    for entry in ModelRegistry(registry).entries():
        # Only out-of-sample figures are quoted (a model saved before them shows none).
        auc = entry.metrics.get(OUT_OF_SAMPLE, {}).get("auc")
        quality = "out-of-sample AUC n/a" if auc is None else f"out-of-sample AUC {auc:.4f}"
        typer.echo(
            f"{entry.version}  {entry.name:<16} {entry.kind:<9} {entry.status.value:<9} "
            f"{quality}  built by {entry.builder}"
        )


def _as_of(text: str) -> date:
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise fail(f"--as-of must be YYYY-MM, got {text!r}", code="invalid_date") from None


@app.command(name="train-market")
def train_market(
    *,
    market: Annotated[Path, typer.Option(help="Folder of a generated market.")],
    as_of: Annotated[str, typer.Option(help="Development date YYYY-MM: outcomes known by then.")],
    kind: Annotated[ModelKind, typer.Option(help="scorecard or gbm.")],
    out: Annotated[Path, typer.Option(help="Directory to write the model to.")],
    window_months: Annotated[int, typer.Option(help="Origination months in the sample.")] = 24,
    with_applications: Annotated[
        bool,
        typer.Option(
            help="Also the features of the application each loan was granted on (term, "
            "amount against sales, channel, earlier applications); online scoring must pass them."
        ),
    ] = False,
) -> None:
    """Train on the market: point-in-time features, labels from observed loan outcomes."""
    from puhui.risk.market_training import train_on_market  # noqa: PLC0415 - see module note

    day = _as_of(as_of)
    try:
        with progress_bar() as progress:
            progress.start(None, f"{kind.value} model: training on {market} before {as_of}")
            trained = train_on_market(
                market,
                day,
                kind,
                trained_at=datetime.now(UTC),
                window_months=window_months,
                with_applications=with_applications,
                out=out,
            )
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    prepared, artefact = trained.prepared, trained.artefact
    typer.echo(
        f"{kind.value} model on {prepared.n_rows:,} loans ({int(prepared.target.sum()):,} bad), "
        f"{len(artefact.model.feature_names)} features -> {out}"
    )
    typer.echo(_quality_line(artefact.metadata.metrics, with_brier=False))


@app.command(name="evaluate-market")
def evaluate_market(
    *,
    model: Annotated[Path, typer.Option(help="Model directory.")],
    market: Annotated[Path, typer.Option(help="Folder of a (held-out) generated market.")],
    as_of: Annotated[str, typer.Option(help="Date YYYY-MM: outcomes known by then.")],
    window_months: Annotated[int, typer.Option(help="Origination months in the sample.")] = 24,
    report: Annotated[Path | None, typer.Option(help="Write a validation report here.")] = None,
) -> None:
    """Out-of-sample AUC, calibration and the oracle AUC (true PD from truth/) on a market."""
    import polars as pl  # noqa: PLC0415

    from puhui.risk.artefact import load_artefact  # noqa: PLC0415 - see module note
    from puhui.risk.features import (  # noqa: PLC0415
        APPLICATION_FEATURE_NAMES,
        MarketTables,
        labelled_dataset,
    )
    from puhui.risk.market_oracle import oracle_pd  # noqa: PLC0415
    from puhui.risk.metrics import auc, calibration_by_decile, evaluate  # noqa: PLC0415
    from puhui.risk.report import (  # noqa: PLC0415
        write_market_validation_report,
        write_validation_report,
    )
    from puhui.risk.scorer import scorer_for  # noqa: PLC0415
    from puhui.risk.training import scoring_frame  # noqa: PLC0415

    day = _as_of(as_of)
    try:
        with progress_bar() as progress:
            progress.start(None, f"evaluating {model} on {market}")
            artefact = load_artefact(model)
            labelled = labelled_dataset(
                MarketTables.from_dir(market),
                day,
                window_months=window_months,
                # A model trained with application features is evaluated with them.
                with_applications=bool(
                    set(artefact.model.feature_names) & set(APPLICATION_FEATURE_NAMES)
                ),
            )
            scorer = scorer_for(artefact.model)
            pd = scorer.predict_pd(scorer.matrix(scoring_frame(artefact, labelled)))
            y = labelled.get_column("bad").to_numpy()
            metrics = evaluate(y, pd)
            oracle = oracle_pd(market, labelled.select("uscc", "origination_month"))
            known = oracle.get_column("oracle_pd").is_not_null().to_numpy()
            oracle_auc = auc(y[known], oracle.get_column("oracle_pd").to_numpy()[known])
            if report is not None:
                development_file = model / "development_sample.parquet"
                if development_file.exists():
                    # The full report: PSI between the development and validation windows and
                    # the out-of-time table by origination quarter.
                    development = pl.read_parquet(development_file)
                    write_market_validation_report(
                        report,
                        title=f"{artefact.kind.value} on {market}",
                        development=development,
                        development_pd=scorer.predict_pd(
                            scorer.matrix(scoring_frame(artefact, development))
                        ),
                        validation=labelled,
                        validation_pd=pd,
                        features=artefact.model.feature_names,
                        oracle_auc=oracle_auc,
                    )
                else:
                    write_validation_report(
                        report, y, pd, title=f"{artefact.kind.value} on {market}"
                    )
    except PuhuiError as exc:
        raise fail(exc.message, code=exc.code) from None
    typer.echo(
        f"n {metrics.n:,} ({int(y.sum()):,} bad)  AUC {metrics.auc:.4f}  "
        f"oracle AUC {oracle_auc:.4f}  gap {oracle_auc - metrics.auc:+.4f}  "
        f"KS {metrics.ks:.4f}  Brier {metrics.brier:.4f}"
    )
    for bucket in calibration_by_decile(y, pd):
        judged = "judged" if bucket.n_bad >= 100 else "too few bads to judge"
        typer.echo(
            f"  decile {bucket.bucket:>2}: expected {bucket.expected_bad_rate:7.2%} "
            f"observed {bucket.observed_bad_rate:7.2%} ({bucket.n_bad} bads, {judged})"
        )
