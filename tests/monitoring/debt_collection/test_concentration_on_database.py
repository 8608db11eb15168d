"""Concentration on the database: the drawn book by cluster, breaches stored, and a breach
proposing a tightened strategy draft that waits for a second person (never active by itself)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

import pytest
from collection_book import Book

from puhui.decision.concentration import load_shipped_concentration
from puhui.decision.strategy import parse_document, shipped_strategy_text
from puhui.domain.clock import FixedClock
from puhui.services import concentration, strategies
from puhui.services.concentration_ports import ClusterMembership
from puhui.services.strategies import FourEyesViolation, StrategyStatus

STRATEGY = "mse-online-credit"
AS_OF = date(2026, 1, 5)


class KnownClusters:
    def __init__(self, known: Mapping[str, ClusterMembership]) -> None:
        self.known = known

    def clusters(
        self, customer_ids: Sequence[str], *, as_of: date
    ) -> Mapping[str, ClusterMembership]:
        return {c: self.known[c] for c in customer_ids if c in self.known}


class Alerted:
    def __init__(self, customers: set[str]) -> None:
        self.customers = customers

    def customers_under_alert(self, customer_ids: Sequence[str], *, as_of: date) -> frozenset[str]:
        return frozenset(self.customers & set(customer_ids))


def _service(book: Book, clock: FixedClock, **ports: object) -> concentration.Concentration:
    platform = book.platform
    strategies.seed_shipped(
        platform.strategy_uow, text=shipped_strategy_text(STRATEGY), clock=clock
    )
    return concentration.Concentration(
        uow=book.units,
        limits=load_shipped_concentration,
        clock=clock,
        strategies_uow=platform.strategy_uow,
        strategy_name=STRATEGY,
        **ports,  # type: ignore[arg-type]
    )


def _enterprise(n: int) -> str:
    return f"9135010{n:04d}00100Y4"


def test_a_breach_is_stored_and_proposes_a_submitted_draft_not_an_active_version(
    book: Book, clock: FixedClock
) -> None:
    # Manufacturing C13 holds 60 % of the drawn book: over its 25 % industry limit.
    known = {}
    for n, (industry, amount) in enumerate(
        [("C13", 300_000_00), ("C13", 300_000_00), ("F51", 200_000_00), ("F52", 200_000_00)]
    ):
        book.draw(_enterprise(n), amount)
        known[_enterprise(n)] = ClusterMembership(industry=industry, region=f"33010{n}")
    service = _service(book, clock, clusters=KnownClusters(known))
    result = concentration.evaluate(service, as_of=AS_OF, actor="risk-1")
    assert result.book_fen == 1_000_000_00
    assert result.document == "mse-concentration@1"
    industry = {c.cluster: c for c in result.clusters if c.dimension == "industry"}
    assert industry["C13"].share == "0.6000"
    assert industry["C13"].customers == 2
    codes = {(b.dimension, b.cluster, b.code) for b in result.breaches}
    assert ("industry", "C13", "CONCENTRATION_LIMIT_EXCEEDED") in codes
    assert result.proposed_strategy == f"{STRATEGY}@2"
    stored = concentration.latest(service)
    assert stored is not None
    assert stored.evaluation_id == result.evaluation_id
    assert stored.breaches == result.breaches
    # Each breach is an alert in the audit trail, by cluster.
    with book.platform.uow() as uow:
        alerts = [e for e in uow.audit.events() if e.action == "concentration.breach"]
    assert len(alerts) == len(result.breaches)
    assert "industry:C13" in {e.entity_id for e in alerts}
    # The proposal waits for a second person; version 1 still decides.
    versions = {v.version: v for v in strategies.list_versions(book.platform.strategy_uow)}
    assert versions[1].status is StrategyStatus.ACTIVE
    assert versions[2].status is StrategyStatus.SUBMITTED
    proposed, _ = parse_document(versions[2].document)
    multipliers = proposed.limit.cluster_limit_multiplier["industry"]
    assert multipliers.input == "industry_code"
    assert multipliers.by_cluster["C13"] == Decimal(0)
    with pytest.raises(FourEyesViolation):
        strategies.approve(
            book.platform.strategy_uow, STRATEGY, 2, actor=concentration.PROPOSER, clock=clock
        )
    # Evaluating again while the proposal is pending proposes nothing new.
    again = concentration.evaluate(service, as_of=AS_OF, actor="risk-1")
    assert again.proposed_strategy == f"{STRATEGY}@2"
    assert len(strategies.list_versions(book.platform.strategy_uow)) == 2


def test_warning_rate_reads_the_under_alert_port_and_no_clusters_means_no_breach(
    book: Book, clock: FixedClock
) -> None:
    known = {}
    for n in range(10):
        book.draw(_enterprise(n), 100_000_00)
        known[_enterprise(n)] = ClusterMembership(
            industry=f"C{n + 10}", region="330100" if n < 5 else f"44030{n}"
        )
    alerted = Alerted({_enterprise(0), _enterprise(1)})  # 40 % of region 330100's exposure
    service = _service(book, clock, clusters=KnownClusters(known), under_alert=alerted)
    result = concentration.evaluate(service, as_of=AS_OF, actor="risk-1")
    codes = {(b.dimension, b.cluster, b.code) for b in result.breaches}
    assert ("region", "330100", "CLUSTER_WARNING_RATE_HIGH") in codes
    assert ("region", "330100", "CONCENTRATION_LIMIT_EXCEEDED") in codes  # 50 % > 30 %
    plain = concentration.Concentration(
        uow=book.units, limits=load_shipped_concentration, clock=clock
    )
    nothing = concentration.evaluate(plain, as_of=AS_OF, actor="risk-1")
    assert nothing.breaches == ()
    assert nothing.clusters == ()
    assert nothing.proposed_strategy is None
