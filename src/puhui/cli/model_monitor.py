"""``puhui model monitor``: stability, decisions and outcomes of a registered model.

The command is built around the port that reads stored decisions, so the composition root
decides which adapter answers it::

    app.command(name="monitor")(monitor_command(open_history))

The modelling stack takes seconds to import, so the command imports it itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from puhui.cli.context import platform
from puhui.cli.progress import progress_bar

if TYPE_CHECKING:
    from puhui.bootstrap import Platform
    from puhui.risk.monitoring import MonitoringResult, ReferenceProfile
    from puhui.services.model_monitoring import DecisionHistory

ACTOR = "model-monitor"
"""Who the audit trail names for alerts raised by a monitoring run."""
DEVELOPMENT_SAMPLE = "development_sample.parquet"
"""What ``model train-market`` leaves beside the model: enough to rebuild a reference."""


def reference_for(directory: Path) -> tuple[ReferenceProfile | None, tuple[str, ...]]:
    """The model's reference profile; rebuilt from its development sample if it has none."""
    from puhui.risk.artefact import load_artefact, load_reference_profile  # noqa: PLC0415
    from puhui.risk.dataset import binary_target  # noqa: PLC0415
    from puhui.risk.monitoring import build_reference_profile  # noqa: PLC0415
    from puhui.risk.training import scoring_frame  # noqa: PLC0415

    profile = load_reference_profile(directory)
    sample = directory / DEVELOPMENT_SAMPLE
    if profile is not None or not sample.is_file():
        return profile, ()
    import polars as pl  # noqa: PLC0415

    artefact = load_artefact(directory)
    frame = pl.read_parquet(sample)
    rebuilt = build_reference_profile(
        artefact.model,
        scoring_frame(artefact, frame),
        binary_target(frame, artefact.metadata.target),
    )
    return rebuilt, (f"no reference.json: the reference was rebuilt from {DEVELOPMENT_SAMPLE}",)


def _summary(result: MonitoringResult) -> list[str]:
    from puhui.risk.monitoring import psi_reading  # noqa: PLC0415

    lines = [
        f"model {result.model_version}  months {result.first_month}..{result.last_month}  "
        f"{result.n_applications:,} scored applications"
    ]
    lines += [f"note: {note}" for note in result.notes]
    if result.score_psi is not None:
        lines.append(f"score PSI {result.score_psi:.4f} ({psi_reading(result.score_psi)})")
    for c in result.characteristics[:5]:
        shift = "" if c.shift is None else f"  shift {c.shift:+.3f} {c.unit}"
        lines.append(f"  input {c.name:<28} PSI {c.psi:.4f} ({psi_reading(c.psi)}){shift}")
    for r in result.decision_rates:
        lines.append(
            f"  {r.month}: {r.n:,} decided  approved {r.approval_rate:.1%}  "
            f"referred {r.referral_rate:.1%}  declined {r.decline_rate:.1%}"
        )
    p = result.performance
    if p is not None:
        area = "n/a" if p.auc is None else f"{p.auc:.4f}"
        ks = "n/a" if p.ks is None else f"{p.ks:.4f}"
        development = "n/a" if p.development_auc is None else f"{p.development_auc:.4f}"
        lines.append(
            f"matured loans {p.n:,} ({p.n_bad:,} bad)  AUC {area}  KS {ks}  "
            f"development AUC {development}"
        )
    if result.alerts:
        lines += [f"ALERT [{a.code.value}] {a.severity.value}: {a.message}" for a in result.alerts]
    else:
        lines.append("no alerts")
    return lines


def monitor_command(
    open_history: Callable[[Platform], DecisionHistory],
) -> Callable[..., None]:
    """The ``monitor`` command over the decision history ``open_history`` builds."""

    def monitor(
        model: Annotated[str, typer.Option("--model", help="Registered model version.")],
        from_month: Annotated[str, typer.Option("--from", help="First decision month YYYY-MM.")],
        to_month: Annotated[str, typer.Option("--to", help="Last decision month YYYY-MM.")],
        report: Annotated[
            Path | None, typer.Option("--report", help="Write a report (Markdown + PNG) here.")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    ) -> None:
        """Monitor a model: PSI against development, decisions, vintages, AUC/KS; alerts."""
        from puhui.risk.monitoring_report import write_monitoring_report  # noqa: PLC0415
        from puhui.risk.registry import ModelRegistry  # noqa: PLC0415
        from puhui.services.model_monitoring import monitor_model  # noqa: PLC0415

        with platform() as p:
            registry = ModelRegistry(p.settings.model_registry_dir)
            registry.get(model)
            reference, notes = reference_for(registry.root / "models" / model)
            with progress_bar(as_json=as_json) as progress:
                progress.start(None, f"monitoring {model}, {from_month} .. {to_month}")
                result = monitor_model(
                    open_history(p),
                    p.uow,
                    model_version=model,
                    first_month=from_month,
                    last_month=to_month,
                    reference=reference,
                    today=p.clock.today(),
                    actor=ACTOR,
                    notes=notes,
                )
            if report is not None:
                write_monitoring_report(report, result)
        if as_json:
            typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
            return
        for line in _summary(result):
            typer.echo(line)
        if report is not None:
            typer.echo(f"report -> {report / 'report.md'}")

    return monitor
