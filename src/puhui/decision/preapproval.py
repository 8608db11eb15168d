"""Pre-approval mode (主动授信): the strategy decides, in batch, whom to invite and for how much.

The same document, knock-outs, fraud rules, grades, limit and price as online: only the
inputs differ. Data the bank may not read before the enterprise consents is missing (a rule
on a missing value never matches, so a fraud rule runs only where its inputs exist); the
amount "requested" is the need model's conservative floor, so the indicative limit never
exceeds the estimated need; the limit's affordability may use the section's own pre-consent
bases. Referral rules do not stop an invitation (the application will be referred anyway):
the ones that match travel with the offer as cautions for the account manager.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from puhui.decision.document import TableSpec
from puhui.decision.engine import CompiledStrategy
from puhui.decision.outcome import ModelResult, Outcome
from puhui.decision.strategy import compile_strategy
from puhui.domain.errors import InvalidInput

INPUTS_MISSING = "PREAPPROVAL_INPUTS_MISSING"
"""Not listed: a required input (e.g. the legal representative's age) is unknown."""


class NoPreapprovalMode(InvalidInput):
    """The strategy has no ``preapproval:`` section."""

    code = "no_preapproval_mode"


@dataclass(frozen=True, slots=True)
class IndicativeNeed:
    """What the need model says of one enterprise: how likely, how much at least, how long."""

    probability: float
    floor_fen: int
    duration_months: int | None = None


@dataclass(frozen=True, slots=True)
class PreapprovalDecision:
    """Pre-approved or not; ``reasons`` are why not, or the cautions of a pre-approval."""

    preapproved: bool
    limit_fen: int
    annual_rate: Decimal | None
    grade: str | None
    term_months: int | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class PreapprovalMode:
    """A strategy compiled for pre-approval: the original and its offer-making variant."""

    strategy: CompiledStrategy
    offer: CompiledStrategy
    """The same document with the section's affordability and cap and no referral rules."""
    validity_days: int
    minimum_need_probability: float
    need_unlikely_reason: str
    sources_before_consent: frozenset[str]
    invited_grades: frozenset[str] = frozenset()
    """Empty: every grade that lends."""
    grade_not_invited_reason: str | None = None

    @property
    def version(self) -> str:
        return self.strategy.version

    def valid_until(self, as_of: dt.date) -> dt.date:
        """The last day of the offer: ``validity_days`` after the as-of month's last day (the
        run can only start once that month's data is complete)."""
        following = dt.date(as_of.year + as_of.month // 12, as_of.month % 12 + 1, 1)
        return following + dt.timedelta(days=self.validity_days - 1)

    def evaluate(
        self,
        inputs: Mapping[str, Any],
        model: ModelResult,
        need: IndicativeNeed,
        *,
        as_of: dt.date,
        licence_type: str,
    ) -> PreapprovalDecision:
        """Pre-approve one enterprise or say why not (a value, never an exception)."""
        if need.probability < self.minimum_need_probability:
            return _declined((self.need_unlikely_reason,))
        rule = self.offer.limit_rule
        env: dict[str, Any] = dict(inputs)
        env[rule.requested] = need.floor_fen
        if rule.need is not None:
            env[rule.need] = need.floor_fen
        term_input = self.offer.term_rule.requested
        if term_input is not None:
            env[term_input] = need.duration_months
        try:
            self.offer.check_inputs(env)
        except InvalidInput:
            return _declined((INPUTS_MISSING,))
        decision = self.offer.evaluate(
            env, model, as_of=as_of, licence_type=licence_type, check=False
        )
        if decision.outcome is not Outcome.APPROVE:
            return _declined(decision.reasons)
        if self.invited_grades and decision.grade not in self.invited_grades:
            return _declined((self.grade_not_invited_reason or "GRADE_NOT_INVITED",))
        seen = self.offer.features(env)
        seen.update(
            pd=model.pd, score=model.score, grade=decision.grade, limit_fen=decision.limit_fen
        )
        cautions = tuple(
            rule.reason for rule in self.strategy.referrals.collect(seen) if rule.reason
        )
        return PreapprovalDecision(
            preapproved=True,
            limit_fen=decision.limit_fen,
            annual_rate=decision.annual_rate,
            grade=decision.grade,
            term_months=decision.term_months,
            reasons=tuple(dict.fromkeys(cautions)),
        )


def _declined(reasons: tuple[str, ...]) -> PreapprovalDecision:
    return PreapprovalDecision(False, 0, None, None, None, reasons)


def preapproval_mode(strategy: CompiledStrategy) -> PreapprovalMode:
    """The pre-approval mode of a compiled strategy (refused when it has no section)."""
    document = strategy.document
    spec = document.preapproval
    if spec is None:
        raise NoPreapprovalMode(
            f"strategy {strategy.version} has no `preapproval:` section (see docs/strategies.md)"
        )
    limit = document.limit.model_copy(
        update={
            "affordability": spec.affordability or document.limit.affordability,
            "product_cap_yuan": (
                document.limit.product_cap_yuan
                if spec.product_cap_yuan is None
                else spec.product_cap_yuan
            ),
        }
    )
    offer_document = document.model_copy(
        update={
            "limit": limit,
            "referrals": TableSpec(hit_policy="collect", rules=()),
            "description": f"{document.description} (pre-approval mode)",
        }
    )
    offer = compile_strategy(offer_document, source=f"{strategy.version} (pre-approval mode)")
    return PreapprovalMode(
        strategy=strategy,
        offer=offer,
        validity_days=spec.validity_days,
        minimum_need_probability=float(spec.minimum_need_probability),
        need_unlikely_reason=spec.need_unlikely_reason,
        sources_before_consent=frozenset(spec.sources_before_consent),
        invited_grades=frozenset(spec.invited_grades),
        grade_not_invited_reason=spec.grade_not_invited_reason,
    )
