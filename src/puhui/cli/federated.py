"""``puhui federated``: split a market into two parties, serve the data owner, train, score."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from puhui.adapters.federated.owner_client import HttpOwnerPeer
from puhui.adapters.federated.tls import PartyTls, make_federation_certs
from puhui.cli.loan import parse_date
from puhui.market.params import parse_month
from puhui.pipelines.federated_split import split_market
from puhui.risk.federated.bank import TrainingConfig, train
from puhui.risk.federated.data import read_party
from puhui.risk.federated.errors import (
    FederatedRecordUnknown,
    FederatedSecretTooWeak,
    InvalidFederatedData,
)
from puhui.risk.federated.model import load_model
from puhui.risk.federated.owner import OwnerParty, read_queries
from puhui.risk.federated.scoring import ScoringConsent
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


TlsCert = Annotated[
    Path | None, typer.Option("--tls-cert", help="This party's certificate (PEM): mutual TLS.")
]
TlsKey = Annotated[Path | None, typer.Option("--tls-key", help="This party's private key (PEM).")]
TlsCa = Annotated[
    Path | None,
    typer.Option("--tls-ca", help="The CA certificate the peer's certificate must chain to."),
]


def _tls(cert: Path | None, key: Path | None, ca: Path | None) -> PartyTls | None:
    given = [value is not None for value in (cert, key, ca)]
    if not any(given):
        return None
    if not all(given) or cert is None or key is None or ca is None:
        raise InvalidFederatedData("mutual TLS needs all three of --tls-cert, --tls-key, --tls-ca")
    tls = PartyTls(cert, key, ca)
    tls.check()
    return tls


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
def certs(
    *,
    out: Annotated[Path, typer.Option(help="An empty folder to write the PEM files into.")],
    owner_host: Annotated[
        list[str],
        typer.Option("--owner-host", help="Host name or IP the bank dials the owner at."),
    ],
) -> None:
    """A federation CA and one certificate per party, for pilots and tests.

    In production each party's own CA issues its certificate.
    """
    made = make_federation_certs(out, owner_hosts=owner_host)
    typer.echo(f"CA {made.ca}")
    typer.echo(f"owner: --tls-cert {made.owner.cert} --tls-key {made.owner.key} --tls-ca {made.ca}")
    typer.echo(f"bank:  --tls-cert {made.bank.cert} --tls-key {made.bank.key} --tls-ca {made.ca}")


@app.command()
def serve(
    *,
    data: Annotated[Path, typer.Option(help="The data owner's party folder.")],
    secret_file: SecretFile = None,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8700,
    tls_cert: TlsCert = None,
    tls_key: TlsKey = None,
    tls_ca: TlsCa = None,
    score_limit: Annotated[
        int,
        typer.Option(
            min=1,
            help="Applicants scored online a minute at most; more are refused with 429.",
        ),
    ] = OwnerParty.DEFAULT_SCORE_LIMIT,
) -> None:
    """Serve the data owner's side of the protocol until interrupted.

    Mutual TLS with the three --tls options: the bank's certificate must chain to --tls-ca.
    An applicant is scored only under its authorisation (see score's --consent-ref), and
    every id scored is recorded (see queries).
    """
    secret = _secret(secret_file)
    tls = _tls(tls_cert, tls_key, tls_ca)
    # The CLI and the web layer sit side by side: the server is looked up by name.
    server = importlib.import_module("puhui.web.federated.owner_app")
    scheme = "http" if tls is None else "https"
    typer.echo(f"data owner serving {data} on {scheme}://{host}:{port}", err=True)
    server.run_owner(data, secret, host=host, port=port, tls=tls, score_limit=score_limit)


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
    tls_cert: TlsCert = None,
    tls_key: TlsKey = None,
    tls_ca: TlsCa = None,
) -> None:
    """Align by PSI and train with the owner; resumes from <out>.checkpoint if present."""
    peer = HttpOwnerPeer(owner, _secret(secret_file), tls=_tls(tls_cert, tls_key, tls_ca))
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
    calibration = report.model.metadata["calibration"]
    if calibration["held_out_default_rate"] is not None:
        typer.echo(
            f"held-out default rate {calibration['held_out_default_rate']:.2%}: intercept "
            f"refitted by {calibration['intercept_shift']:+.3f} (the mean PD was "
            f"{calibration['held_out_mean_pd_before']:.2%}; docs/federated.md)"
        )


@app.command()
def score(
    *,
    model: Annotated[Path, typer.Option(help="A model folder written by train.")],
    bank: Annotated[Path, typer.Option(help="The bank's party folder.")],
    uscc: Annotated[str, typer.Option(help="The enterprise to score.")],
    consent_ref: Annotated[
        str,
        typer.Option(help="Reference of the applicant's signed authorisation (授权书)."),
    ],
    consent_expires: Annotated[
        str, typer.Option(help="Last day the authorisation covers, YYYY-MM-DD.")
    ],
    secret_file: SecretFile = None,
    tls_cert: TlsCert = None,
    tls_key: TlsKey = None,
    tls_ca: TlsCa = None,
) -> None:
    """Score one enterprise: one round trip to the owner for its partial score.

    The owner scores it only under the applicant's authorisation in force, and records it.
    """
    tls = _tls(tls_cert, tls_key, tls_ca)
    consent = ScoringConsent(uscc, consent_ref, parse_date(consent_expires, "--consent-expires"))
    loaded = load_model(model)
    party = read_party(bank, with_labels=False)
    if uscc not in party.ids:
        raise FederatedRecordUnknown("the bank has no record of that enterprise")
    rows = party.rows_of([uscc])
    peer = HttpOwnerPeer(loaded.owner_url, _secret(secret_file), tls=tls)
    owner_score = peer.assessment_scores(loaded.model_id, [consent])
    probability = loaded.probabilities(party.features[rows], np.array(owner_score))[0]
    typer.echo(f"{uscc}: probability of default {probability:.4f}")


@app.command()
def queries(
    *,
    data: Annotated[Path, typer.Option(help="The data owner's party folder.")],
    month: Annotated[str, typer.Option(help="The month to list, YYYY-MM.")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """The owner's query record (查询记录) of one month.

    Every enterprise scored, with the authorisation named for it, and each validation of a model.
    """
    records = read_queries(data, parse_month(month))
    for record in records:
        if as_json:
            typer.echo(json.dumps(record, ensure_ascii=False, sort_keys=True))
        elif record["purpose"] == "validation":
            typer.echo(
                f"{record['at']}  validation  model {record['model_id']}  {record['ids']} ids"
            )
        else:
            typer.echo(
                f"{record['at']}  assessment  model {record['model_id']}  {record['id']}  "
                f"consent {record['consent_ref']} until {record['consent_expires_on']}"
            )
    if not as_json:
        typer.echo(f"{len(records)} records", err=True)
