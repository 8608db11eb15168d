"""Concentration (集中度) of the book on the database: evaluate the limits, store the breaches,
and propose — never apply — the tightening through the strategy lifecycle.

Exposure is the principal outstanding of each customer's active loan accounts (servicing).
Clusters come from an ``EnterpriseClusters`` port (industry, region, park, core enterprise,
guarantee circle), and whether a customer is under an early-warning alert from an
``UnderAlert`` port (wired to the alerts). Every breach raises an alert into the audit trail
(``concentration.breach``, for risk officers and auditors) and proposes a new *draft* version
of the active strategy whose limit step multiplies the breached clusters' limits
(``cluster_limit_multiplier``); it is submitted for a second person to approve and activate,
like any other strategy change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Protocol

import polars as pl

from puhui.decision.concentration import (
    Breach,
    CompiledConcentration,
    Dimension,
    limit_multipliers,
    tighten_strategy,
)
from puhui.decision.strategy import dump_document, parse_document
from puhui.domain.clock import Clock
from puhui.domain.ids import new_id
from puhui.services import strategies
from puhui.services.audit import record
from puhui.services.concentration_ports import (
    ClusterExposure,
    ClusterMembership,
    ConcentrationRepository,
    EnterpriseClusters,
    NoAlerts,
    NoClusters,
    StoredBreach,
    StoredEvaluation,
    UnderAlert,
)
from puhui.services.ports import UnitOfWork

logger = logging.getLogger(__name__)

PROPOSER = "system:concentration"
"""Who drafts and submits a tightening: never a person who could also approve it."""
_PENDING = (strategies.StrategyStatus.DRAFT, strategies.StrategyStatus.SUBMITTED)


class ConcentrationUnitOfWork(UnitOfWork, Protocol):
    @property
    def concentration(self) -> ConcentrationRepository: ...


ConcentrationProvider = Callable[[], CompiledConcentration]
"""The concentration document in force (the active governed version, see
``services.monitoring.rules.active_concentration``)."""


@dataclass(frozen=True)
class Concentration:
    """The collaborators of the concentration evaluation, built by the composition root."""

    uow: Callable[[], ConcentrationUnitOfWork]
    limits: ConcentrationProvider
    clock: Clock
    clusters: EnterpriseClusters = field(default_factory=NoClusters)
    under_alert: UnderAlert = field(default_factory=NoAlerts)
    strategies_uow: strategies.UowFactory | None = None
    strategy_name: str | None = None
    """The strategy a breach tightens (the one that decides live applications)."""


def exposure_frame(
    drawn: dict[str, int], clusters: dict[str, ClusterMembership], alerted: frozenset[str]
) -> pl.DataFrame:
    """The exposure table ``CompiledConcentration.evaluate`` reads: one row per customer."""
    customers = sorted(drawn)
    none = ClusterMembership()
    columns: dict[str, list[object]] = {
        "customer_id": list(customers),
        "exposure_fen": [drawn[c] for c in customers],
        "under_alert": [c in alerted for c in customers],
    }
    for dimension in Dimension:
        columns[dimension.value] = [
            getattr(clusters.get(c, none), dimension.value) for c in customers
        ]
    schema = {
        "customer_id": pl.String,
        "exposure_fen": pl.Int64,
        "under_alert": pl.Boolean,
        **{d.value: pl.String for d in Dimension},
    }
    return pl.DataFrame(columns, schema=schema)


def cluster_exposures(frame: pl.DataFrame) -> list[ClusterExposure]:
    """Exposure, alerted exposure, customers and share of the book of every known cluster."""
    book = int(frame["exposure_fen"].sum() or 0)
    found = []
    for dimension in Dimension:
        column = dimension.value
        grouped = (
            frame.filter(pl.col(column).is_not_null())
            .group_by(column)
            .agg(
                pl.col("exposure_fen").sum().alias("exposure"),
                pl.col("exposure_fen").filter(pl.col("under_alert")).sum().alias("alerted"),
                pl.len().alias("customers"),
            )
            .sort(["exposure", column], descending=[True, False])
        )
        for cluster, exposure, alerted, customers in grouped.iter_rows():
            share = Fraction(int(exposure), book) if book else Fraction(0)
            found.append(
                ClusterExposure(
                    dimension=column,
                    cluster=str(cluster),
                    exposure_fen=int(exposure),
                    alerted_fen=int(alerted or 0),
                    customers=int(customers),
                    share=str(
                        (Decimal(share.numerator) / Decimal(share.denominator)).quantize(
                            Decimal("0.0001"), rounding=ROUND_HALF_UP
                        )
                    ),
                )
            )
    return found


def _stored(breach: Breach) -> StoredBreach:
    return StoredBreach(
        dimension=breach.dimension.value,
        cluster=breach.cluster,
        code=breach.code.value,
        value=str(breach.value),
        threshold=str(breach.threshold),
        exposure_fen=breach.exposure_fen,
        base_fen=breach.base_fen,
        parameter=breach.parameter,
        multiplier=str(breach.multiplier),
    )


def evaluate(service: Concentration, *, as_of: date, actor: str) -> StoredEvaluation:
    """Evaluate the limits on today's book, store the result, propose a tightening if due."""
    limits = service.limits()
    with service.uow() as uow:
        drawn = uow.concentration.drawn_by_customer()
    customers = sorted(drawn)
    clusters = dict(service.clusters.clusters(customers, as_of=as_of))
    alerted = service.under_alert.customers_under_alert(customers, as_of=as_of)
    frame = exposure_frame(drawn, clusters, alerted)
    breaches = limits.evaluate(frame)
    proposed = propose_tightening(service, breaches) if breaches else None
    evaluation = StoredEvaluation(
        evaluation_id=new_id("conc"),
        document=limits.version_label,
        as_of=as_of,
        evaluated_at=service.clock.now(),
        evaluated_by=actor,
        book_fen=sum(drawn.values()),
        customers=len(drawn),
        clusters=tuple(cluster_exposures(frame)),
        breaches=tuple(_stored(b) for b in breaches),
        proposed_strategy=proposed,
    )
    with service.uow() as uow:
        uow.concentration.add(evaluation)
        record(
            uow,
            actor=actor,
            action="concentration.evaluated",
            entity="concentration_evaluation",
            entity_id=evaluation.evaluation_id,
            payload={
                "document": evaluation.document,
                "as_of": as_of.isoformat(),
                "book_fen": evaluation.book_fen,
                "breaches": [f"{b.dimension}:{b.cluster}:{b.code}" for b in evaluation.breaches],
                "proposed_strategy": proposed,
            },
        )
        for breach in evaluation.breaches:
            record(
                uow,
                actor=actor,
                action="concentration.breach",
                entity="concentration_cluster",
                entity_id=f"{breach.dimension}:{breach.cluster}",
                payload={
                    "evaluation_id": evaluation.evaluation_id,
                    "code": breach.code,
                    "value": breach.value,
                    "threshold": breach.threshold,
                    "as_of": as_of.isoformat(),
                    "proposed_strategy": proposed,
                },
            )
        uow.commit()
    for breach in evaluation.breaches:
        logger.warning(
            "concentration alert %s %s:%s at %s (threshold %s)",
            breach.code,
            breach.dimension,
            breach.cluster,
            breach.value,
            breach.threshold,
        )
    logger.info(
        "concentration %s on %s: %d breach(es), proposed %s",
        evaluation.document,
        as_of,
        len(evaluation.breaches),
        proposed,
    )
    return evaluation


def propose_tightening(service: Concentration, breaches: list[Breach]) -> str | None:
    """Draft and submit a new version of the active strategy with the breached clusters' limit
    multipliers; None when nothing is wired, the active version already cuts them as much, or
    a proposal still awaits its decision (its label is returned then)."""
    if service.strategies_uow is None or service.strategy_name is None:
        return None
    name = service.strategy_name
    versions = strategies.list_versions(service.strategies_uow, name)
    pending = [v for v in versions if v.status in _PENDING and v.created_by == PROPOSER]
    if pending:
        return pending[-1].label
    active = next((v for v in versions if v.status is strategies.StrategyStatus.ACTIVE), None)
    if active is None:
        return None
    document, _ = parse_document(active.document, source=active.label)
    wanted = limit_multipliers(breaches)
    current = document.limit.cluster_limit_multiplier
    needed = {
        key: multiplier
        for key, multiplier in wanted.items()
        if key[0].value not in current
        or current[key[0].value].by_cluster.get(key[1]) is None
        or current[key[0].value].by_cluster[key[1]] > multiplier
    }
    if not needed:
        return None
    version = max(v.version for v in versions) + 1
    text = dump_document(tighten_strategy(document, needed, version=version))
    draft = strategies.create_draft(
        service.strategies_uow, text=text, actor=PROPOSER, clock=service.clock
    )
    submitted = strategies.submit(
        service.strategies_uow, name, draft.version, actor=PROPOSER, clock=service.clock
    )
    logger.warning(
        "concentration breach: %s proposed (%s), awaiting approval",
        submitted.label,
        ", ".join(f"{d.value}:{c}={m}" for (d, c), m in sorted(needed.items())),
    )
    return submitted.label


def latest(service: Concentration) -> StoredEvaluation | None:
    with service.uow() as uow:
        return uow.concentration.latest()
