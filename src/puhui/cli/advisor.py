"""``puhui advisor report``: an enterprise's business-health report (智能财务顾问).

Run by the operator at the console, read only: the report is built from the data its owner
consented to (docs/advisor.md), and refused, saying what is missing, without that consent.
``--pdf FILE`` also writes the Chinese PDF; ``--json`` prints the machine contract.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from puhui.bootstrap.advisor import LazyPeers, strategy_limit
from puhui.bootstrap.wiring import build_origination, origination_ports
from puhui.cli.context import fail, platform
from puhui.cli.security_context import operator
from puhui.domain.errors import PuhuiError
from puhui.services.advisor import wording
from puhui.services.advisor.access import Advisor, health_report
from puhui.services.advisor.report import to_document

app = typer.Typer(help="The owner's business-health report (智能财务顾问).", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """The owner's business-health report."""


@app.command("report")
def report_command(
    enterprise: Annotated[
        str, typer.Argument(help="The enterprise's unified social credit code (USCC).")
    ],
    as_of: Annotated[
        str, typer.Option("--as-of", help="The last complete month the report covers, YYYY-MM.")
    ],
    pdf: Annotated[
        Path | None, typer.Option("--pdf", help="Also write the report as a PDF in Chinese.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of lines.")] = False,
) -> None:
    """The business-health report of one enterprise, from the owner's consented data.

    Sales and cash-flow trends, peers, seasonality, a 3-month cash-flow forecast, reminders
    and what would raise the limit.
    """
    if pdf is not None and not pdf.parent.is_dir():
        raise fail(f"the folder of {pdf} does not exist", code="invalid_input")
    with platform() as p:
        settings = p.settings
        if settings.market_dir is None:
            raise fail(
                "no data source configured: set PUHUI_MARKET_DIR to a generated market",
                code="configuration_error",
            )
        ports = origination_ports(p)
        advisor = Advisor(
            origination=build_origination(p, ports),
            peers=LazyPeers(settings.market_dir),
            strategy=strategy_limit(p.strategy_reader, settings.strategy),
            servicing_uow=p.servicing_reader,
        )
        try:
            report = health_report(advisor, actor=operator(), uscc=enterprise, as_of=as_of)
            if pdf is not None:
                from puhui.adapters.pdf.health_report import (  # noqa: PLC0415 - reportlab
                    ReportlabHealthReportRenderer,
                )

                pdf.write_bytes(
                    ReportlabHealthReportRenderer(settings.contract_font).render(report)
                )
        except PuhuiError as exc:
            raise fail(exc.message, code=exc.code) from None
    if as_json:
        typer.echo(json.dumps(to_document(report), ensure_ascii=False, indent=2))
    else:
        for line in wording.summary_en(report).lines:
            typer.echo(line)
    if pdf is not None:
        typer.echo(f"PDF written to {pdf}", err=as_json)
