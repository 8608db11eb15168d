"""Use case: the trial balance of the general ledger as of a date."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from puhui.domain.ledger import TrialBalance
from puhui.services.servicing.ports import ServicingUnitOfWork


def trial_balance(uow_factory: Callable[[], ServicingUnitOfWork], *, as_of: date) -> TrialBalance:
    with uow_factory() as uow:
        return uow.ledger.trial_balance(as_of)
