"""The demo's green section: the pre-screen of the market as of the month before lending
starts (measured against the truth) and the loans the simulation booked by green category."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from puhui.cli.demo_report import Section, pct
from puhui.domain.errors import PuhuiError
from puhui.domain.lending.schedule import add_months
from puhui.domain.money import format_yuan
from puhui.pipelines.green.loans import loans_by_green_category
from puhui.pipelines.green.screen import screen_market
from puhui.risk.green.catalogue import LABELS, load_catalogue

logger = logging.getLogger(__name__)
TITLE = "Green pre-screen (绿色金融预筛)"


def green_section(market_dir: Path, first_day: date, loans: Iterable[tuple[str, int]]) -> Section:
    """The screen as of the month before ``first_day`` and the booked loans by its labels."""
    as_of = add_months(first_day.replace(day=1), -1)
    catalogue = load_catalogue()
    try:
        screen = screen_market(market_dir, as_of, catalogue)
    except PuhuiError as exc:
        logger.warning("green screen skipped: %s", exc.message)
        return Section(TITLE, ("", ""), notes=[f"not screened: {exc.message}"])
    report = screen.report()
    rows: list[tuple[str, ...]] = [
        (f"{label}:", f"{report['labels'][label]:,}", "", "") for label in LABELS
    ]
    booked = loans_by_green_category(screen.frame, loans)
    for row in booked.iter_rows(named=True):
        rows.append(
            (
                f"booked {row['label']} {row['category']}:",
                f"{row['enterprises']:,}",
                f"{row['loans']:,}",
                format_yuan(row["principal_fen"]),
            )
        )
    notes = [
        f"screen as of {report['as_of']}, catalogue {catalogue.version}; "
        "columns: enterprises, loans drawn, principal drawn (RMB)"
    ]
    m = report["measure"]
    if m is not None:
        notes.append(
            f"against the truth: precision {pct(m['precision'])}, recall {pct(m['recall'])} "
            f"({m['labelled_green']:,} labelled green, {m['truly_green']:,} truly green; "
            f"catalogue alone {pct(m['precision_catalogue_only'])}); "
            f"polluters excluded by penalties {pct(m['polluters_excluded'])}"
        )
    return Section(
        TITLE,
        ("", "enterprises", "loans", "principal"),
        rows=rows,
        notes=notes,
        numeric=frozenset({1, 2, 3}),
    )
