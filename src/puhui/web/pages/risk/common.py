"""What the strategy and model pages share: the wiring, people's names, messages, jobs."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from fastapi import Request

from puhui.domain.errors import ConfigurationError, InvalidInput, PuhuiError
from puhui.services import strategies
from puhui.web.pages.nav import N_
from puhui.web.pages.risk.jobs import JobBoard

if TYPE_CHECKING:
    from puhui.bootstrap.api import ApiDependencies
    from puhui.risk.registry import ModelRegistry

_AUDIT_NAME = re.compile(r"^[a-z_]+:(.+)$")

STATUS_NAMES: dict[str, str] = {
    "draft": N_("Draft"),
    "submitted": N_("Submitted"),
    "approved": N_("Approved"),
    "active": N_("In use"),
    "retired": N_("Retired"),
    "candidate": N_("Registered"),
    "champion": N_("Champion model"),
}
STATUS_BADGES = {"active": "ok", "champion": "ok", "submitted": "warn", "approved": "warn"}
KIND_NAMES: dict[str, str] = {
    "strategy": N_("Credit strategy"),
    "triggers": N_("Trigger rules"),
    "concentration": N_("Concentration limits"),
}


def deps_of(request: Request) -> ApiDependencies:
    deps: ApiDependencies = request.app.state.deps
    return deps


def strategy_units(request: Request) -> strategies.UowFactory:
    credit = deps_of(request).credit
    if credit is None or credit.strategies_uow is None:
        raise ConfigurationError("strategies are not wired on this server")
    return credit.strategies_uow


def model_registry(request: Request) -> ModelRegistry:
    credit = deps_of(request).credit
    if credit is None or credit.model_registry is None:
        raise ConfigurationError("the model registry is not wired on this server")
    return credit.model_registry


def jobs(request: Request) -> JobBoard:
    """The process's board of page jobs (made on first use)."""
    board: JobBoard | None = getattr(request.app.state, "risk_jobs", None)
    if board is None:
        board = request.app.state.risk_jobs = JobBoard()
    return board


def person(request: Request, actor: str | None) -> str:
    """Who an audit name (``role:user_id``) is, by username; other names as they are."""
    if not actor:
        return "—"
    match = _AUDIT_NAME.match(actor)
    if match is None:
        return actor
    user_id = match.group(1)
    names: dict[str, str] | None = getattr(request.app.state, "user_names", None)
    if names is None:
        names = request.app.state.user_names = {}
    if user_id not in names:
        with deps_of(request).security.reader_factory() as uow:
            user = uow.users.get(user_id)
        if user is None:
            return actor
        names[user_id] = user.username
    return names[user_id]


def detail_of(error: PuhuiError | None) -> str | None:
    """What the service said, shown under the sentence when it helps to fix the input (a
    document's problems and their lines); other refusals, and a missing reason for sending a
    version back, need only the sentence."""
    if isinstance(error, InvalidInput) and not isinstance(error, strategies.ReturnReasonInvalid):
        return error.message
    return None
