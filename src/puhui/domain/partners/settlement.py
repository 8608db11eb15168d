"""Daily partner settlement: the partner's shares of each loan's movements, its file and checks.

Shares are read after the fact from the loan's own journal entries (no servicing code path is
touched): a disbursement or draw funds principal, a repayment returns principal and interest,
a write-off loses principal, a recovery brings cash back. Each component is split with the
one rule (partner = x × S half-up, bank = remainder) and the partner's parts are posted as
one balanced entry per loan and day.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from enum import Enum

from puhui.domain.errors import InvalidInput
from puhui.domain.ledger import Account, JournalEntry, money_paid
from puhui.domain.money import format_yuan, parse_yuan
from puhui.domain.partners.agreements import Agreement, AgreementKind
from puhui.domain.partners.shares import split


class Component(Enum):
    PRINCIPAL_FUNDED = "principal_funded"
    PRINCIPAL_REPAID = "principal_repaid"
    INTEREST = "interest"
    PENALTY = "penalty"
    LOSS = "loss"
    """Principal written off: the partner bears its share of it."""
    RECOVERY = "recovery"
    FEE = "fee"
    """Facilitation fee earned by the partner (the bank's expense): all of it is the partner's."""


def loan_movements(
    amounts_fen: Mapping[Account, int], *, reversal: bool = False
) -> dict[Component, int]:
    """What one journal entry of a loan moved, by component (signed postings, debit > 0).

    A reversal is read as the entry it reverses, with every component negated, so the
    partner gives back its share of a repayment that is undone.
    """
    if reversal:
        undone = loan_movements({acc: -v for acc, v in amounts_fen.items()})
        return {c: -v for c, v in undone.items()}
    a = {acc: amounts_fen.get(acc, 0) for acc in Account}
    out: dict[Component, int] = {}
    principal = a[Account.PRINCIPAL_RECEIVABLE]
    if a[Account.WRITE_OFF_EXPENSE] > 0:
        out[Component.LOSS] = -principal
    elif a[Account.RECOVERY_INCOME] < 0:
        out[Component.RECOVERY] = -a[Account.RECOVERY_INCOME]
    elif principal > 0:
        out[Component.PRINCIPAL_FUNDED] = principal
    elif money_paid(a) > 0:  # a repayment, from settlement or from suspense
        out[Component.PRINCIPAL_REPAID] = -principal
        out[Component.INTEREST] = -(a[Account.INTEREST_RECEIVABLE] + a[Account.INTEREST_INCOME])
        out[Component.PENALTY] = -(a[Account.PENALTY_RECEIVABLE] + a[Account.PENALTY_INCOME])
    return {c: v for c, v in out.items() if v != 0}


@dataclass(frozen=True, slots=True)
class SettlementRow:
    """One loan and component of a partner's day: ours total, the partner's and bank's part."""

    settled_on: date
    agreement_id: str
    loan_id: str
    component: Component
    total_fen: int
    partner_fen: int
    bank_fen: int


_REDUCTIONS = (Component.LOSS, Component.PRINCIPAL_REPAID)
"""Principal leaves the loan by write-off or repayment; the last one to close it absorbs."""


def settle_loan(
    agreement: Agreement,
    loan_id: str,
    on: date,
    movements: Mapping[Component, int],
    *,
    principal_fen: int | None = None,
    history: Iterable[SettlementRow] = (),
) -> list[SettlementRow]:
    """The rows of one loan's day under the agreement (joint lending split, facilitation fees).

    Each component is split partner = x × S half-up, bank = remainder. The one exception is
    the day the loan's principal closes (``principal_fen`` given and every fen of it repaid or
    written off by the end of the day): the partner's last principal part is what it still
    has outstanding on the loan, so its principal nets to zero exactly, as the last
    instalment of a schedule absorbs the rounding remainder.
    """
    rows: list[SettlementRow] = []
    if agreement.kind is AgreementKind.JOINT_LENDING:
        for component in Component:
            amount = movements.get(component, 0)
            if amount == 0 or component is Component.FEE:
                continue
            parts = split(amount, agreement.funding_share)
            rows.append(
                SettlementRow(
                    on,
                    agreement.agreement_id,
                    loan_id,
                    component,
                    amount,
                    parts.partner_fen,
                    parts.bank_fen,
                )
            )
        if principal_fen is not None:
            rows = _close_partner_principal(rows, list(history), principal_fen)
    else:
        fee = 0
        if movements.get(Component.PRINCIPAL_FUNDED, 0) > 0:
            fee += agreement.fees.per_loan_fen
        fee += agreement.fees.fee_on_interest(movements.get(Component.INTEREST, 0))
        if fee:
            rows.append(
                SettlementRow(on, agreement.agreement_id, loan_id, Component.FEE, fee, fee, 0)
            )
    return rows


def _close_partner_principal(
    rows: list[SettlementRow], history: list[SettlementRow], principal_fen: int
) -> list[SettlementRow]:
    everything = history + rows
    reduced = sum(r.total_fen for r in everything if r.component in _REDUCTIONS)
    today = [r for r in rows if r.component in _REDUCTIONS]
    if reduced != principal_fen or not today:
        return rows
    funded = sum(r.partner_fen for r in everything if r.component is Component.PRINCIPAL_FUNDED)
    returned = sum(r.partner_fen for r in everything if r.component in _REDUCTIONS)
    last = today[-1]  # a write-off (after repayment in Component order) closes a loan
    partner = last.partner_fen + (funded - returned)
    closing = replace(last, partner_fen=partner, bank_fen=last.total_fen - partner)
    return [closing if r is last else r for r in rows]


PARTNER_SIDE: dict[Component, tuple[Account, Account]] = {
    # component: (debit account, credit account) of the partner's part
    Component.PRINCIPAL_FUNDED: (Account.SETTLEMENT, Account.PARTNER_FUNDING),
    Component.PRINCIPAL_REPAID: (Account.PARTNER_FUNDING, Account.PARTNER_SETTLEMENT_PAYABLE),
    Component.INTEREST: (Account.PARTNER_INTEREST_SHARE, Account.PARTNER_SETTLEMENT_PAYABLE),
    Component.PENALTY: (Account.PARTNER_INTEREST_SHARE, Account.PARTNER_SETTLEMENT_PAYABLE),
    Component.LOSS: (Account.PARTNER_FUNDING, Account.PARTNER_LOSS_SHARE),
    Component.RECOVERY: (Account.PARTNER_RECOVERY_SHARE, Account.PARTNER_SETTLEMENT_PAYABLE),
    Component.FEE: (Account.FACILITATION_FEE_EXPENSE, Account.FACILITATION_FEE_PAYABLE),
}


def settlement_entry(rows: Iterable[SettlementRow]) -> JournalEntry | None:
    """The one balanced entry of a loan's day: each partner part, debit and credit."""
    rows = [r for r in rows if r.partner_fen != 0]
    if not rows:
        return None  # nothing of the partner's moved (e.g. a part that rounds to zero)
    first = rows[0]
    amounts: list[tuple[Account, int]] = []
    for row in rows:
        debit, credit = PARTNER_SIDE[row.component]
        amounts += [(debit, row.partner_fen), (credit, -row.partner_fen)]
    return JournalEntry.build(
        f"partner-settle:{first.agreement_id}:{first.loan_id}:{first.settled_on.isoformat()}",
        first.settled_on,
        f"partner settlement of {first.loan_id} under {first.agreement_id}",
        amounts,
    )


FILE_FIELDS = ("settled_on", "agreement_id", "loan_id", "component", "total", "partner", "bank")


def render_file(rows: Iterable[SettlementRow]) -> str:
    """The settlement file: CSV, one row per loan and component, amounts in yuan."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FILE_FIELDS)
    for r in sorted(rows, key=lambda r: (r.loan_id, r.component.value)):
        writer.writerow(
            (
                r.settled_on.isoformat(),
                r.agreement_id,
                r.loan_id,
                r.component.value,
                format_yuan(r.total_fen),
                format_yuan(r.partner_fen),
                format_yuan(r.bank_fen),
            )
        )
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class Difference:
    """One disagreement between our file and the partner's: ``None`` where a side has no row."""

    loan_id: str
    component: str
    ours_fen: int | None
    theirs_fen: int | None


def parse_partner_file(text: str) -> dict[tuple[str, str], int]:
    """Read a partner's file (our CSV layout): its partner part by (loan, component)."""
    reader = csv.DictReader(io.StringIO(text))
    missing = {"loan_id", "component", "partner"} - set(reader.fieldnames or ())
    if missing:
        raise InvalidInput(f"settlement file lacks columns: {', '.join(sorted(missing))}")
    theirs: dict[tuple[str, str], int] = {}
    for line_no, row in enumerate(reader, start=2):
        key = (row["loan_id"].strip(), row["component"].strip())
        if key in theirs:
            raise InvalidInput(f"line {line_no}: {key[0]} {key[1]} appears twice")
        try:
            theirs[key] = parse_yuan(row["partner"])
        except InvalidInput as exc:
            raise InvalidInput(f"line {line_no}: {exc.message}") from None
    return theirs


def reconcile(
    ours: Iterable[SettlementRow], theirs: Mapping[tuple[str, str], int]
) -> list[Difference]:
    """Every difference between our rows and the partner's: amount, missing or extra."""
    mine = {(r.loan_id, r.component.value): r.partner_fen for r in ours}
    return [
        Difference(loan, comp, mine.get((loan, comp)), theirs.get((loan, comp)))
        for loan, comp in sorted(set(mine) | set(theirs))
        if mine.get((loan, comp)) != theirs.get((loan, comp))
    ]


@dataclass(frozen=True, slots=True)
class Position:
    """A partner's sub-ledger: principal outstanding, interest, losses, recoveries, fees."""

    principal_funded_fen: int = 0
    principal_repaid_fen: int = 0
    interest_fen: int = 0
    losses_fen: int = 0
    recoveries_fen: int = 0
    fees_fen: int = 0

    @property
    def principal_outstanding_fen(self) -> int:
        return self.principal_funded_fen - self.principal_repaid_fen - self.losses_fen


def position(rows: Iterable[SettlementRow]) -> Position:
    sums = dict.fromkeys(Component, 0)
    for r in rows:
        sums[r.component] += r.partner_fen
    return Position(
        principal_funded_fen=sums[Component.PRINCIPAL_FUNDED],
        principal_repaid_fen=sums[Component.PRINCIPAL_REPAID],
        interest_fen=sums[Component.INTEREST] + sums[Component.PENALTY],
        losses_fen=sums[Component.LOSS],
        recoveries_fen=sums[Component.RECOVERY],
        fees_fen=sums[Component.FEE],
    )


def share_of(amount_fen: int, share: Decimal) -> int:
    """The partner's part of an amount (re-exported for services that check limits)."""
    return split(amount_fen, share).partner_fen
