"""The data owner's HTTP API: every request signed by the bank, every answer signed back.

Routes only check the signature, validate the body and call :class:`OwnerParty`; the protocol
lives in ``risk/federated``. CPU-heavy Paillier work runs in the thread pool.
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from puhui.adapters.federated.tls import PartyTls
from puhui.domain.errors import PuhuiError
from puhui.domain.origination.errors import RateLimited
from puhui.risk.federated import wire
from puhui.risk.federated.errors import FederatedConsentMissing, InvalidFederatedData
from puhui.risk.federated.owner import OwnerParty
from puhui.risk.federated.scoring import ScoringConsent, ScoringQuota
from puhui.risk.federated.signing import (
    NONCE_HEADER,
    RESPONSE_SIGNATURE_HEADER,
    RequestVerifier,
    SharedSecret,
    response_signature,
)
from puhui.web.errors import status_of

logger = logging.getLogger(__name__)

PREFIX = "/federated/v1"
MAX_IDS = 1_000_000


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PsiBody(_Body):
    blinded: list[str] = Field(max_length=MAX_IDS)


class AlignBody(_Body):
    session_id: str
    positions: list[int] = Field(max_length=MAX_IDS)


class OpenBody(_Body):
    training_id: str
    session_id: str
    train_ids: list[str] = Field(max_length=MAX_IDS)
    bank_key_n: str
    key_bits: int = Field(ge=512, le=4096)
    learning_rate: float = Field(gt=0, le=10)
    l2: float = Field(ge=0, le=10)
    resume_epoch: int = Field(ge=0)


class GradientBody(_Body):
    training_id: str
    ids: list[str] = Field(max_length=MAX_IDS)
    residual_intercept: list[str] = Field(max_length=MAX_IDS)
    """[[σ(u_b) − y]] per row under the bank's key."""
    residual_slope: list[str] = Field(max_length=MAX_IDS)
    """[[σ'(u_b)]] per row under the bank's key."""


class UpdateBody(_Body):
    training_id: str
    masked_gradient: list[str] = Field(max_length=10_000)
    cross: list[str] = Field(max_length=10_000)


class EpochBody(_Body):
    training_id: str
    epoch: int = Field(ge=1)


class CommitBody(_Body):
    training_id: str
    model_id: str


class ConsentBody(_Body):
    id: str = Field(min_length=1, max_length=64)
    # Optional on the wire so that a request without them is told what is missing (403).
    consent_ref: str | None = None
    expires_on: date | None = None


class ScoreBody(_Body):
    model_id: str
    consents: list[ConsentBody] = Field(min_length=1, max_length=10_000)


class ValidationBody(_Body):
    model_id: str
    ids: list[str] = Field(min_length=1, max_length=MAX_IDS)


B = TypeVar("B", bound=_Body)


def create_owner_app(party: OwnerParty, secret: SharedSecret) -> FastAPI:
    app = FastAPI(title="Puhui data owner", docs_url=None, redoc_url=None, openapi_url=None)
    verifier = RequestVerifier(secret)

    def _answer(
        status: int, nonce: str, document: dict[str, Any], retry_after: object = None
    ) -> Response:
        body = json.dumps(document, separators=(",", ":")).encode("utf-8")
        headers = {RESPONSE_SIGNATURE_HEADER: response_signature(secret, nonce, status, body)}
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return Response(body, status_code=status, media_type="application/json", headers=headers)

    async def handle(
        request: Request, kind: type[B], action: Callable[[B], dict[str, Any]]
    ) -> Response:
        body = await request.body()
        nonce = request.headers.get(NONCE_HEADER, "")
        try:
            verifier.verify(request.method, request.url.path, request.headers, body)
            try:
                parsed = kind.model_validate_json(body)
            except ValidationError as error:
                # The fields at fault by name (never their values: they may be ids or data).
                fields = sorted({str(e["loc"][0]) for e in error.errors() if e["loc"]})
                raise InvalidFederatedData(
                    "the message does not follow the protocol",
                    details={"errors": error.error_count(), "fields": fields},
                ) from None
            result = await run_in_threadpool(action, parsed)
        except PuhuiError as error:
            logger.info("federated request refused: %s", error.code)
            retry_after = (
                error.details.get("retry_after_seconds") if isinstance(error, RateLimited) else None
            )
            return _answer(status_of(error), nonce, error.to_dict(), retry_after)
        return _answer(200, nonce, result)

    def psi(body: PsiBody) -> dict[str, Any]:
        session_id, answer = party.psi_answer(wire.points_in(body.blinded))
        return {
            "session_id": session_id,
            "double_blinded": wire.points_out(answer.double_blinded),
            "owner_blinded": wire.points_out(answer.owner_blinded),
        }

    def align(body: AlignBody) -> dict[str, Any]:
        return {"shared": party.align(body.session_id, body.positions)}

    def open_training(body: OpenBody) -> dict[str, Any]:
        owner_n, features = party.open_training(
            training_id=body.training_id,
            session_id=body.session_id,
            train_ids=body.train_ids,
            bank_key_n=wire.int_in(body.bank_key_n),
            key_bits=body.key_bits,
            learning_rate=body.learning_rate,
            l2=body.l2,
            resume_epoch=body.resume_epoch,
        )
        return {"owner_key_n": wire.ints_out([owner_n])[0], "features": features}

    def gradient(body: GradientBody) -> dict[str, Any]:
        masked, scores = party.gradient(
            body.training_id,
            body.ids,
            wire.ints_in(body.residual_intercept),
            wire.ints_in(body.residual_slope),
        )
        return {"masked_gradient": wire.ints_out(masked), "scores": wire.ints_out(scores)}

    def update(body: UpdateBody) -> dict[str, Any]:
        cross = party.update(
            body.training_id, wire.ints_in(body.masked_gradient), wire.ints_in(body.cross)
        )
        return {"masked_cross": wire.ints_out(cross)}

    def end_epoch(body: EpochBody) -> dict[str, Any]:
        party.end_epoch(body.training_id, body.epoch)
        return {"epoch": body.epoch}

    def commit(body: CommitBody) -> dict[str, Any]:
        party.commit(body.training_id, body.model_id)
        return {"model_id": body.model_id}

    def score(body: ScoreBody) -> dict[str, Any]:
        consents = []
        for given in body.consents:
            if given.consent_ref is None or given.expires_on is None:
                raise FederatedConsentMissing(
                    "an enterprise comes without its authorisation (consent_ref and expires_on)",
                    details={"id": given.id},
                )
            consents.append(ScoringConsent(given.id, given.consent_ref, given.expires_on))
        return {"scores": party.assessment_scores(body.model_id, consents)}

    def validation_score(body: ValidationBody) -> dict[str, Any]:
        return {"scores": party.validation_scores(body.model_id, body.ids)}

    @app.get(PREFIX + "/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(PREFIX + "/psi")
    async def psi_route(request: Request) -> Response:
        return await handle(request, PsiBody, psi)

    @app.post(PREFIX + "/align")
    async def align_route(request: Request) -> Response:
        return await handle(request, AlignBody, align)

    @app.post(PREFIX + "/training/open")
    async def open_route(request: Request) -> Response:
        return await handle(request, OpenBody, open_training)

    @app.post(PREFIX + "/training/gradient")
    async def gradient_route(request: Request) -> Response:
        return await handle(request, GradientBody, gradient)

    @app.post(PREFIX + "/training/update")
    async def update_route(request: Request) -> Response:
        return await handle(request, UpdateBody, update)

    @app.post(PREFIX + "/training/epoch")
    async def epoch_route(request: Request) -> Response:
        return await handle(request, EpochBody, end_epoch)

    @app.post(PREFIX + "/training/commit")
    async def commit_route(request: Request) -> Response:
        return await handle(request, CommitBody, commit)

    @app.post(PREFIX + "/score")
    async def score_route(request: Request) -> Response:
        return await handle(request, ScoreBody, score)

    @app.post(PREFIX + "/score/validation")
    async def validation_route(request: Request) -> Response:
        return await handle(request, ValidationBody, validation_score)

    return app


def run_owner(
    folder: Path,
    secret: SharedSecret,
    *,
    host: str,
    port: int,
    tls: PartyTls | None = None,
    score_limit: int = OwnerParty.DEFAULT_SCORE_LIMIT,
) -> None:
    """Serve the owner's data folder until interrupted (called by ``puhui federated serve``).
    With ``tls``: mutual TLS, a client without a certificate the bank's CA signed is refused
    during the handshake, before any request is read. ``score_limit``: applicants scored
    online a minute."""
    app = create_owner_app(OwnerParty(folder, quota=ScoringQuota(score_limit)), secret)
    if tls is None:
        uvicorn.run(app, host=host, port=port, log_config=None, proxy_headers=False)
        return
    tls.check()
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        proxy_headers=False,
        ssl_certfile=str(tls.cert),
        ssl_keyfile=str(tls.key),
        ssl_ca_certs=str(tls.peer_ca),
        ssl_cert_reqs=ssl.CERT_REQUIRED,
    )
