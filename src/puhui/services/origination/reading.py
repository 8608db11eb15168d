"""Reading applications and their decision records: visibility first."""

from __future__ import annotations

from puhui.domain.errors import InvalidInput
from puhui.domain.origination.application import Application, ApplicationStatus
from puhui.domain.origination.channel import parse_branch_code, parse_channel
from puhui.domain.origination.decision_record import DecisionRecord
from puhui.services.origination.context import (
    ApplicationView,
    Origination,
    load_visible,
    view_of,
)
from puhui.services.origination.ports import ApplicationFilter
from puhui.services.security.permissions import Permission, Principal, Role, require


def get_application(
    origination: Origination, *, actor: Principal, application_id: str
) -> ApplicationView:
    require(actor, Permission.APPLICATION_READ)
    with origination.reading() as uow:
        return view_of(uow, load_visible(uow, actor, application_id))


def get_decision_record(
    origination: Origination, *, actor: Principal, application_id: str
) -> DecisionRecord | None:
    """The stored evidence of the application's automatic decision (None before this existed)."""
    require(actor, Permission.DECISION_EVIDENCE_READ)
    with origination.reading() as uow:
        load_visible(uow, actor, application_id)
        return uow.decisions.get(application_id)


def count_waiting_review(origination: Origination, *, actor: Principal) -> int:
    """Referrals waiting for an approver's review (人工审核), for those who review them."""
    require(actor, Permission.APPLICATION_REVIEW)
    with origination.reading() as uow:
        return uow.applications.count(status=ApplicationStatus.REFERRED)


def list_applications(
    origination: Origination,
    *,
    actor: Principal,
    status: ApplicationStatus | None = None,
    limit: int = 50,
    offset: int = 0,
    channel: str | None = None,
    branch_code: str | None = None,
    where: ApplicationFilter | None = None,
) -> list[Application]:
    """A page of applications, newest first, by status, channel (its code) and branch when
    given; ``where`` narrows it as a staff queue does."""
    require(actor, Permission.APPLICATION_LIST)
    if not 1 <= limit <= 500 or offset < 0:
        raise InvalidInput("limit is 1 to 500 and offset is not negative")
    by_channel = None if channel is None else parse_channel(channel)
    by_branch = None if branch_code is None else parse_branch_code(branch_code)
    if where is not None:
        _check_filter(where)
    with origination.reading() as uow:
        return uow.applications.list(
            status=status,
            partner_id=actor.partner_id if actor.role is Role.PARTNER else None,
            limit=limit,
            offset=offset,
            channel=by_channel,
            branch_code=by_branch,
            where=where,
        )


def _check_filter(where: ApplicationFilter) -> None:
    for name in ("min_amount_fen", "max_amount_fen"):
        value = getattr(where, name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 0
        ):
            raise InvalidInput("an amount is a non-negative number of fen", details={"field": name})
    for moment in (where.created_from, where.created_before):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput("a time bound is timezone-aware")
