"""The console's graph section: the picture of the application's enterprise and the evidence
the graph found, in the page's language.

The evidence sentences are the graph's own (``EVIDENCE_TEMPLATES``, English) found in the
catalogs; a ring's findings are the build's sentences and are shown as written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from markupsafe import Markup

from puhui.graph.neighbourhood import Neighbourhood, evidence_values
from puhui.web.neighbourhoods import GraphView
from puhui.web.pages import i18n
from puhui.web.pages.graph_svg import CATALOG, neighbourhood_svg
from puhui.web.pages.nav import N_

EVIDENCE_MESSAGES: Final = {
    "ring": N_("Member of ring %(ring)s with %(members)s enterprises (score %(score)s)."),
    "ring_finding": "%(text)s",
    "circle": N_(
        "In guarantee circle %(circle)s: %(members)s enterprises guarantee %(exposure_fen)s"
        " for one another; %(distressed)s of them in distress."
    ),
    "round_trip": N_(
        "Invoices went round %(cycle)s in the window closing %(month)s: at least %(amount_fen)s"
        " on each leg, amounts within %(spread)s of one another."
    ),
    "shared_contacts": N_("Shares a phone, address, device or account with %(count)s enterprises."),
    "applications_30d": N_("%(count)s applications in the 30 days to the graph's month end."),
    "packaging": N_("Signs of intermediary packaging on its applications (score %(score)s)."),
    "inflation": N_(
        "Its data look freshly inflated: settlement inflow pumped, paid out to related"
        " parties, enquiries piling up (score %(score)s)."
    ),
    "round_trip_ratio": N_("%(ratio)s of its sales in 12 months came back through invoice cycles."),
    "distressed": N_("In public distress (lawsuits, enforcement) at the graph's month."),
    "guarantors_in_distress": N_("%(count)s of the enterprises guaranteeing it are in distress."),
    "contagion": N_("Distress of its partners reaches it (contagion score %(score)s)."),
}
"""``EVIDENCE_TEMPLATES`` as the catalogs find them (a test holds them equal)."""


@dataclass(frozen=True, slots=True)
class GraphSection:
    """What the application page shows of the graph: the picture and the evidence under it."""

    svg: Markup
    evidence: list[EvidenceLine]
    as_of: date
    shown: int
    hidden: int
    loading: bool = False


@dataclass(frozen=True, slots=True)
class GraphLoading:
    """The section while the snapshot is read: said so, instead of holding the page."""

    loading: bool = True


def graph_section(graph: GraphView | None, locale: str) -> GraphSection | GraphLoading | None:
    if graph is not None and graph.status == "loading":
        return GraphLoading()
    hood = None if graph is None else graph.neighbourhood
    if hood is None:
        return None
    return GraphSection(
        # Every text in it was escaped as the picture was written.
        svg=Markup(neighbourhood_svg(hood, locale, element_id="neighbourhood")),  # noqa: S704
        evidence=evidence_lines(hood, locale),
        as_of=hood.as_of,
        shown=len(hood.nodes),
        hidden=hood.hidden,
    )


@dataclass(frozen=True, slots=True)
class EvidenceLine:
    text: str
    code: str
    as_built: bool
    """The build's own sentence (English), not one of the catalog's."""


def evidence_lines(hood: Neighbourhood, locale: str) -> list[EvidenceLine]:
    """The evidence in ``locale``: money in yuan, shares in percent."""
    gettext = i18n.translations(locale, CATALOG).gettext
    lines = []
    for item in hood.evidence:
        values = evidence_values(item.values, yuan=lambda fen: _money(fen, locale))
        if item.code == "ring_finding":
            lines.append(EvidenceLine(values["text"], item.code, as_built=True))
            continue
        lines.append(EvidenceLine(gettext(EVIDENCE_MESSAGES[item.code]) % values, item.code, False))
    return lines


def _money(fen: int, locale: str) -> str:
    return f"{i18n.yuan(fen)} yuan" if locale == "en" else f"{i18n.yuan(fen)} 元"
