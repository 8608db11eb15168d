"""What an owner reads of their own applications: the list of them, and the contract to sign.

The H5 pages need both: the owner arrives with no application id in hand, and reads the
contract before accepting it. The preview is the very text acceptance signs (same template,
same number, same offer), so what the owner read is what the platform signs.
"""

from __future__ import annotations

from puhui.domain.origination.application import Application, ApplicationStatus
from puhui.domain.origination.contract import render_contract
from puhui.domain.origination.errors import Forbidden, InvalidTransition
from puhui.services.origination.context import Origination, ensure_owner, load_visible
from puhui.services.security.permissions import Permission, Principal, Role, require

MAX_OWN_APPLICATIONS = 50


def contract_number(application_no: str) -> str:
    """The contract number of an application's contract: ``PH…`` becomes ``HT…``."""
    return f"HT{application_no[2:]}"


def own_applications(
    origination: Origination, *, actor: Principal, limit: int = 20
) -> list[Application]:
    """The signed-in owner's applications, newest first (applicants only)."""
    require(actor, Permission.APPLICATION_READ)
    if actor.role is not Role.APPLICANT:
        raise Forbidden("only an applicant has applications of their own")
    with origination.reading() as uow:
        return uow.applications.list(
            applicant_user_id=actor.user_id, limit=max(1, min(limit, MAX_OWN_APPLICATIONS))
        )


def contract_preview(origination: Origination, *, actor: Principal, application_id: str) -> str:
    """The contract text the owner will sign by accepting the application's open offer."""
    require(actor, Permission.OFFER_ACCEPT)
    with origination.reading() as uow:
        application = load_visible(uow, actor, application_id)
        ensure_owner(actor, application)
        offer = uow.offers.for_application(application_id)
    if application.status is not ApplicationStatus.OFFERED or offer is None:
        raise InvalidTransition(
            f"an application that is {application.status.value} has no offer to read",
            details={"status": application.status.value},
        )
    return render_contract(
        contract_no=contract_number(application.application_no),
        lender=origination.lender_name,
        uscc=application.applicant.uscc,
        id_number=application.applicant.id_number,
        offer=offer,
    )
