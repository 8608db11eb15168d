"""The market's industry groups as the pages name them (``market.catalog.INDUSTRIES``): one
list for every page that shows a group (prosperity, prospects, the marketing map)."""

from __future__ import annotations

from fastapi import Request

from puhui.web.pages.nav import N_
from puhui.web.pages.rendering import gettext

INDUSTRY_NAMES = {
    "accommodation": N_("Accommodation"),
    "agriculture": N_("Agriculture"),
    "business_services": N_("Business services"),
    "catering": N_("Catering"),
    "construction": N_("Construction"),
    "it_services": N_("IT services"),
    "manufacturing": N_("Manufacturing"),
    "retail": N_("Retail"),
    "transport": N_("Transport"),
    "wholesale": N_("Wholesale"),
}


def industry_name(request: Request, group: str) -> str:
    """The group in the request's language; a group the list does not know, as it is."""
    known = INDUSTRY_NAMES.get(group)
    return group if known is None else gettext(request, known)
