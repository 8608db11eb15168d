"""SQL repository of concentration: the drawn book by customer, stored evaluations and breaches."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, func, select

from puhui.adapters.db.collections.tables import (
    concentration_breaches,
    concentration_evaluations,
)
from puhui.adapters.db.servicing.tables import loans
from puhui.services.concentration_ports import (
    ClusterExposure,
    StoredBreach,
    StoredEvaluation,
)


class SqlConcentrationRepository:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def drawn_by_customer(self) -> dict[str, int]:
        """Principal outstanding of the active loan accounts, by customer (enterprise)."""
        c = loans.c
        rows = self._connection.execute(
            select(c.enterprise_id, func.sum(c.outstanding_principal_fen))
            .where(c.status == "active", c.outstanding_principal_fen > 0)
            .group_by(c.enterprise_id)
            .order_by(c.enterprise_id)
        )
        return {str(customer): int(total) for customer, total in rows}

    def add(self, evaluation: StoredEvaluation) -> None:
        self._connection.execute(
            concentration_evaluations.insert().values(
                evaluation_id=evaluation.evaluation_id,
                document=evaluation.document,
                as_of=evaluation.as_of,
                evaluated_at=evaluation.evaluated_at,
                evaluated_by=evaluation.evaluated_by,
                book_fen=evaluation.book_fen,
                customers=evaluation.customers,
                clusters_json=json.dumps(
                    [_cluster_json(c) for c in evaluation.clusters], ensure_ascii=False
                ),
                proposed_strategy=evaluation.proposed_strategy,
            )
        )
        if evaluation.breaches:
            self._connection.execute(
                concentration_breaches.insert(),
                [
                    {
                        "evaluation_id": evaluation.evaluation_id,
                        "seq": seq,
                        "dimension": b.dimension,
                        "cluster": b.cluster,
                        "code": b.code,
                        "value": b.value,
                        "threshold": b.threshold,
                        "exposure_fen": b.exposure_fen,
                        "base_fen": b.base_fen,
                        "parameter": b.parameter,
                        "multiplier": b.multiplier,
                    }
                    for seq, b in enumerate(evaluation.breaches)
                ],
            )

    def latest(self) -> StoredEvaluation | None:
        row = self._connection.execute(
            select(concentration_evaluations)
            .order_by(
                concentration_evaluations.c.evaluated_at.desc(),
                concentration_evaluations.c.evaluation_id.desc(),
            )
            .limit(1)
        ).first()
        if row is None:
            return None
        m = row._mapping
        breaches = self._connection.execute(
            select(concentration_breaches)
            .where(concentration_breaches.c.evaluation_id == m["evaluation_id"])
            .order_by(concentration_breaches.c.seq)
        )
        return StoredEvaluation(
            evaluation_id=m["evaluation_id"],
            document=m["document"],
            as_of=m["as_of"],
            evaluated_at=m["evaluated_at"],
            evaluated_by=m["evaluated_by"],
            book_fen=m["book_fen"],
            customers=m["customers"],
            clusters=tuple(_cluster(c) for c in json.loads(m["clusters_json"])),
            breaches=tuple(
                StoredBreach(
                    dimension=b.dimension,
                    cluster=b.cluster,
                    code=b.code,
                    value=b.value,
                    threshold=b.threshold,
                    exposure_fen=b.exposure_fen,
                    base_fen=b.base_fen,
                    parameter=b.parameter,
                    multiplier=b.multiplier,
                )
                for b in breaches
            ),
            proposed_strategy=m["proposed_strategy"],
        )


def _cluster_json(cluster: ClusterExposure) -> dict[str, Any]:
    return {
        "dimension": cluster.dimension,
        "cluster": cluster.cluster,
        "exposure_fen": cluster.exposure_fen,
        "alerted_fen": cluster.alerted_fen,
        "customers": cluster.customers,
        "share": cluster.share,
    }


def _cluster(data: dict[str, Any]) -> ClusterExposure:
    return ClusterExposure(
        dimension=str(data["dimension"]),
        cluster=str(data["cluster"]),
        exposure_fen=int(data["exposure_fen"]),
        alerted_fen=int(data["alerted_fen"]),
        customers=int(data["customers"]),
        share=str(data["share"]),
    )
