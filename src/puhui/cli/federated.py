"""``puhui federated``: split a market into two parties, serve the data owner, train, score."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from puhui.adapters.federated.owner_client import HttpOwnerPeer
from puhui.market.params import parse_month
from puhui.pipelines.federated_split import split_market
from puhui.risk.federated.bank import TrainingConfig, train
from puhui.risk.federated.data import read_party
from puhui.risk.federated.errors import FederatedRecordUnknown, FederatedSecretTooWeak
from puhui.risk.federated.model import load_model
from puhui.risk.federated.signing import SharedSecret

app = typer.Typer(
    help="Vertical federated learning with a data owner (docs/federated.md).",
    no_args_is_help=True,
)

SECRET_ENV = "PUHUI_FEDERATED_SECRET_FILE"  # noqa: S105 - names the variable, holds no secret
SecretFile = Annotated[
    Path | None,
    typer.Option(
        "--secret-file",
        envvar=SECRET_ENV,
        help="File holding the secret shared with the peer (provisioned out of band).",
    ),
]


def _secret(path: Path | None) -> SharedSecret:
    if path is None:
        raise FederatedSecretTooWeak(f"no shared secret: give --secret-file or {SECRET_ENV}")
    return SharedSecret(path.read_bytes().strip())


@app.command()
def split(
    *,
    market: Annotated[Path, typer.Option(help="A generated market folder.")],
    bank: Annotated[Path, typer.Option(help="Folder to write the bank's party data into.")],
    owner: Annotated[Path, typer.Option(help="Folder to write the data owner's party data into.")],
    as_of: Annotated[str, typer.Option(help="Features before this month, YYYY-MM.")],
    seed: Annotated[int, typer.Option(help="Which enterprises each party holds.")] = 0,
) -> None:
    """Write the bank's folder (flows, loans, labels) and the owner's (tax, utilities)."""
    summary = split_market(market, bank, owner, as_of=parse_month(as_of), seed=seed)
    typer.echo(
        f"bank {summary.bank_rows} rows, owner {summary.owner_rows} rows, "
        f"shared {summary.shared_rows}, default rate {summary.default_rate:.3f}"
    )


@app.command()
def serve(
    *,
    data: Annotated[Path, typer.Option(help="The data owner's party folder.")],
    secret_file: SecretFile = None,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8700,
) -> None:
    """Serve the data owner's side of the protocol until interrupted."""
    secret = _secret(secret_file)
    # The CLI and the web layer sit side by side: the server is looked up by name.
    server = importlib.import_module("puhui.web.federated.owner_app")
    typer.echo(f"data owner serving {data} on http://{host}:{port}", err=True)
    server.run_owner(data, secret, host=host, port=port)


@app.command("train")
def train_command(
    *,
    bank: Annotated[Path, typer.Option(help="The bank's party folder (features and labels).")],
    owner: Annotated[str, typer.Option(help="The data owner's URL, http://host:port.")],
    out: Annotated[Path, typer.Option(help="Model folder to write (must not exist).")],
    secret_file: SecretFile = None,
    epochs: Annotated[int, typer.Option(min=1)] = 8,
    batch_size: Annotated[int, typer.Option(min=32)] = 256,
    learning_rate: Annotated[float, typer.Option()] = 0.8,
    key_bits: Annotated[int, typer.Option(min=512, max=4096)] = 2048,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Align by PSI and train with the owner; resumes from <out>.checkpoint if present."""
    peer = HttpOwnerPeer(owner, _secret(secret_file))
    config = TrainingConfig(
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        key_bits=key_bits,
        seed=seed,
    )
    report = train(
        read_party(bank, with_labels=True),
        peer,
        out,
        owner_url=owner,
        config=config,
        on_epoch=lambda epoch, seconds: typer.echo(f"epoch {epoch}: {seconds:.1f} s", err=True),
    )
    if report.resumed_from_epoch:
        typer.echo(f"resumed after epoch {report.resumed_from_epoch}")
    typer.echo(
        f"model {report.model.model_id} written to {out}: "
        f"test AUC {report.model.metadata['test_auc']:.4f}, "
        f"{report.bytes_exchanged:,} bytes exchanged"
    )


@app.command()
def score(
    *,
    model: Annotated[Path, typer.Option(help="A model folder written by train.")],
    bank: Annotated[Path, typer.Option(help="The bank's party folder.")],
    uscc: Annotated[str, typer.Option(help="The enterprise to score.")],
    secret_file: SecretFile = None,
) -> None:
    """Score one enterprise: one round trip to the owner for its partial score."""
    loaded = load_model(model)
    party = read_party(bank, with_labels=False)
    if uscc not in party.ids:
        raise FederatedRecordUnknown("the bank has no record of that enterprise")
    rows = party.rows_of([uscc])
    peer = HttpOwnerPeer(loaded.owner_url, _secret(secret_file))
    owner_score = peer.partial_scores(loaded.model_id, [uscc])
    probability = loaded.probabilities(party.features[rows], np.array(owner_score))[0]
    typer.echo(f"{uscc}: probability of default {probability:.4f}")
