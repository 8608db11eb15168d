"""Green loans in the console (绿色贷款): the live book's loans with principal outstanding and
their balance by the green label and the 绿色产业指导目录 category their application was decided
with (docs/green.md). Reads through ``services.reporting.green`` with the signed-in user
(permission ``reports:read``), as ``GET /api/v1/reports/green`` does.

The label and category names are defined here once; the application detail page and the
owner's H5 pages word them through :func:`label_name` and :func:`category_name`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from puhui.domain.errors import ConfigurationError
from puhui.services.reporting.green import NO_CATEGORY, UNLABELLED, green_loan_report
from puhui.services.reporting.ports import ReportingStore
from puhui.services.security.permissions import Permission, Principal
from puhui.web.dependencies import call
from puhui.web.pages import session
from puhui.web.pages.common import console_page
from puhui.web.pages.nav import N_, NavItem
from puhui.web.pages.rendering import gettext

PATH = "/console/green"
NAV = (
    NavItem(
        PATH,
        N_("Green loans"),
        N_("Loans outstanding and their balance by green label and green industry category."),
        permission=Permission.REPORT_READ,
        order=43,
    ),
)
LABEL_NAMES = {
    "green": N_("Green"),
    "not_green": N_("Not green"),
    "excluded_penalty": N_("Excluded: environmental penalty"),
    UNLABELLED: N_("Unlabelled"),
}
"""The labels of the green pre-screen, and the report's bucket of loans decided without one."""
CATEGORY_NAMES = {
    "energy_saving_environmental": N_("Energy saving and environmental protection industry"),
    "cleaner_production": N_("Cleaner production industry"),
    "clean_energy": N_("Clean energy industry"),
    "ecological_environment": N_("Ecological environment industry"),
    "green_infrastructure": N_("Green upgrading of infrastructure"),
    "green_services": N_("Green services"),
}
"""The first-level categories of 绿色产业指导目录（2019年版） (catalogue ``2019.1``)."""
router = APIRouter(include_in_schema=False)
StaffUser = Annotated[Principal, Depends(session.staff)]


def label_name(request: Request, label: str | None) -> str | None:
    """The label in the request's language (an unknown key as stored; None: no label)."""
    if label is None:
        return None
    known = LABEL_NAMES.get(label)
    return label if known is None else gettext(request, known)


def category_name(request: Request, category: str | None) -> str | None:
    """The catalogue category in the request's language (an unknown key as stored)."""
    if category is None or category == NO_CATEGORY:
        return None
    known = CATEGORY_NAMES.get(category)
    return category if known is None else gettext(request, known)


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    name: str
    loans: int
    outstanding_principal_fen: int


def _store(request: Request) -> ReportingStore:
    store: ReportingStore | None = request.app.state.deps.reports
    if store is None:
        raise ConfigurationError("portfolio reporting is not wired in this deployment")
    return store


def _rows(
    figures: dict[str, tuple[int, int]], named: dict[str, str], order: tuple[str, ...] = ()
) -> list[Row]:
    """Rows in ``order`` (the labels), then by balance, largest first (the categories)."""
    rank = {key: i for i, key in enumerate(order)}
    return sorted(
        (Row(k, named[k], n, fen) for k, (n, fen) in figures.items()),
        key=lambda r: (rank.get(r.key, len(rank)), -r.outstanding_principal_fen, r.key),
    )


@router.get(PATH)
async def green_page(request: Request, principal: StaffUser) -> HTMLResponse:
    lines = await call(request.app.state.deps, green_loan_report, _store(request), actor=principal)
    by_label: dict[str, tuple[int, int]] = {}
    by_category: dict[str, tuple[int, int]] = {}
    for line in lines:
        n, fen = by_label.get(line.label, (0, 0))
        by_label[line.label] = (n + line.loans, fen + line.outstanding_principal_fen)
        if line.label == "green":
            n, fen = by_category.get(line.category, (0, 0))
            by_category[line.category] = (n + line.loans, fen + line.outstanding_principal_fen)
    label_names = {k: label_name(request, k) or k for k in by_label}
    category_names = {
        k: category_name(request, k) or gettext(request, N_("No category")) for k in by_category
    }
    context: dict[str, Any] = {
        "by_label": _rows(by_label, label_names, tuple(LABEL_NAMES)),
        "by_category": _rows(by_category, category_names),
        "total_loans": sum(line.loans for line in lines),
        "total_fen": sum(line.outstanding_principal_fen for line in lines),
    }
    return console_page(request, principal, "green/index.html", context)
