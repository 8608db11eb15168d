"""Servicing: credit lines, receipts, statements, money requests; strategies and models (read)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from puhui.domain.errors import ConfigurationError
from puhui.services.origination import line_access, receipt_access, strategy_access
from puhui.services.origination.credit_access import CreditAccess
from puhui.services.servicing import operations, statements
from puhui.web.dependencies import ApiDependencies, CurrentPrincipal, Deps, IdempotencyKey, call
from puhui.web.schemas import (
    CreditLineOut,
    DrawCreate,
    DrawOut,
    ErrorBody,
    LimitReduction,
    LineChange,
    ModelOut,
    ReceiptOut,
    ReceiptScheduleOut,
    RepaymentCreate,
    RepaymentOut,
    StatementOut,
    StrategyOut,
    credit_line_out,
    draw_out,
    model_out,
    receipt_out,
    receipt_schedule_out,
    repayment_out,
    statement_out,
    strategy_out,
)
from puhui.web.schemas.common import IsoDate
from puhui.web.schemas.servicing import (
    ReconciliationListOut,
    RepaymentReconciliationCreate,
    RepaymentReconciliationOut,
    reconciliation_list_out,
    repayment_reconciliation_out,
)

ERRORS = {
    401: {"model": ErrorBody},
    403: {"model": ErrorBody},
    404: {"model": ErrorBody},
    409: {"model": ErrorBody},
    422: {"model": ErrorBody},
}
router = APIRouter(prefix="/api/v1", responses=ERRORS)  # type: ignore[arg-type]

Identifier = Annotated[str, Path(min_length=1, max_length=64)]


def _access(deps: ApiDependencies) -> CreditAccess:
    # The router is mounted only when servicing is wired (see ``create_app``).
    if deps.credit is None:
        raise ConfigurationError("servicing is not wired in this API")
    return deps.credit


@router.get("/credit-lines/{line_id}", response_model=CreditLineOut, tags=["credit lines"])
async def get_line(deps: Deps, principal: CurrentPrincipal, line_id: Identifier) -> CreditLineOut:
    """A credit line (授信额度): limit, drawn, available, status. Owners, referrers and staff."""
    line = await call(deps, line_access.get_line, _access(deps), actor=principal, line_id=line_id)
    return credit_line_out(line)


PeriodQuery = Annotated[
    str,
    Query(
        pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$",
        description="YYYY-MM: the interest cycle from the 21st of the previous month to the"
        " settlement day (结息日, the 20th) of this month",
        examples=["2026-03"],
    ),
]


@router.get("/credit-lines/{line_id}/statements", response_model=StatementOut, tags=["statements"])
async def get_statement(
    deps: Deps, principal: CurrentPrincipal, line_id: Identifier, period: PeriodQuery
) -> StatementOut:
    """The statement (对账单) of one interest cycle: opening balances, every movement (draws,
    repayments and their split, accruals, write-offs, recoveries), closing balances that
    reconcile to the fen, and what is due on the day after settlement. Owners, referrers and
    staff, as for the line."""
    found = await call(
        deps,
        line_access.line_statement,
        _access(deps),
        actor=principal,
        line_id=line_id,
        period=period,
    )
    return statement_out(found)


@router.get(
    "/credit-lines/{line_id}/receipts", response_model=list[ReceiptOut], tags=["credit lines"]
)
async def list_receipts(
    deps: Deps,
    principal: CurrentPrincipal,
    line_id: Identifier,
    limit: Annotated[int, Query(ge=1, le=statements.MAX_RECEIPTS_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[ReceiptOut]:
    """The line's receipts (借据), oldest draw first: status, principal outstanding, DPD,
    maturity. Owners, referrers and staff, as for the line."""
    found = await call(
        deps,
        line_access.line_receipts,
        _access(deps),
        actor=principal,
        line_id=line_id,
        limit=limit,
        offset=offset,
    )
    return [receipt_out(r) for r in found]


@router.post("/credit-lines/{line_id}/freeze", response_model=CreditLineOut, tags=["credit lines"])
async def freeze(
    deps: Deps, principal: CurrentPrincipal, line_id: Identifier, body: LineChange
) -> CreditLineOut:
    """Stop new draws (risk officer, operations); repayments are still taken."""
    line = await call(
        deps,
        line_access.freeze_line,
        _access(deps),
        actor=principal,
        line_id=line_id,
        reason=body.reason,
    )
    return credit_line_out(line)


@router.post(
    "/credit-lines/{line_id}/unfreeze", response_model=CreditLineOut, tags=["credit lines"]
)
async def unfreeze(
    deps: Deps, principal: CurrentPrincipal, line_id: Identifier, body: LineChange
) -> CreditLineOut:
    line = await call(
        deps,
        line_access.unfreeze_line,
        _access(deps),
        actor=principal,
        line_id=line_id,
        reason=body.reason,
    )
    return credit_line_out(line)


@router.post(
    "/credit-lines/{line_id}/limit-reduction", response_model=CreditLineOut, tags=["credit lines"]
)
async def reduce_limit(
    deps: Deps, principal: CurrentPrincipal, line_id: Identifier, body: LimitReduction
) -> CreditLineOut:
    """Lower the limit (risk officer); below the drawn amount, available becomes zero."""
    line = await call(
        deps,
        line_access.reduce_limit,
        _access(deps),
        actor=principal,
        line_id=line_id,
        new_limit_fen=body.new_limit_fen,
        reason=body.reason,
    )
    return credit_line_out(line)


@router.post(
    "/credit-lines/{line_id}/draws",
    response_model=DrawOut,
    status_code=status.HTTP_201_CREATED,
    tags=["draws"],
)
async def draw(
    deps: Deps,
    principal: CurrentPrincipal,
    line_id: Identifier,
    body: DrawCreate,
    idempotency_key: IdempotencyKey,
) -> DrawOut:
    """The owner draws a receipt (借据) today; the same key and body replay the first result."""
    result = await call(
        deps,
        line_access.draw,
        _access(deps),
        actor=principal,
        line_id=line_id,
        amount_fen=body.amount_fen,
        maturity_date=body.maturity_date,
        idempotency_key=idempotency_key,
    )
    return draw_out(result)


@router.post(
    "/receipts/{receipt_id}/repayments",
    response_model=RepaymentOut,
    status_code=status.HTTP_201_CREATED,
    tags=["repayments"],
)
async def repay(
    deps: Deps,
    principal: CurrentPrincipal,
    receipt_id: Identifier,
    body: RepaymentCreate,
    idempotency_key: IdempotencyKey,
) -> RepaymentOut:
    """A repayment valued today, allocated overdue first in waterfall order."""
    result = await call(
        deps,
        receipt_access.repay,
        _access(deps),
        actor=principal,
        receipt_id=receipt_id,
        amount_fen=body.amount_fen,
        idempotency_key=idempotency_key,
    )
    return repayment_out(result)


@router.get(
    "/receipts/{receipt_id}/schedule", response_model=ReceiptScheduleOut, tags=["schedules"]
)
async def schedule(
    deps: Deps, principal: CurrentPrincipal, receipt_id: Identifier
) -> ReceiptScheduleOut:
    """What a receipt owes now, and its instalments for instalment loans."""
    found = await call(
        deps, receipt_access.receipt_schedule, _access(deps), actor=principal, receipt_id=receipt_id
    )
    return receipt_schedule_out(found)


@router.get("/strategies", response_model=list[StrategyOut], tags=["strategies"])
async def list_strategies(
    deps: Deps,
    principal: CurrentPrincipal,
    name: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
) -> list[StrategyOut]:
    found = await call(
        deps, strategy_access.list_strategies, _access(deps), actor=principal, name=name
    )
    return [strategy_out(v, with_document=False) for v in found]


@router.get("/strategies/{name}/{version}", response_model=StrategyOut, tags=["strategies"])
async def get_strategy(
    deps: Deps,
    principal: CurrentPrincipal,
    name: Identifier,
    version: Annotated[int, Path(ge=1, le=1_000_000)],
) -> StrategyOut:
    found = await call(
        deps,
        strategy_access.get_strategy,
        _access(deps),
        actor=principal,
        name=name,
        version=version,
    )
    return strategy_out(found, with_document=True)


@router.get("/models", response_model=list[ModelOut], tags=["models"])
async def list_models(deps: Deps, principal: CurrentPrincipal) -> list[ModelOut]:
    found = await call(deps, strategy_access.list_models, _access(deps), actor=principal)
    return [model_out(e) for e in found]


@router.get("/models/{version}", response_model=ModelOut, tags=["models"])
async def get_model(deps: Deps, principal: CurrentPrincipal, version: Identifier) -> ModelOut:
    found = await call(
        deps, strategy_access.get_model, _access(deps), actor=principal, version=version
    )
    return model_out(found)


@router.post(
    "/repayment-reconciliations",
    response_model=RepaymentReconciliationOut,
    tags=["reconciliation"],
)
async def reconcile_repayments(
    deps: Deps, principal: CurrentPrincipal, body: RepaymentReconciliationCreate
) -> RepaymentReconciliationOut:
    """A closed day's repayments against the collecting channel's file (还款对账), matched by
    order id (the key each repayment was posted with): every break named by kind. The run is
    recorded (``run_id``, the file's SHA-256, who and when) and audited; the books are not
    changed. An open day is 409 ``day_not_closed``; a malformed file 422, naming the line, and
    then nothing is recorded."""
    credit = _access(deps)
    found = await call(
        deps,
        operations.reconcile_repayments,
        credit.servicing_uow,
        actor=principal,
        value_date=body.value_date,
        channel_file=body.file,
        file_name=body.file_name,
        reader=credit.servicing_reader,
    )
    return repayment_reconciliation_out(found)


@router.get(
    "/repayment-reconciliations",
    response_model=ReconciliationListOut,
    tags=["reconciliation"],
)
async def list_reconciliations(
    deps: Deps,
    principal: CurrentPrincipal,
    value_date: Annotated[
        IsoDate | None, Query(description="only the runs of this value date (YYYY-MM-DD)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=operations.MAX_RUNS_PAGE)] = 20,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> ReconciliationListOut:
    """Recorded reconciliations, the latest first, each with its totals and break count."""
    credit = _access(deps)
    runs = await call(
        deps,
        operations.reconciliation_runs,
        credit.servicing_reader or credit.servicing_uow,
        actor=principal,
        value_date=value_date,
        limit=limit,
        offset=offset,
    )
    return reconciliation_list_out(runs, limit=limit, offset=offset)


@router.get(
    "/repayment-reconciliations/{run_id}",
    response_model=RepaymentReconciliationOut,
    tags=["reconciliation"],
)
async def get_reconciliation(
    deps: Deps, principal: CurrentPrincipal, run_id: Identifier
) -> RepaymentReconciliationOut:
    """A recorded reconciliation with its breaks, as found."""
    credit = _access(deps)
    found = await call(
        deps,
        operations.reconciliation_run,
        credit.servicing_reader or credit.servicing_uow,
        actor=principal,
        run_id=run_id,
    )
    return repayment_reconciliation_out(found)
