"""Alerts as staff see them: list, detail with signals and evidence, acknowledge, close."""

from __future__ import annotations

from dataclasses import replace

from puhui.domain.errors import InvalidInput, NotFound
from puhui.domain.monitoring import AlertStatus
from puhui.services.audit import record
from puhui.services.monitoring.access import MonitoringAccess
from puhui.services.monitoring.ports import AlertQuery, AlertRecord, MonitoringUnitOfWork
from puhui.services.security.permissions import Permission, Principal, require

MAX_PAGE = 200


def _require_alert(uow: MonitoringUnitOfWork, alert_id: str) -> AlertRecord:
    found = uow.monitoring.alert(alert_id)
    if found is None:
        raise NotFound("no such alert", details={"alert_id": alert_id})
    return found


def list_alerts(
    access: MonitoringAccess, *, actor: Principal, query: AlertQuery
) -> list[AlertRecord]:
    require(actor, Permission.ALERT_READ)
    if not 1 <= query.limit <= MAX_PAGE:
        raise InvalidInput(f"a page holds 1 to {MAX_PAGE} alerts", details={"field": "limit"})
    if (
        query.raised_from is not None
        and query.raised_to is not None
        and query.raised_to < query.raised_from
    ):
        raise InvalidInput("the date range ends before it starts", details={"field": "to"})
    with access.units() as uow:
        return uow.monitoring.alerts(query)


def count_open_alerts(access: MonitoringAccess, *, actor: Principal) -> int:
    """Alerts no one has acknowledged yet, for those who acknowledge them."""
    require(actor, Permission.ALERT_MANAGE)
    with access.units() as uow:
        return uow.monitoring.count_alerts(AlertStatus.OPEN)


def get_alert(access: MonitoringAccess, *, actor: Principal, alert_id: str) -> AlertRecord:
    require(actor, Permission.ALERT_READ)
    with access.units() as uow:
        return _require_alert(uow, alert_id)


def acknowledge_alert(access: MonitoringAccess, *, actor: Principal, alert_id: str) -> AlertRecord:
    require(actor, Permission.ALERT_MANAGE)
    with access.units() as uow:
        stored = _require_alert(uow, alert_id)
        changed = replace(
            stored, alert=stored.alert.acknowledge(), acknowledged_by=actor.audit_name()
        )
        uow.monitoring.save_alert(changed, expected_status=stored.alert.status)
        record(
            uow,
            actor=actor.audit_name(),
            action="monitoring.alert_acknowledged",
            entity="monitoring_alert",
            entity_id=alert_id,
            payload={"customer_id": stored.alert.customer_id},
        )
        uow.commit()
    return changed


def close_alert(
    access: MonitoringAccess, *, actor: Principal, alert_id: str, reason: str
) -> AlertRecord:
    require(actor, Permission.ALERT_MANAGE)
    with access.units() as uow:
        stored = _require_alert(uow, alert_id)
        changed = replace(
            stored,
            alert=stored.alert.close(access.today(), reason.strip()),
            closed_by=actor.audit_name(),
        )
        uow.monitoring.save_alert(changed, expected_status=stored.alert.status)
        record(
            uow,
            actor=actor.audit_name(),
            action="monitoring.alert_closed",
            entity="monitoring_alert",
            entity_id=alert_id,
            payload={"customer_id": stored.alert.customer_id, "reason": reason.strip()},
        )
        uow.commit()
    return changed
