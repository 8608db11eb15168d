"""The demo's business-health report: one consenting owner's report, printed and saved as PDF.

After the simulation, the newest applications still hold their owners' consents (90 days);
the first of them whose data gives a report is shown the way a loan officer reads it (staff,
read only): the lines of ``puhui advisor report`` and the Chinese PDF under the work folder.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from puhui.adapters.sources.peers import MarketPeers
from puhui.bootstrap import Platform
from puhui.bootstrap.advisor import strategy_limit
from puhui.bootstrap.wiring import OriginationPorts, build_origination
from puhui.cli.demo_report import Section
from puhui.domain.errors import ConfigurationError, PuhuiError
from puhui.services.advisor import wording
from puhui.services.advisor.access import Advisor, health_report
from puhui.services.advisor.report import month_add
from puhui.services.security.permissions import Principal, Role

READER = Principal(user_id="demo:advisor", role=Role.APPROVER)
TRIES = 30
"""Applications tried, newest first, before the section says no report could be made."""


def advisor_section(
    platform: Platform,
    ports: OriginationPorts,
    market_dir: Path,
    usccs_newest_first: Sequence[str],
    out_dir: Path,
) -> Section:
    """The report of the first enterprise (newest application first) that gives one."""
    advisor = Advisor(
        origination=build_origination(platform, ports),
        peers=MarketPeers(market_dir),
        strategy=strategy_limit(platform.strategy_reader, platform.settings.strategy),
        servicing_uow=platform.servicing_reader,
    )
    today = platform.clock.today()
    month = f"{month_add(date(today.year, today.month, 1), -1):%Y-%m}"
    refusals: dict[str, int] = {}
    for uscc in list(dict.fromkeys(usccs_newest_first))[:TRIES]:
        try:
            report = health_report(advisor, actor=READER, uscc=uscc, as_of=month)
        except PuhuiError as exc:
            refusals[exc.code] = refusals.get(exc.code, 0) + 1
            continue
        notes: list[str] = []
        try:
            # reportlab loads only when a report is drawn (every command would pay for it).
            from puhui.adapters.pdf.health_report import (  # noqa: PLC0415
                ReportlabHealthReportRenderer,
            )

            pdf = ReportlabHealthReportRenderer(platform.settings.contract_font).render(report)
        except ConfigurationError as exc:  # no CJK font on this machine
            notes.append(f"PDF not written: {exc.message}")
        else:
            out_dir.mkdir(parents=True, exist_ok=True)
            path = out_dir / f"health-{uscc}-{month}.pdf"
            path.write_bytes(pdf)
            notes.append(f"PDF (Chinese): {path}")
        lines = wording.summary_en(report).lines
        return Section(
            "Business-health report (智能财务顾问), as a loan officer reads it",
            ("", ""),
            rows=[("", line) for line in lines],
            notes=notes,
        )
    return Section(
        "Business-health report (智能财务顾问)",
        ("", ""),
        notes=[f"no report could be made for {month}: {refusals}"],
    )
