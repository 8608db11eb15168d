"""What the operator's security commands share: the security services and who is acting."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager

from puhui.bootstrap.api import security_from_settings
from puhui.cli.context import platform
from puhui.services.security.accounts import Security
from puhui.services.security.otp import LoggingOtpSender
from puhui.services.security.permissions import Principal, Role


def operator_name() -> str:
    """The operating-system user running the command, for the audit trail."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def operator() -> Principal:
    """The operator at the console: manages users and keys, audited by name.

    Not the platform itself (``SYSTEM``): privileged roles still need two named admins.
    """
    return Principal(user_id=f"cli:{operator_name()}", role=Role.ADMIN)


@contextmanager
def security() -> Iterator[Security]:
    """The security services of the configured platform; platform errors exit cleanly."""
    with platform() as p:
        yield security_from_settings(
            p.database.engine, clock=p.clock, settings=p.settings, otp_sender=LoggingOtpSender()
        )
