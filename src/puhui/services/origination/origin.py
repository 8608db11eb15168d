"""The channel and branch an application records, from the request and the actor's role."""

from __future__ import annotations

from puhui.domain.origination.channel import (
    Channel,
    InvalidChannel,
    check_origin,
    parse_branch_code,
    parse_channel,
)
from puhui.services.security.permissions import Principal, Role

_DEFAULT_BY_ROLE = {Role.PARTNER: Channel.PARTNER, Role.ACCOUNT_MANAGER: Channel.BRANCH}
_APPLICANT_CHANNELS = frozenset({Channel.H5, Channel.H5_QR, Channel.API})
"""What an owner applying for themselves may arrive by: never a partner's or a branch's desk."""
"""The channel of a request that names none: a partner's, an account manager's, else the API."""


def origin_of(
    actor: Principal, *, channel: str | None, branch_code: str | None
) -> tuple[Channel, str | None]:
    """The validated (channel, branch code) of a new application.

    A partner's applications always come through the partner channel: a partner may not
    book its referrals on a branch's QR code, which would skew approval rates by channel.
    """
    chosen = (
        _DEFAULT_BY_ROLE.get(actor.role, Channel.API) if channel is None else parse_channel(channel)
    )
    if actor.role is Role.PARTNER and chosen is not Channel.PARTNER:
        raise InvalidChannel(
            "a partner's applications come through the partner channel",
            details={"field": "channel"},
        )
    if actor.role is Role.APPLICANT and chosen not in _APPLICANT_CHANNELS:
        raise InvalidChannel(
            "an owner applies through the H5 pages or the API, not a partner's or branch's desk",
            details={"field": "channel"},
        )
    code = None if branch_code is None else parse_branch_code(branch_code)
    check_origin(chosen, code)
    return chosen, code
