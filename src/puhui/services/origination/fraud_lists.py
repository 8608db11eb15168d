"""The internal fraud lists risk officers maintain."""

from __future__ import annotations

from puhui.domain.errors import InvalidInput
from puhui.domain.identity import validate_id_number, validate_uscc
from puhui.services import audit
from puhui.services.origination.context import (
    Origination,
)
from puhui.services.security.permissions import Permission, Principal, require


def add_to_fraud_list(
    origination: Origination,
    *,
    actor: Principal,
    list_name: str,
    uscc: str | None,
    id_number: str | None,
    note: str,
) -> None:
    """Risk officers maintain the internal blacklist and the executed-person list."""
    require(actor, Permission.FRAUD_LIST_MANAGE)
    if list_name not in ("blacklist", "executed_person"):
        raise InvalidInput("the list is blacklist or executed_person", details={"field": "list"})
    if uscc is None and id_number is None:
        raise InvalidInput("a list entry names an enterprise or a person")
    code = validate_uscc(uscc) if uscc else None
    person = validate_id_number(id_number) if id_number else None
    with origination.uow_factory() as uow:
        uow.fraud_lists.add(
            "blacklist" if list_name == "blacklist" else "executed_person",
            uscc=code,
            id_number=person,
            note=note,
        )
        audit.record(
            uow,
            actor=actor.audit_name(),
            action=f"fraud_list.{list_name}.added",
            entity="fraud_list",
            entity_id=code or "person",
            payload={"uscc": code, "note": note},
        )
        uow.commit()
