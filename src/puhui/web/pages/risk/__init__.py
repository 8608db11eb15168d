"""The risk area of the console: strategies (and the other governed documents) and models.

Risk officers propose (draft, submit, run a backtest), a second risk officer or an approver
approves and activates (four eyes, checked by the services), auditors and admins read. The
pages call ``services.governance`` with the signed-in person, as the command line calls the
same lifecycle with a named actor.
"""

from __future__ import annotations

from fastapi import APIRouter

from puhui.services.security.permissions import Permission, Role
from puhui.web.pages.nav import N_, NavItem
from puhui.web.pages.risk import models, strategies

GOVERNANCE_ROLES = frozenset({Role.RISK_OFFICER, Role.APPROVER, Role.AUDITOR, Role.ADMIN})

router = APIRouter(include_in_schema=False)
router.include_router(strategies.router)
router.include_router(models.router)

NAV = (
    NavItem(
        "/console/strategies",
        N_("Strategies"),
        N_(
            "Credit strategies, trigger rules and concentration limits: versions, four-eyes "
            "approval, backtests."
        ),
        permission=Permission.STRATEGY_READ,
        roles=GOVERNANCE_ROLES,
        order=60,
    ),
    NavItem(
        "/console/models",
        N_("Models"),
        N_("The model registry: validation figures, monitoring, approval and the champion."),
        permission=Permission.MODEL_READ,
        roles=GOVERNANCE_ROLES,
        order=61,
    ),
)

ERRORS = {
    "strategy_state_conflict": N_(
        "This version is not in a state that allows this step. Reload the page to see its status."
    ),
    "strategy_invalid": N_(
        "The document is not valid. The problems and their lines are listed below."
    ),
    "strategy_inputs_missing": N_(
        "This version reads inputs the platform does not provide, so it cannot go live."
    ),
    "approver_is_builder": N_(
        "A second person must do this: you cannot approve a model you built yourself."
    ),
    "invalid_model_transition": N_(
        "This model is not in a state that allows this step. Reload the page to see its status."
    ),
    "model_version_not_found": N_("There is no such model version in the registry."),
    "return_reason_invalid": N_(
        "Say what its author should change, in up to 500 characters, to send it back."
    ),
}
