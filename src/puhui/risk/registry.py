"""Versioned model registry on disk: candidate → approved → champion, four eyes on approval."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from puhui.domain.ids import new_id
from puhui.risk.artefact import ModelArtefact, load_artefact
from puhui.risk.errors import (
    ApproverIsBuilder,
    InvalidModelTransition,
    ModelArtefactInvalid,
    ModelVersionNotFound,
)

INDEX_FILE = "registry.json"


class ModelStatus(StrEnum):
    CANDIDATE = "candidate"
    APPROVED = "approved"
    CHAMPION = "champion"
    RETIRED = "retired"


@dataclass(frozen=True)
class RegistryEntry:
    version: str
    name: str
    kind: str
    status: ModelStatus
    builder: str
    registered_at: str
    data_hash: str
    metrics: dict[str, dict[str, float]]
    approver: str | None = None
    approved_at: str | None = None
    promoted_by: str | None = None
    promoted_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RegistryEntry:
        return cls(**{**data, "status": ModelStatus(data["status"])})


def _person(name: str, role: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise InvalidModelTransition(f"the {role} must be named")
    return cleaned


class ModelRegistry:
    """Artefacts copied under ``<root>/models/<version>/``; statuses in ``registry.json``.

    One writer at a time (a modelling team's shared folder); every write replaces the index
    atomically so a crash never leaves it half written.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _read(self) -> list[RegistryEntry]:
        path = self.root / INDEX_FILE
        if not path.is_file():
            return []
        document = json.loads(path.read_text(encoding="utf-8"))
        return [RegistryEntry.from_dict(entry) for entry in document["versions"]]

    def _write(self, entries: list[RegistryEntry]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        temporary = self.root / (INDEX_FILE + ".tmp")
        document = {"versions": [entry.to_dict() for entry in entries]}
        temporary.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(temporary, self.root / INDEX_FILE)

    def stamp(self) -> tuple[int, int] | None:
        """A cheap token that changes whenever the index is rewritten (its mtime and size).

        Every write replaces ``registry.json`` through a rename, so a reader that sees the
        same token has nothing new to read; processes on one machine (API workers) notice a
        promotion with one ``stat`` and no parsing.
        """
        try:
            info = (self.root / INDEX_FILE).stat()
        except FileNotFoundError:
            return None
        return (info.st_mtime_ns, info.st_size)

    def entries(self) -> list[RegistryEntry]:
        return self._read()

    def get(self, version: str) -> RegistryEntry:
        for entry in self._read():
            if entry.version == version:
                return entry
        raise ModelVersionNotFound(f"no model version {version!r} in {self.root}")

    def champion(self, name: str) -> RegistryEntry | None:
        return next(
            (e for e in self._read() if e.name == name and e.status is ModelStatus.CHAMPION), None
        )

    def load(self, version: str) -> ModelArtefact:
        self.get(version)
        return load_artefact(self.root / "models" / version)

    def register(
        self, artefact_dir: Path, *, name: str, builder: str, at: datetime
    ) -> RegistryEntry:
        """Copy a trained model in as a candidate."""
        artefact = load_artefact(artefact_dir)
        if not name.strip():
            raise ModelArtefactInvalid("a registered model needs a name")
        version = new_id("model")
        shutil.copytree(artefact_dir, self.root / "models" / version)
        entry = RegistryEntry(
            version=version,
            name=name.strip(),
            kind=artefact.kind.value,
            status=ModelStatus.CANDIDATE,
            builder=_person(builder, "builder"),
            registered_at=at.isoformat(),
            data_hash=artefact.metadata.data_hash,
            metrics=artefact.metadata.metrics,
        )
        self._write([*self._read(), entry])
        return entry

    def approve(self, version: str, *, approver: str, at: datetime) -> RegistryEntry:
        entry = self.get(version)
        if entry.status is not ModelStatus.CANDIDATE:
            raise InvalidModelTransition(
                f"only a candidate can be approved; {version} is {entry.status.value}"
            )
        who = _person(approver, "approver")
        if who.casefold() == entry.builder.casefold():
            raise ApproverIsBuilder(
                f"{who} built {version} and may not approve it: another person must",
                details={"version": version},
            )
        updated = replace(
            entry, status=ModelStatus.APPROVED, approver=who, approved_at=at.isoformat()
        )
        self._write([updated if e.version == version else e for e in self._read()])
        return updated

    def promote(self, version: str, *, actor: str, at: datetime) -> RegistryEntry:
        """Make an approved model the champion of its name; the previous one retires."""
        entry = self.get(version)
        if entry.status is not ModelStatus.APPROVED:
            raise InvalidModelTransition(
                f"only an approved model can become champion; {version} is {entry.status.value}"
            )
        updated = replace(
            entry,
            status=ModelStatus.CHAMPION,
            promoted_by=_person(actor, "promoter"),
            promoted_at=at.isoformat(),
        )
        entries: list[RegistryEntry] = []
        for e in self._read():
            if e.version == version:
                entries.append(updated)
            elif e.name == entry.name and e.status is ModelStatus.CHAMPION:
                entries.append(replace(e, status=ModelStatus.RETIRED))
            else:
                entries.append(e)
        self._write(entries)
        return updated
