"""The loan application and its state machine (created → … → line opened)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum

from puhui.domain.errors import InvalidAmount, InvalidInput
from puhui.domain.identity import validate_id_number, validate_mobile, validate_uscc
from puhui.domain.origination.assessment import Assessment
from puhui.domain.origination.channel import (
    Channel,
    InvalidBranchCode,
    InvalidChannel,
    check_origin,
    is_branch_code,
)
from puhui.domain.origination.errors import InvalidTransition


class ApplicationStatus(Enum):
    CREATED = "created"
    CONSENTED = "consented"
    ASSESSED = "assessed"
    OFFERED = "offered"
    DECLINED = "declined"
    REFERRED = "referred"
    ACCEPTED = "accepted"
    LINE_OPENED = "line_opened"
    LINE_FAILED = "line_failed"
    """Accepted and signed, but servicing refused to open the line: staff retry or cancel."""
    EXPIRED = "expired"
    CANCELLED = "cancelled"


TRANSITIONS: dict[ApplicationStatus, frozenset[ApplicationStatus]] = {
    # Revoking consent before assessment sends the application back to "created".
    ApplicationStatus.CREATED: frozenset({ApplicationStatus.CONSENTED}),
    ApplicationStatus.CONSENTED: frozenset({ApplicationStatus.ASSESSED, ApplicationStatus.CREATED}),
    ApplicationStatus.ASSESSED: frozenset(
        {ApplicationStatus.OFFERED, ApplicationStatus.DECLINED, ApplicationStatus.REFERRED}
    ),
    ApplicationStatus.REFERRED: frozenset({ApplicationStatus.OFFERED, ApplicationStatus.DECLINED}),
    ApplicationStatus.OFFERED: frozenset({ApplicationStatus.ACCEPTED, ApplicationStatus.EXPIRED}),
    ApplicationStatus.ACCEPTED: frozenset(
        {ApplicationStatus.LINE_OPENED, ApplicationStatus.LINE_FAILED}
    ),
    # Staff retry a failed opening (it may open the line) or cancel the application.
    ApplicationStatus.LINE_FAILED: frozenset(
        {ApplicationStatus.LINE_OPENED, ApplicationStatus.CANCELLED}
    ),
    ApplicationStatus.DECLINED: frozenset(),
    ApplicationStatus.LINE_OPENED: frozenset(),
    ApplicationStatus.EXPIRED: frozenset(),
    ApplicationStatus.CANCELLED: frozenset(),
}
CLOSED_STATUSES = frozenset(
    {
        ApplicationStatus.DECLINED,
        ApplicationStatus.LINE_OPENED,
        ApplicationStatus.EXPIRED,
        ApplicationStatus.LINE_FAILED,
        ApplicationStatus.CANCELLED,
    }
)
"""Statuses that no longer block a new application of the enterprise. A failed line opening
is among them: the enterprise is never locked out by a line servicing would not open."""

MAX_REQUEST_FEN = 10_000_000 * 100
MAX_TERM_MONTHS = 60
"""The longest term an MSE applies for here (five years)."""
"""Inclusive finance for MSEs: a request above ten million yuan is a mistake or another product."""


@dataclass(frozen=True, slots=True)
class Applicant:
    """Who applies for which enterprise: validated identifiers and the channel facts."""

    uscc: str
    id_number: str
    phone: str
    device_id: str | None = None
    ip_address: str | None = None
    address: str | None = None

    @classmethod
    def parse(
        cls,
        *,
        uscc: str,
        id_number: str,
        phone: str,
        device_id: str | None = None,
        ip_address: str | None = None,
        address: str | None = None,
    ) -> Applicant:
        return cls(
            uscc=validate_uscc(uscc),
            id_number=validate_id_number(id_number),
            phone=validate_mobile(phone),
            device_id=device_id or None,
            ip_address=ip_address or None,
            address=address.strip() if address and address.strip() else None,
        )


GREEN_LABELS = ("green", "not_green", "excluded_penalty")
"""The labels of the green pre-screen (docs/green.md)."""
MAX_PARTNER_SCORE = 1000
"""A partner score is 0 to 1000, higher is better (docs/partners.md)."""


@dataclass(frozen=True, slots=True)
class Application:
    application_id: str
    application_no: str
    applicant: Applicant
    requested_amount_fen: int | None
    status: ApplicationStatus
    created_at: datetime
    updated_at: datetime
    applicant_user_id: str | None = None
    account_manager_id: str | None = None
    partner_id: str | None = None
    assessment: Assessment | None = None
    reviewed_by: str | None = None
    credit_line_id: str | None = None
    version: int = 1
    requested_term_months: int | None = None
    channel: Channel | None = None
    """Where the application came from; None on applications made before channels were kept."""
    branch_code: str | None = None
    """The branch or village service point the application came through, when known."""
    partner_score: int | None = None
    """The referring partner's own risk score of the applicant (0-1000, higher is better), a
    strategy input (``partner_score``); only a partner's application carries one."""
    green_label: str | None = None
    """The green pre-screen's label the automatic decision read (``green`` | ``not_green`` |
    ``excluded_penalty``, docs/green.md); None when no screen covered the applicant."""
    green_category: str | None = None
    """The green catalogue category the decision read (e.g. ``clean_energy``), if any."""

    def __post_init__(self) -> None:
        if self.channel is not None and not isinstance(self.channel, Channel):
            raise InvalidChannel("the channel is one of Channel", details={"field": "channel"})
        if self.branch_code is not None and not is_branch_code(self.branch_code):
            raise InvalidBranchCode(
                "a branch code is 2 to 16 of A-Z, 0-9 and -", details={"field": "branch_code"}
            )
        check_origin(self.channel, self.branch_code)
        term = self.requested_term_months
        if term is not None and (
            isinstance(term, bool) or not isinstance(term, int) or not 1 <= term <= MAX_TERM_MONTHS
        ):
            raise InvalidInput(
                f"a requested term is 1 to {MAX_TERM_MONTHS} months",
                details={"field": "requested_term_months"},
            )
        self._check_partner_score()
        if self.green_label is not None and self.green_label not in GREEN_LABELS:
            raise InvalidInput(
                f"a green label is one of {', '.join(GREEN_LABELS)}, got {self.green_label!r}",
                details={"field": "green_label"},
            )
        amount = self.requested_amount_fen
        if amount is not None and (
            isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0
        ):
            raise InvalidAmount(
                "a requested amount is a positive number of fen",
                details={"field": "requested_amount_fen"},
            )
        if amount is not None and amount > MAX_REQUEST_FEN:
            raise InvalidAmount(
                "the requested amount exceeds the largest MSE loan",
                details={"field": "requested_amount_fen"},
            )

    def _check_partner_score(self) -> None:
        score = self.partner_score
        if score is None:
            return
        if (
            isinstance(score, bool)
            or not isinstance(score, int)
            or not 0 <= score <= MAX_PARTNER_SCORE
        ):
            raise InvalidInput(
                f"a partner score is a whole number from 0 to {MAX_PARTNER_SCORE}",
                details={"field": "partner_score"},
            )
        if self.partner_id is None:
            raise InvalidInput(
                "only an application a partner referred carries a partner score",
                details={"field": "partner_score"},
            )

    @property
    def is_open(self) -> bool:
        return self.status not in CLOSED_STATUSES

    def can_move_to(self, target: ApplicationStatus) -> bool:
        return target in TRANSITIONS[self.status]

    def moved_to(self, target: ApplicationStatus, *, at: datetime) -> Application:
        """The same application in ``target`` state, or ``InvalidTransition``."""
        if not self.can_move_to(target):
            raise InvalidTransition(
                f"an application that is {self.status.value} cannot become {target.value}",
                details={"status": self.status.value, "target": target.value},
            )
        return replace(self, status=target, updated_at=at, version=self.version + 1)

    def with_assessment(self, assessment: Assessment) -> Application:
        return replace(self, assessment=assessment)
