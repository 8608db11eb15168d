"""``puhui decision``: show an application's stored decision, and replay it."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from puhui.cli.context import fail, platform
from puhui.domain.errors import PuhuiError
from puhui.domain.money import format_yuan
from puhui.domain.origination.decision_record import record_to_document

app = typer.Typer(help="Stored decisions: show and replay.", no_args_is_help=True)

ApplicationId = Annotated[str, typer.Argument(help="The application's id (app_…).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]

EXIT_DIFFERENT = 1


def _print_record(document: dict[str, Any]) -> None:
    evidence = document["evidence"]
    echo = typer.echo
    echo(f"application   {document['application_id']}")
    echo(f"decided at    {document['decided_at']}  (as of {evidence['as_of']})")
    term = document["term_months"]
    echo(
        f"outcome       {document['outcome']}  grade {_or_dash(document['grade'])}  "
        f"limit {_yuan_or_dash(document['limit_fen'])}  "
        f"rate {_or_dash(document['annual_rate'])}  "
        f"term {'-' if term is None else f'{term} months'}"
    )
    echo(f"reasons       {', '.join(document['reasons']) or '-'}")
    echo(f"anti-fraud    {', '.join(document['fraud_hits']) or '-'}")
    echo(
        f"strategy      {evidence['strategy_name']}@{evidence['strategy_version']}  "
        f"(hash {evidence['strategy_hash'][:12]})  arm {evidence['arm']}"
        + (f"  bucket {evidence['bucket']}" if evidence["bucket"] is not None else "")
    )
    # Rounded for reading; --json prints the stored values whole.
    pd, score = evidence["model_pd"], evidence["model_score"]
    echo(
        f"model         {evidence['model_name']} {evidence['model_version']}  "
        f"pd {'-' if pd is None else f'{pd:.4%}'}  score {'-' if score is None else f'{score:.1f}'}"
    )
    lineage = ", ".join(f"{k}={v}" for k, v in evidence["feature_lineage"].items())
    echo(f"features      {len(evidence['features'])} from {evidence['feature_source']} ({lineage})")
    echo(f"data pulled   {json.dumps(evidence['data_reference'], ensure_ascii=False)}")
    if evidence["shadow"]:
        shadow = evidence["shadow"]
        echo(
            f"shadow        {shadow.get('arm')} {shadow.get('strategy_version')}: "
            f"{shadow.get('outcome')}  limit {_yuan_or_dash(shadow.get('limit_fen'))}  "
            f"rate {_or_dash(shadow.get('annual_rate'))}"
        )
    _print_graph(document["trace"].get("graph"))
    echo("inputs:")
    for name, value in sorted(evidence["inputs"].items()):
        echo(f"  {name:<32} {value}")


def _or_dash(value: object) -> str:
    return "-" if value is None else str(value)


def _yuan_or_dash(amount_fen: int | None) -> str:
    return "-" if amount_fen is None else f"{format_yuan(amount_fen)} yuan"


def _print_graph(graph: dict[str, Any] | None) -> None:
    """The relationship graph's check: what it found (identifiers masked), or why it was not
    used."""
    echo = typer.echo
    if not graph:
        return
    if graph.get("status") != "ok":
        echo(f"graph         unavailable ({graph.get('status')}): {graph.get('why')}")
        return
    echo(
        f"graph         snapshot {graph['snapshot']}  hits {', '.join(graph['hits']) or '-'}"
        f"  enterprise in graph: {'yes' if graph['enterprise_in_graph'] else 'no'}"
    )
    for tie in graph["ties"]:
        echo(
            f"  shares {tie['identifier']} with {tie['enterprises_in_graph']} in the graph, "
            f"{tie['applications_since_graph']} applications since: {', '.join(tie['examples'])}"
        )
    if graph["ring"]:
        ring = graph["ring"]
        echo(f"  in ring {ring['ring_id']} (score {ring['score']}): {'; '.join(ring['evidence'])}")
    for ring in graph["tied_rings"]:
        echo(f"  tied to ring {ring['ring_id']} (score {ring['score']}) by {ring['via']}")


@app.command()
def show(application_id: ApplicationId, as_json: AsJson = False) -> None:
    """Print the stored decision: inputs, features, versions, arm, trace and reasons."""
    from puhui.bootstrap.wiring import origination_units  # noqa: PLC0415 - keeps start-up light
    from puhui.services.origination.replay import stored_decision  # noqa: PLC0415

    with platform() as p:
        try:
            record = stored_decision(origination_units(p).reader, application_id)
        except PuhuiError as exc:
            raise fail(exc.message, code=exc.code) from None
    document = record_to_document(record)
    if as_json:
        typer.echo(json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True))
        return
    _print_record(document)


@app.command()
def replay(application_id: ApplicationId, as_json: AsJson = False) -> None:
    """Recompute the decision from its stored inputs with its stored versions.

    Exits 0 when the result is the same, 1 naming the first difference when it is not.
    """
    from puhui.bootstrap.wiring import model_registry, origination_units  # noqa: PLC0415
    from puhui.services import strategies  # noqa: PLC0415
    from puhui.services.origination.replay import replay_decision  # noqa: PLC0415

    with platform() as p:
        try:
            result = replay_decision(
                origination_units(p).reader,
                load_version=lambda name, version: strategies.get_version(
                    p.strategy_reader, name, version
                ),
                models=model_registry(p),
                application_id=application_id,
            )
        except PuhuiError as exc:
            raise fail(exc.message, code=exc.code) from None
    first = result.first_difference
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "application_id": application_id,
                    "matches": result.matches,
                    "first_difference": None
                    if first is None
                    else {"field": first.field, "stored": first.stored, "replayed": first.replayed},
                    "differences": [
                        {"field": d.field, "stored": d.stored, "replayed": d.replayed}
                        for d in result.differences
                    ],
                    "replayed": result.replayed,
                },
                ensure_ascii=False,
                default=str,
            )
        )
    elif first is None:
        evidence = result.record.evidence
        typer.echo(
            f"{application_id}: replayed with {evidence.strategy_label} and model "
            f"{evidence.model_version}: the same decision ({result.record.outcome})"
        )
    else:
        typer.echo(f"{application_id}: the replay differs; first difference {first.describe()}")
        for other in result.differences[1:]:
            typer.echo(f"  also {other.describe()}")
    if first is not None:
        raise typer.Exit(EXIT_DIFFERENT)
