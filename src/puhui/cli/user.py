"""``puhui user``: staff users for a bank running ``puhui serve`` without the demo."""

from __future__ import annotations

import secrets
import sys
from typing import Annotated

import typer

from puhui.cli.context import fail
from puhui.cli.security_context import operator, operator_name, security
from puhui.services.security import accounts
from puhui.services.security.accounts import Security
from puhui.services.security.permissions import PRIVILEGED_ROLES, Principal, Role

app = typer.Typer(
    help="Staff users: create, disable, enable; approver and admin roles need two admins.",
    no_args_is_help=True,
)

FOUR_EYES = (
    "Approver and admin roles follow four eyes: --requested-by names an admin asking for the "
    "role and --approved-by a second, different admin (both existing and enabled); the "
    "account's password is generated at approval and printed once. Without --approved-by "
    "the grant waits for `puhui user approve-grant`. The installation's first two admins "
    "are the exception: while fewer than two admins are enabled, `--role admin` needs "
    "neither option (there is nobody to ask yet)."
)


def _password(from_stdin: bool) -> tuple[str, bool]:
    """The password read from standard input, or a generated one (then printed once)."""
    if from_stdin:
        text = sys.stdin.readline().rstrip("\r\n")
        if not text:
            raise fail("no password on standard input", code="invalid_input")
        return text, False
    return secrets.token_urlsafe(18), True


def _admin(sec: Security, username: str) -> Principal:
    user = accounts.user_by_username(sec, username)
    if user.role is not Role.ADMIN:
        raise fail(f"{username} is not an admin", code="forbidden")
    return accounts.principal_of(user)


def _approve(sec: Security, grant_id: str, approved_by: str) -> None:
    approved = accounts.approve_role_grant(sec, actor=_admin(sec, approved_by), grant_id=grant_id)
    typer.echo(
        f"approved {grant_id}: {approved.user.username} ({approved.user.user_id}) is "
        f"{approved.user.role.value}"
    )
    typer.echo(f"password (shown once): {approved.password}")


@app.command(help="Create a staff or partner user. " + FOUR_EYES)
def create(  # noqa: PLR0917 - one option each, as Typer declares them
    username: Annotated[str, typer.Option(help="Login name (1-64 characters).")],
    role: Annotated[Role, typer.Option(help="The user's role.")],
    partner: Annotated[str | None, typer.Option(help="The partner of a partner user.")] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin", help="Read the password from standard input (else generated)."
        ),
    ] = False,
    requested_by: Annotated[
        str | None, typer.Option(help="Approver/admin only: the admin asking for the role.")
    ] = None,
    approved_by: Annotated[
        str | None, typer.Option(help="Approver/admin only: the second admin approving.")
    ] = None,
) -> None:
    with security() as sec:
        if role in PRIVILEGED_ROLES and requested_by is None:
            if role is not Role.ADMIN or approved_by is not None:
                raise fail(f"an {role.value} needs --requested-by", code="four_eyes_violation")
            password, generated = _password(password_stdin)
            user = accounts.bootstrap_admin(
                sec, username=username, password=password, operator=operator_name()
            )
        elif role in PRIVILEGED_ROLES:
            if password_stdin:
                raise fail(
                    "an approver's or admin's password is generated when a second admin "
                    "approves it",
                    code="invalid_input",
                )
            grant = accounts.request_role_grant(
                sec, actor=_admin(sec, requested_by or ""), role=role, username=username
            )
            if approved_by is None:
                typer.echo(
                    f"pending grant {grant.grant_id}: approve with `puhui user approve-grant "
                    f"{grant.grant_id} --approved-by <another admin>`"
                )
            else:
                _approve(sec, grant.grant_id, approved_by)
            return
        else:
            if requested_by is not None or approved_by is not None:
                raise fail(f"a {role.value} is created without approval", code="invalid_input")
            password, generated = _password(password_stdin)
            user = accounts.create_user(
                sec,
                actor=operator(),
                username=username,
                password=password,
                role=role,
                partner_id=partner,
            )
    typer.echo(f"created {user.username} ({user.user_id}) as {user.role.value}")
    if generated:
        typer.echo(f"password (shown once): {password}")


@app.command(name="approve-grant")
def approve_grant(
    grant_id: Annotated[str, typer.Argument(help="The pending grant (grt_…).")],
    approved_by: Annotated[
        str, typer.Option(help="An admin other than the requester and the grantee.")
    ],
) -> None:
    """Approve a pending approver/admin grant as a second admin; prints the new password once."""
    with security() as sec:
        _approve(sec, grant_id, approved_by)


@app.command(name="reject-grant")
def reject_grant(
    grant_id: Annotated[str, typer.Argument(help="The pending grant (grt_…).")],
    rejected_by: Annotated[
        str, typer.Option(help="An admin; the requester rejecting it withdraws the request.")
    ],
    reason: Annotated[
        str | None,
        typer.Option(help="Why (1-500 characters): kept on the grant, read back by `grants`."),
    ] = None,
) -> None:
    """Reject a pending approver/admin grant, saying why."""
    with security() as sec:
        rejected = accounts.reject_role_grant(
            sec, actor=_admin(sec, rejected_by), grant_id=grant_id, reason=reason
        )
    typer.echo(f"rejected {grant_id}: {rejected.username} does not become {rejected.role.value}")


@app.command()
def elevate(
    username: Annotated[str, typer.Argument(help="The staff user to elevate.")],
    role: Annotated[Role, typer.Option(help="approver or admin.")],
    requested_by: Annotated[str, typer.Option(help="The admin asking for it.")],
    approved_by: Annotated[str | None, typer.Option(help="The second admin approving.")] = None,
) -> None:
    """Ask to make a staff user approver or admin (four eyes; the password is reset)."""
    with security() as sec:
        user = accounts.user_by_username(sec, username)
        grant = accounts.request_role_grant(
            sec, actor=_admin(sec, requested_by), role=role, user_id=user.user_id
        )
        if approved_by is None:
            typer.echo(f"pending grant {grant.grant_id}")
        else:
            _approve(sec, grant.grant_id, approved_by)


@app.command()
def grants(
    decided: Annotated[
        bool,
        typer.Option(
            "--decided", help="The latest decided grants instead: who decided, when and why."
        ),
    ] = False,
) -> None:
    """Role grants waiting for a second admin (or, with --decided, the latest decided)."""
    with security() as sec:
        if decided:
            done = accounts.decided_role_grants(sec, actor=operator())
        else:
            pending = accounts.pending_role_grants(sec, actor=operator())
    if decided:
        for grant in done:
            when = f"{grant.decided_at:%Y-%m-%d %H:%M}" if grant.decided_at else "-"
            why = f": {grant.decision_reason}" if grant.decision_reason else ""
            typer.echo(
                f"{grant.grant_id}  {grant.role.value:<9} {grant.username:<24} "
                f"{grant.status} by {grant.decided_by} at {when}{why}"
            )
        typer.echo(f"{len(done)} decided grant(s)", err=True)
        return
    for grant in pending:
        typer.echo(
            f"{grant.grant_id}  {grant.role.value:<9} {grant.username:<24} "
            f"requested by {grant.requested_by} at {grant.requested_at:%Y-%m-%d %H:%M}"
        )
    typer.echo(f"{len(pending)} pending grant(s)", err=True)


def _set_disabled(username: str, *, disabled: bool) -> None:
    with security() as sec:
        user = accounts.user_by_username(sec, username)
        accounts.set_user_disabled(sec, actor=operator(), user_id=user.user_id, disabled=disabled)
    typer.echo(f"{'disabled' if disabled else 'enabled'} {user.username} ({user.user_id})")


@app.command()
def disable(username: Annotated[str, typer.Argument(help="The user to disable.")]) -> None:
    """Disable a user: no sign-in, and every token they hold dies at once."""
    _set_disabled(username, disabled=True)


@app.command()
def enable(username: Annotated[str, typer.Argument(help="The user to enable again.")]) -> None:
    """Enable a disabled user; they sign in again."""
    _set_disabled(username, disabled=False)
