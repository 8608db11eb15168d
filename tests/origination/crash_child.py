"""Run ``accept_offer`` in a process that dies inside servicing (used by the crash test)."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from origination_wiring import AUDIT_KEY, DATA_KEY, wire

from puhui.adapters.db.encryption import FieldCipher
from puhui.adapters.db.engine import make_engine
from puhui.adapters.db.origination.unit_of_work import OriginationUnitOfWork
from puhui.domain.clock import FixedClock
from puhui.services.origination import use_cases as uc
from puhui.services.origination.ports import LineOpening
from puhui.services.security.permissions import Principal, Role


class FileLineOpener:
    """Servicing stand-in whose state survives the process: lines kept in a JSON file."""

    def __init__(self, path: Path, die: str | None = None) -> None:
        self.path = path
        self.die = die

    def open_line(self, opening: LineOpening) -> str:
        if self.die == "before":
            os._exit(137)
        lines = json.loads(self.path.read_text()) if self.path.exists() else {}
        if opening.idempotency_key not in lines:
            lines[opening.idempotency_key] = f"line_{len(lines) + 1:04d}"
            self.path.write_text(json.dumps(lines))
        if self.die == "after":
            os._exit(137)
        return str(lines[opening.idempotency_key])


def main() -> None:
    url, lines_file, die, user_id, application_id = sys.argv[1:6]
    engine = make_engine(url)
    clock = FixedClock(datetime(2026, 3, 2, 1, 30, tzinfo=UTC))
    cipher = FieldCipher(DATA_KEY)
    w = wire(
        lambda: OriginationUnitOfWork(engine, clock=clock, audit_key=AUDIT_KEY, cipher=cipher),
        clock,
    )
    w.origination.line_opener = FileLineOpener(Path(lines_file), die)
    uc.accept_offer(
        w.origination,
        actor=Principal(user_id, Role.APPLICANT),
        application_id=application_id,
    )


if __name__ == "__main__":
    main()
