"""Strategies and models as callers see them (read only); roles first."""

from __future__ import annotations

from typing import TYPE_CHECKING

from puhui.domain.errors import NotFound
from puhui.services import strategies
from puhui.services.origination.credit_access import CreditAccess
from puhui.services.security.permissions import Permission, Principal, require

if TYPE_CHECKING:
    from puhui.risk.registry import ModelRegistry, RegistryEntry


def _strategies_uow(access: CreditAccess) -> strategies.UowFactory:
    if access.strategies_uow is None:
        raise NotFound("strategies are not available on this server")
    return access.strategies_uow


def list_strategies(
    access: CreditAccess, *, actor: Principal, name: str | None = None
) -> list[strategies.StrategyVersion]:
    require(actor, Permission.STRATEGY_READ)
    return strategies.list_versions(_strategies_uow(access), name)


def get_strategy(
    access: CreditAccess, *, actor: Principal, name: str, version: int
) -> strategies.StrategyVersion:
    require(actor, Permission.STRATEGY_READ)
    return strategies.get_version(_strategies_uow(access), name, version)


def _registry(access: CreditAccess) -> ModelRegistry:
    if access.model_registry is None:
        raise NotFound("the model registry is not available on this server")
    return access.model_registry


def list_models(access: CreditAccess, *, actor: Principal) -> list[RegistryEntry]:
    require(actor, Permission.MODEL_READ)
    return _registry(access).entries()


def get_model(access: CreditAccess, *, actor: Principal, version: str) -> RegistryEntry:
    require(actor, Permission.MODEL_READ)
    return _registry(access).get(version)
