"""The signal source servicing alone can feed: days past due and the PD at origination.

Every other monitoring input (tax, courts, bureau, utilities, settlement flows, the
behavioural PD) is missing here, and a missing input never raises a signal by itself. The
market-data and behavioural-model kernel replaces this source when it is wired.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Connection, Engine, func, select

from puhui.adapters.db.documents import document_from_text
from puhui.adapters.db.engine import READ_ONLY_OPTION
from puhui.adapters.db.origination.tables import applications, decision_records
from puhui.adapters.db.servicing.tables import eod_runs
from puhui.decision.triggers import CompiledTriggers
from puhui.domain.monitoring import Hit
from puhui.services.monitoring.ports import EvidencedHit, MonitoredCustomer, MonitoringDataMissing

SOURCE = "servicing"


class ServicingSignalSource:
    """``SignalSource`` over servicing and stored origination decisions."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def _reader(self) -> Connection:
        # Read-only: on SQLite it takes no write lock, so a run's writer never waits on it.
        return self._engine.connect().execution_options(**{READ_ONLY_OPTION: True})

    def check_data(self, as_of: dt.date) -> None:
        """Servicing's data of a day is final once its end of day has completed."""
        with self._reader() as connection:
            closed = connection.execute(
                select(func.max(eod_runs.c.as_of)).where(eod_runs.c.status == "completed")
            ).scalar_one()
        if not isinstance(closed, dt.date) or closed < as_of:
            raise MonitoringDataMissing(
                f"servicing data for {as_of} is not final: end of day has completed through "
                f"{closed if closed is not None else 'no day yet'}",
                details={"as_of": as_of.isoformat(), "source": SOURCE},
            )

    def origination_pds(self, customers: Sequence[MonitoredCustomer]) -> dict[str, float | None]:
        """Each customer's PD at origination: that of the stored decision of its first line
        that has one (None when none has)."""
        by_line = self._line_pds([line for c in customers for line in c.line_ids])
        return {
            c.customer_id: next((by_line[line] for line in c.line_ids if line in by_line), None)
            for c in customers
        }

    def _line_pds(self, line_ids: Sequence[str]) -> dict[str, float]:
        found: dict[str, float] = {}
        if not line_ids:
            return found
        with self._reader() as connection:
            rows = connection.execute(
                select(applications.c.credit_line_id, decision_records.c.record_json)
                .join(
                    decision_records,
                    decision_records.c.application_id == applications.c.application_id,
                )
                .where(applications.c.credit_line_id.in_(list(line_ids)))
            )
            for row in rows:
                pd = document_from_text(row.record_json).get("pd")
                if pd is not None:
                    found[row.credit_line_id] = float(pd)
        return found

    def signals(
        self,
        customers: Sequence[MonitoredCustomer],
        as_of: dt.date,
        triggers: CompiledTriggers,
    ) -> list[EvidencedHit]:
        pds = self.origination_pds(customers)
        hits: list[EvidencedHit] = []
        for customer in customers:
            inputs = {
                "days_past_due": customer.days_past_due,
                "origination_pd": pds[customer.customer_id],
            }
            fed = {
                name: value for name, value in inputs.items() if name in triggers.document.inputs
            }
            evidence = {
                "source": SOURCE,
                "as_of": as_of.isoformat(),
                "rules": triggers.version_label,
                "inputs": fed,
            }
            for signal in triggers.evaluate(fed):
                hits.append(
                    EvidencedHit(
                        Hit(
                            customer.customer_id,
                            signal.code,
                            signal.severity,
                            signal.text_zh,
                            signal.text_en,
                        ),
                        evidence,
                    )
                )
        return hits
