"""Contract changes (renewal 续贷, extension 展期, restructuring 重组) and the 2023 classification.

The 2023 Financial Asset Risk Classification Measures (商业银行金融资产风险分类办法, CBIRC/PBOC
Order No. 1) classify beyond days past due:

* overdue → at least 关注; more than 90 days → at least 次级; more than 270 → at least 可疑;
  more than 360 → 损失 (the DPD floors of :func:`puhui.domain.lending.delinquency.classify`);
* a contract change for a debtor in financial difficulty is a restructuring (重组资产):
  a performing exposure goes to at least 关注; a non-performing one may not be upgraded during
  the observation period (观察期): from the first repayment date after the change, at least two
  repayment periods and not under one year, restarted on a missed payment;
* a second restructuring inside the observation period of the first is at least 可疑;
* a renewal or extension for a debtor *not* in difficulty is not a restructuring and is not
  downgraded for itself.

:func:`classify_with_history` is a pure function over a loan's history; the end-of-day batch
and the classification endpoint both call it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum

from puhui.domain.errors import Conflict, InvalidInput
from puhui.domain.lending.delinquency import FiveCategory, classify

OBSERVATION_MIN_PERIODS = 2
"""At least two repayment periods of observation after a restructuring."""

OBSERVATION_MIN_YEARS = 1
"""...and not under one year."""


class ChangeKind(Enum):
    RENEWAL = "renewal"  # 无还本续贷
    EXTENSION = "extension"  # 展期
    RESTRUCTURING = "restructuring"  # 重组

    @property
    def label_zh(self) -> str:
        return {"renewal": "无还本续贷", "extension": "展期", "restructuring": "重组"}[self.value]


@dataclass(frozen=True, slots=True)
class ContractChange:
    """One change of a loan's contract, as classification sees it."""

    kind: ChangeKind
    changed_on: date
    in_difficulty: bool

    @property
    def is_restructuring(self) -> bool:
        """A change for a debtor in difficulty is a restructuring whatever it is called."""
        return self.kind is ChangeKind.RESTRUCTURING or self.in_difficulty


@dataclass(frozen=True, slots=True)
class LoanHistory:
    """What the 2023 rules read about one loan.

    ``repayment_dates`` are every due date the loan has had (those of replaced schedules that
    already fell due, and those of the current schedule); ``missed_dates`` are the due dates
    that were not paid in full on time.
    """

    days_past_due: int
    changes: tuple[ContractChange, ...] = ()
    repayment_dates: tuple[date, ...] = ()
    missed_dates: frozenset[date] = field(default_factory=frozenset)
    previous: FiveCategory | None = None
    grace_days: int = 0


class Reason(Enum):
    """Why a category is what it is (stable codes, reported with the category)."""

    DAYS_PAST_DUE = "days_past_due"
    RESTRUCTURED = "restructured"
    NO_UPGRADE_IN_OBSERVATION = "no_upgrade_in_observation"
    RESTRUCTURED_AGAIN_IN_OBSERVATION = "restructured_again_in_observation"


@dataclass(frozen=True, slots=True)
class Classification:
    category: FiveCategory
    dpd_floor: FiveCategory
    reasons: tuple[Reason, ...]
    observation_ends_on: date | None
    """End of the observation period of the latest restructuring (None: none, or not started)."""
    in_observation: bool


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February → 28 February
        return day.replace(year=day.year + years, day=28)


def missed_repayment(overdue_since: date | None, repayment_dates: Sequence[date]) -> date | None:
    """The repayment date whose non-payment put a loan in arrears: the latest one on or
    before ``overdue_since`` (servicing marks arrears from the day after the date missed)."""
    if overdue_since is None:
        return None
    return max((d for d in repayment_dates if d <= overdue_since), default=None)


def observation_end(
    changed_on: date, repayment_dates: Sequence[date], missed_dates: frozenset[date]
) -> date | None:
    """Last day of the observation period of a restructuring made on ``changed_on``.

    The period starts on the first repayment date after the change and runs to the later of
    the second repayment date after that start and one year after it. A missed repayment inside
    the period restarts it: it starts again on the first repayment date after the missed one.
    ``None`` when no repayment date follows (the period has not started: the loan stays in
    observation).
    """
    dates = sorted(set(repayment_dates))
    after = changed_on
    while True:
        start = next((d for d in dates if d > after), None)
        if start is None:
            return None
        following = [d for d in dates if d > start]
        periods_end = (
            following[OBSERVATION_MIN_PERIODS - 1]
            if len(following) >= OBSERVATION_MIN_PERIODS
            else (following[-1] if following else start)
        )
        end = max(periods_end, _add_years(start, OBSERVATION_MIN_YEARS))
        missed = min((m for m in missed_dates if start <= m <= end), default=None)
        if missed is None:
            return end
        after = missed


def _check(history: LoanHistory) -> None:
    dpd = history.days_past_due
    if isinstance(dpd, bool) or not isinstance(dpd, int) or dpd < 0:
        raise InvalidInput(f"days past due must be a non-negative integer, got {dpd!r}")
    if not history.missed_dates <= set(history.repayment_dates):
        raise InvalidInput("every missed date must be one of the repayment dates")


def classify_with_history(history: LoanHistory, as_of: date) -> Classification:
    """The 2023 category of a loan on ``as_of`` from its DPD, changes and repayment record."""
    _check(history)
    dpd_floor = classify(history.days_past_due, grace_days=history.grace_days)
    reasons: list[Reason] = []
    if dpd_floor is not FiveCategory.PASS:
        reasons.append(Reason.DAYS_PAST_DUE)
    restructurings = sorted(
        (c for c in history.changes if c.is_restructuring and c.changed_on <= as_of),
        key=lambda c: c.changed_on,
    )
    if not restructurings:
        return Classification(dpd_floor, dpd_floor, tuple(reasons), None, False)

    latest = restructurings[-1]
    ends_on = observation_end(latest.changed_on, history.repayment_dates, history.missed_dates)
    in_observation = ends_on is None or as_of <= ends_on
    if not in_observation:
        return Classification(dpd_floor, dpd_floor, tuple(reasons), ends_on, False)

    floor = FiveCategory.SPECIAL_MENTION
    reasons.append(Reason.RESTRUCTURED)
    previous = history.previous
    if previous is not None and previous.is_non_performing:
        floor = floor.worse_of(previous)
        reasons.append(Reason.NO_UPGRADE_IN_OBSERVATION)
    if _restructured_inside_earlier_observation(restructurings, history):
        floor = floor.worse_of(FiveCategory.DOUBTFUL)
        reasons.append(Reason.RESTRUCTURED_AGAIN_IN_OBSERVATION)
    return Classification(dpd_floor.worse_of(floor), dpd_floor, tuple(reasons), ends_on, True)


def _restructured_inside_earlier_observation(
    restructurings: Sequence[ContractChange], history: LoanHistory
) -> bool:
    latest = restructurings[-1]
    for earlier in restructurings[:-1]:
        end = observation_end(earlier.changed_on, history.repayment_dates, history.missed_dates)
        if end is None or latest.changed_on <= end:
            return True
    return False


# --- policy: how far a contract may be changed ---------------------------------------------


class ExtensionBeyondPolicy(InvalidInput):
    """An extension longer than the policy allows for the loan's original term (展期期限)."""

    code = "extension_beyond_policy"


class TooManyChanges(Conflict):
    """The loan has had as many extensions and restructurings as the policy allows."""

    code = "too_many_changes"


class LoanInArrears(Conflict):
    """A renewal (or an extension for a debtor not in difficulty) needs a loan with no arrears."""

    code = "loan_in_arrears"


class SameApprover(Conflict):
    """Four eyes: the user who requested a contract change may not approve it."""

    code = "four_eyes_violation"


SHORT_TERM_MONTHS = 12
MEDIUM_TERM_MONTHS = 60
LONG_TERM_MAX_EXTENSION_MONTHS = 36


@dataclass(frozen=True, slots=True)
class ChangePolicy:
    """Limits on extensions and restructurings (贷款通则 Art. 12 for 展期 by default).

    Short-term loans (up to one year) may be extended up to their original term, medium-term
    loans (up to five years) up to half of it, long-term loans up to three years.
    """

    max_changes: int = 2
    short_term_factor_pct: int = 100
    medium_term_factor_pct: int = 50
    long_term_max_months: int = LONG_TERM_MAX_EXTENSION_MONTHS

    def __post_init__(self) -> None:
        for name in ("max_changes", "short_term_factor_pct", "medium_term_factor_pct"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInput(f"{name} must be a non-negative integer, got {value!r}")
        if self.long_term_max_months < 0:
            raise InvalidInput("long_term_max_months must not be negative")

    def max_extension_months(self, original_term_months: int) -> int:
        if original_term_months <= SHORT_TERM_MONTHS:
            return original_term_months * self.short_term_factor_pct // 100
        if original_term_months <= MEDIUM_TERM_MONTHS:
            return original_term_months * self.medium_term_factor_pct // 100
        return self.long_term_max_months

    def check_extension(
        self, original_term_months: int, extension_months: int, changes_so_far: int
    ) -> None:
        """Refuse an extension beyond policy (raises; nothing is decided here)."""
        if isinstance(extension_months, bool) or not isinstance(extension_months, int):
            raise InvalidInput(f"extension months must be an integer, got {extension_months!r}")
        if extension_months < 1:
            raise InvalidInput(f"an extension is at least one month, got {extension_months}")
        self.check_count(changes_so_far)
        allowed = self.max_extension_months(original_term_months)
        if extension_months > allowed:
            raise ExtensionBeyondPolicy(
                f"a {original_term_months}-month loan may be extended by at most {allowed} "
                f"months, not {extension_months}",
                details={
                    "original_term_months": original_term_months,
                    "extension_months": extension_months,
                    "max_extension_months": allowed,
                },
            )

    def check_count(self, changes_so_far: int) -> None:
        if changes_so_far >= self.max_changes:
            raise TooManyChanges(
                f"the loan has had {changes_so_far} changes; the policy allows {self.max_changes}",
                details={"changes": changes_so_far, "max_changes": self.max_changes},
            )


def check_four_eyes(requested_by: str, approved_by: str) -> None:
    if requested_by == approved_by:
        raise SameApprover(
            "a contract change must be approved by someone other than who requested it"
        )


# --- renewal without principal repayment (无还本续贷) ---------------------------------------


class OutsideRenewalWindow(InvalidInput):
    """A renewal is decided in the window before maturity, not earlier and not after."""

    code = "outside_renewal_window"


RENEWAL_WINDOW_DAYS = 30
RENEWAL_RULES_VERSION = "renewal-rules/1"


@dataclass(frozen=True, slots=True)
class RenewalFacts:
    """What the renewal rules read of a maturing loan and its customer."""

    on: date
    maturity_date: date
    days_past_due: int
    in_arrears: bool
    open_alerts: int
    category: FiveCategory
    renewals_so_far: int
    term_months: int = 0
    """The term asked for the new loan."""


@dataclass(frozen=True, slots=True)
class RenewalDecision:
    approved: bool
    reasons: tuple[str, ...]
    rules_version: str = RENEWAL_RULES_VERSION


@dataclass(frozen=True, slots=True)
class RenewalRules:
    """The renewal mode's rule set (docs/loan-changes.md): knock-outs first, then the decline
    reasons all collected. A loan in arrears or outside the window is refused (4xx), not
    declined: such a request is not a renewal case at all."""

    window_days: int = RENEWAL_WINDOW_DAYS
    max_renewals: int = 3
    worst_category: FiveCategory = FiveCategory.PASS
    max_open_alerts: int = 0
    max_term_months: int | None = None
    """None: the product's term bounds only."""
    version: str = RENEWAL_RULES_VERSION
    """Who decided: these defaults, or ``strategy:NAME@VERSION`` (the strategy's renewal mode)."""

    def decide(self, facts: RenewalFacts) -> RenewalDecision:
        if facts.in_arrears or facts.days_past_due > 0:
            raise LoanInArrears(
                "a loan in arrears cannot be renewed without principal repayment",
                details={"days_past_due": facts.days_past_due},
            )
        opens = facts.maturity_date - timedelta(days=self.window_days)
        if not opens <= facts.on < facts.maturity_date:
            raise OutsideRenewalWindow(
                f"renewal is decided from {opens} until the day before maturity "
                f"{facts.maturity_date}, not on {facts.on}",
                details={"opens": opens.isoformat(), "maturity": facts.maturity_date.isoformat()},
            )
        reasons: list[str] = []
        if facts.open_alerts > self.max_open_alerts:
            reasons.append("monitoring_alerts_open")
        if facts.category.rank > self.worst_category.rank:
            reasons.append("category_not_pass")
        if facts.renewals_so_far >= self.max_renewals:
            reasons.append("too_many_renewals")
        if self.max_term_months is not None and facts.term_months > self.max_term_months:
            reasons.append("term_over_limit")
        return RenewalDecision(
            approved=not reasons, reasons=tuple(reasons), rules_version=self.version
        )
