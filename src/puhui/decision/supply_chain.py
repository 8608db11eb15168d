"""Supply-chain finance strategy: the core enterprise's facility, voucher pricing, dealer lines.

The core enterprise's payables facility (授信额度) and the discount price of its vouchers are
decided by the shipped strategy document ``supply-chain-finance.yaml``, compiled by the same
compiler and run by the same engine as the online credit strategy (docs/strategies.md): same
knock-outs, grading table, limit, price and term steps, same trace. It has no model: the grade
comes from a rule-based score of the core's own data (a ``computed`` value), and each grading
row also carries the grade's voucher fee rate (``then: {grade, fee_rate}``).

Dealer lines (经销商贷) are sized from the dealer's purchases from the core (monthly invoice
aggregates, seller = core, buyer = dealer): a multiple of the average of the three highest
months, the multiple set by the core's commitment (repurchase > guarantee > none), capped by a
share of the twelve months' purchases; the dealer's price is the core's grade (raised one notch
by a commitment) priced by the same document, plus a dealer premium. See ADR 0037.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal

import polars as pl

from puhui.decision.engine import CompiledStrategy
from puhui.decision.outcome import Decision, ModelResult, Outcome
from puhui.decision.strategy import Problem, StrategyInvalid, load_shipped_strategy
from puhui.domain.errors import InvalidInput, NotFound

STRATEGY_NAME = "supply-chain-finance"
LICENCE_TYPE = "bank"
"""Vouchers are discounted and dealer loans made by the bank."""
DAYS_PER_YEAR = 365
CORE_SIZE_BANDS = frozenset({"medium", "small"})

Commitment = Literal["repurchase", "guarantee", "none"]
COMMITMENTS: tuple[str, ...] = ("repurchase", "guarantee", "none")


class UnknownCoreEnterprise(NotFound):
    """The sources hold no registration of the enterprise (as of the decision date)."""

    code = "unknown_enterprise"


class InvalidDealerFacts(InvalidInput):
    """Dealer facts that cannot be sized (wrong number of months, unknown commitment...)."""

    code = "invalid_dealer_facts"


@dataclass(frozen=True, slots=True)
class CoreFacts:
    """The core enterprise's own data, from the market sources at ``as_of``."""

    uscc: str
    enterprise_age_months: int
    owner_age_years: int | None
    annual_sales_fen: int
    monthly_sales_fen: int
    tax_grade: str | None
    court_cases_open: int
    overdue_count_24m: int
    current_overdue_count: int
    abnormal_operation_listed: bool
    size_band: str
    requested_fen: int
    blacklisted: bool = False
    as_of: dt.date | None = None
    """The decision date (pricing reads the LPR in force that day); None: today."""
    requested_term_months: int | None = None

    def strategy_inputs(self) -> dict[str, Any]:
        """The facts as the document's inputs (names and types of its ``inputs``)."""
        return {
            "requested_amount_fen": self.requested_fen,
            "requested_term_months": self.requested_term_months,
            "annual_sales_fen": self.annual_sales_fen,
            "monthly_sales_fen": self.monthly_sales_fen,
            "enterprise_age_months": self.enterprise_age_months,
            "owner_age_years": self.owner_age_years,
            "size_band": self.size_band,
            "tax_grade": self.tax_grade,
            "overdue_count_24m": self.overdue_count_24m,
            "current_overdue_count": self.current_overdue_count,
            "court_cases_open": self.court_cases_open,
            "blacklisted": self.blacklisted,
            "abnormal_operation_listed": self.abnormal_operation_listed,
        }


@dataclass(frozen=True, slots=True)
class FacilityDecision:
    """The core's facility: approved or not, grade, limit, voucher pricing, term, reasons."""

    approved: bool
    grade: str | None
    limit_fen: int
    discount_annual_rate: Decimal | None
    fee_rate: Decimal
    term_days: int
    reasons: tuple[str, ...]
    strategy_version: str
    outcome: str = "approve"
    """approve | decline | refer (a referral is not approved: a person decides)."""
    term_months: int | None = None
    core_score: float | None = None
    proposed_limit_fen: int = 0
    """The limit the strategy computed, also on a referral (0 on a decline)."""


@dataclass(frozen=True, slots=True)
class DealerFacts:
    """A dealer of a core enterprise: its purchases from the core and its own record."""

    dealer_uscc: str
    core_uscc: str
    purchases_12m_fen: int
    monthly_purchases_fen: tuple[int, ...]
    """The twelve months before the decision, oldest first (0 for a month with no invoice)."""
    core_commitment: str
    """repurchase | guarantee | none: what the core undertakes for the dealer's debt."""
    core_grade: str | None
    """The core's grade from its facility decision (None: the core has no facility)."""
    first_month: dt.date | None = None
    """The calendar month of ``monthly_purchases_fen[0]`` (first day), when known."""
    requested_fen: int | None = None
    enterprise_age_months: int | None = None
    tax_grade: str | None = None
    current_overdue_count: int = 0
    court_cases_open: int = 0
    blacklisted: bool = False
    abnormal_operation_listed: bool = False
    as_of: dt.date | None = None


@dataclass(frozen=True, slots=True)
class DealerDecision:
    approved: bool
    limit_fen: int
    annual_rate: Decimal | None
    reasons: tuple[str, ...]
    seasonal_peak_month: int | None
    """Calendar month (1-12) of the dealer's highest purchases (None when ``first_month`` is
    unknown or there were none)."""
    peak_average_fen: int = 0
    """Average of the three highest months of purchases."""
    multiple: Decimal = Decimal(0)
    cap_fen: int = 0
    """Share of twelve months' purchases the line may not exceed."""
    grade: str | None = None
    """The grade priced: the core's, raised one notch by a repurchase or guarantee."""
    term_months: int = 12


@dataclass(frozen=True, slots=True)
class DealerTerms:
    """The dealer product's parameters (ADR 0037 explains why they are here, not in YAML)."""

    peak_months: int = 3
    multiple_by_commitment: Mapping[str, Decimal] = field(
        default_factory=lambda: {
            "repurchase": Decimal("2.5"),
            "guarantee": Decimal("2.0"),
            "none": Decimal("1.5"),
        }
    )
    """The line covers this many peak months of purchases."""
    cap_share_by_commitment: Mapping[str, Decimal] = field(
        default_factory=lambda: {
            "repurchase": Decimal("0.35"),
            "guarantee": Decimal("0.30"),
            "none": Decimal("0.25"),
        }
    )
    """... but at most this share of the twelve months' purchases."""
    premium_by_commitment: Mapping[str, Decimal] = field(
        default_factory=lambda: {
            "repurchase": Decimal("0.0050"),
            "guarantee": Decimal("0.0100"),
            "none": Decimal("0.0200"),
        }
    )
    """Added to the core's price of the (raised) grade: the dealer's own risk."""
    rate_cap: Decimal = Decimal("0.1200")
    product_cap_fen: int = 3_000_000_000  # RMB 30 million
    minimum_fen: int = 5_000_000  # RMB 50,000
    step_fen: int = 100_000  # RMB 1,000
    minimum_active_months: int = 6
    minimum_age_months: int = 12
    maximum_court_cases: int = 1
    term_months: int = 12


DEALER_REASONS: dict[str, tuple[str, str]] = {
    "CORE_NOT_APPROVED": ("核心企业未获得有效授信", "The core enterprise has no approved facility"),
    "NO_PURCHASES": (
        "近12个月未向核心企业采购",
        "No purchases from the core enterprise in the last 12 months",
    ),
    "PURCHASES_IRREGULAR": (
        "近12个月向核心企业采购的月份不足6个月",
        "Purchases from the core enterprise in fewer than 6 of the last 12 months",
    ),
    "BLACKLISTED": (
        "经销商或其法定代表人在禁入名单中",
        "The dealer or its legal representative is on a prohibited list",
    ),
    "ABNORMAL_OPERATION": (
        "经销商被列入经营异常名录",
        "The dealer is listed for abnormal operation",
    ),
    "TAX_GRADE_TOO_LOW": ("纳税信用等级为C级或D级", "The tax credit rating is C or D"),
    "CURRENTLY_OVERDUE": ("经销商当前存在逾期贷款", "The dealer has a loan currently overdue"),
    "COURT_CASES_TOO_MANY": (
        "经销商作为被告的未结诉讼过多",
        "The dealer is defendant in too many open court cases",
    ),
    "DEALER_TOO_YOUNG": (
        "经销商成立时间不足12个月",
        "The dealer has been registered for less than 12 months",
    ),
    "LIMIT_TOO_SMALL": (
        "可核定额度低于产品最低额度",
        "The amount that can be granted is below the product minimum",
    ),
}
"""Dealer reason codes: (zh-CN, en)."""


def _notch_up(grade: str, grades: Sequence[str]) -> str:
    index = grades.index(grade)
    return grades[max(index - 1, 0)]


class SupplyChainPolicy:
    """The shipped supply-chain strategy: core facility, voucher pricing and dealer lines."""

    def __init__(
        self,
        strategy: CompiledStrategy,
        *,
        dealer_terms: DealerTerms | None = None,
        today: dt.date | None = None,
    ) -> None:
        self.strategy = strategy
        self.dealer_terms = dealer_terms or DealerTerms()
        self._today = today
        self._fees: dict[str, Decimal] = {}
        for rule in strategy.document.grading.table.rules:
            grade = str(rule.then["grade"])
            fee = rule.then.get("fee_rate")
            if grade in strategy.declined_grades:
                continue
            if fee is None:
                raise StrategyInvalid(
                    [Problem("grading.table", f"grade {grade!r} sets no fee_rate")],
                    source=strategy.version,
                )
            value = Decimal(str(fee))
            if self._fees.setdefault(grade, value) != value or not 0 <= value < 1:
                raise StrategyInvalid(
                    [
                        Problem(
                            "grading.table",
                            f"grade {grade!r}: fee_rate differs or is not in [0, 1)",
                        )
                    ],
                    source=strategy.version,
                )
        self.lending_grades: tuple[str, ...] = tuple(self._fees)
        """Best first, as the grading table lists them."""

    @classmethod
    def load(cls) -> SupplyChainPolicy:
        """The policy of the shipped document."""
        return cls(load_shipped_strategy(STRATEGY_NAME))

    @property
    def version(self) -> str:
        return self.strategy.version

    def _date(self, as_of: dt.date | None) -> dt.date:
        return as_of or self._today or dt.datetime.now(dt.UTC).date()

    def evaluate(self, facts: CoreFacts, *, trace: bool = False) -> Decision:
        """The engine's decision on the core's facts (with its trace when asked)."""
        return self.strategy.evaluate(
            facts.strategy_inputs(),
            ModelResult(None, None),
            as_of=self._date(facts.as_of),
            licence_type=LICENCE_TYPE,
            trace=trace,
        )

    def decide_facility(self, facts: CoreFacts) -> FacilityDecision:
        decision = self.evaluate(facts)
        score = self.strategy.features(facts.strategy_inputs()).get("core_score")
        approved = decision.outcome is Outcome.APPROVE
        grade = decision.grade if decision.grade in self._fees else None
        months = decision.term_months
        return FacilityDecision(
            approved=approved,
            grade=grade,
            limit_fen=decision.limit_fen if approved else 0,
            discount_annual_rate=decision.annual_rate if grade is not None else None,
            fee_rate=self._fees[grade] if grade is not None else Decimal(0),
            term_days=0 if months is None else DAYS_PER_YEAR * months // 12,
            reasons=decision.reasons,
            strategy_version=decision.strategy_version,
            outcome=decision.outcome.value,
            term_months=months,
            core_score=None if score is None else float(score),
            proposed_limit_fen=decision.limit_fen,
        )

    def discount_rate(self, grade: str, *, as_of: dt.date | None = None) -> Decimal:
        """The annual discount rate of a core's vouchers: LPR + the grade's spread, within the
        floor and cap (the LPR in force on ``as_of``, default today)."""
        self._lending(grade)
        return self.strategy.rate((grade, self._date(as_of), LICENCE_TYPE))

    def fee_rate(self, grade: str) -> Decimal:
        """The fee rate on a voucher's face when it is discounted, by the core's grade."""
        return self._fees[self._lending(grade)]

    def _lending(self, grade: str) -> str:
        if grade not in self._fees:
            raise InvalidInput(
                f"grade {grade!r} does not lend (lending grades: {', '.join(self._fees)})",
                details={"field": "grade"},
            )
        return grade

    def dealer_limit(self, facts: DealerFacts) -> DealerDecision:
        """Size a dealer's line from its purchases from the core (see the module text)."""
        terms = self.dealer_terms
        months = facts.monthly_purchases_fen
        if len(months) != 12 or any(m < 0 for m in months):
            raise InvalidDealerFacts(
                "monthly_purchases_fen holds the 12 months before the decision, none negative",
                details={"field": "monthly_purchases_fen"},
            )
        if facts.core_commitment not in COMMITMENTS:
            raise InvalidDealerFacts(
                f"core_commitment must be one of {', '.join(COMMITMENTS)}",
                details={"field": "core_commitment"},
            )
        if sum(months) != facts.purchases_12m_fen:
            raise InvalidDealerFacts(
                "purchases_12m_fen is not the sum of the monthly purchases",
                details={"field": "purchases_12m_fen"},
            )
        peak_index = max(range(12), key=lambda k: (months[k], k)) if any(months) else None
        peak_month = None
        if peak_index is not None and facts.first_month is not None:
            peak_month = (facts.first_month.month - 1 + peak_index) % 12 + 1
        top = sorted(months, reverse=True)[: terms.peak_months]
        peak_average = sum(top) // terms.peak_months
        multiple = terms.multiple_by_commitment[facts.core_commitment]
        share = terms.cap_share_by_commitment[facts.core_commitment]
        cap = int(facts.purchases_12m_fen * share)  # Decimal x int: exact, floored
        sized = DealerDecision(
            approved=False,
            limit_fen=0,
            annual_rate=None,
            reasons=tuple(self._dealer_knockouts(facts)),
            seasonal_peak_month=peak_month,
            peak_average_fen=peak_average,
            multiple=multiple,
            cap_fen=cap,
            term_months=terms.term_months,
        )
        if sized.reasons or facts.core_grade is None:
            return sized
        lowest = min(int(peak_average * multiple), cap, terms.product_cap_fen)
        if facts.requested_fen is not None:
            lowest = min(lowest, facts.requested_fen)
        limit = max(lowest, 0) // terms.step_fen * terms.step_fen
        grade = facts.core_grade
        if facts.core_commitment != "none":
            grade = _notch_up(grade, self.lending_grades)
        if limit < terms.minimum_fen:
            return replace(sized, reasons=("LIMIT_TOO_SMALL",), grade=grade)
        rate = self.strategy.rate((grade, self._date(facts.as_of), LICENCE_TYPE))
        rate = min(rate + terms.premium_by_commitment[facts.core_commitment], terms.rate_cap)
        return replace(sized, approved=True, limit_fen=limit, annual_rate=rate, grade=grade)

    def _dealer_knockouts(self, facts: DealerFacts) -> list[str]:
        terms = self.dealer_terms
        reasons: list[str] = []
        if facts.core_grade not in self._fees:
            reasons.append("CORE_NOT_APPROVED")
        if facts.blacklisted:
            reasons.append("BLACKLISTED")
        if facts.abnormal_operation_listed:
            reasons.append("ABNORMAL_OPERATION")
        if facts.tax_grade in ("C", "D"):
            reasons.append("TAX_GRADE_TOO_LOW")
        if facts.current_overdue_count >= 1:
            reasons.append("CURRENTLY_OVERDUE")
        if facts.court_cases_open > terms.maximum_court_cases:
            reasons.append("COURT_CASES_TOO_MANY")
        if (
            facts.enterprise_age_months is not None
            and facts.enterprise_age_months < terms.minimum_age_months
        ):
            reasons.append("DEALER_TOO_YOUNG")
        active = sum(1 for m in facts.monthly_purchases_fen if m > 0)
        if active == 0:
            reasons.append("NO_PURCHASES")
        elif active < terms.minimum_active_months:
            reasons.append("PURCHASES_IRREGULAR")
        return reasons

    def explain(self, reasons: Sequence[str], language: str = "zh") -> list[str]:
        """Texts of facility or dealer reason codes (zh-CN or en)."""
        chinese = language.startswith("zh")
        texts = []
        for code in reasons:
            found = self.strategy.reasons.get(code)
            pair = (found[0], found[1]) if found is not None else DEALER_REASONS.get(code)
            texts.append(code if pair is None else pair[0] if chinese else pair[1])
        return texts


# --- facts from the market sources -----------------------------------------------------------


def _frames(pulled: Mapping[Any, Any]) -> dict[str, pl.DataFrame]:
    """Market tables by name from what ``MarketDataSource.pull`` returned: one pull result
    (``{"tables": {...}}``), several by scope, or the tables themselves."""
    frames: dict[str, pl.DataFrame] = {}

    def absorb(value: Any) -> None:
        for name, frame in value.items():
            frames[str(name)] = frame if isinstance(frame, pl.DataFrame) else frame.collect()

    if "tables" in pulled:
        absorb(pulled["tables"])
    for key, value in pulled.items():
        if isinstance(value, Mapping) and "tables" in value:
            absorb(value["tables"])
        elif isinstance(value, pl.DataFrame | pl.LazyFrame) and key != "tables":
            absorb({key: value})
    return frames


def _rows(frames: Mapping[str, pl.DataFrame], name: str, uscc: str) -> pl.DataFrame | None:
    """The enterprise's rows of a table, or None when the table was not pulled."""
    found = frames.get(name)
    return None if found is None else found.filter(pl.col("uscc") == uscc)


def _overdues(bureau: pl.DataFrame | None, cutoff: dt.date) -> tuple[int, int]:
    """(months overdue in the 24 before the cutoff, loans overdue in the latest month): the
    online strategy's definitions (``risk.enterprise_inputs``; a test holds them equal)."""
    if bureau is None:
        return 0, 0
    known = bureau.filter(pl.col("month") < cutoff).sort("month")
    if known.height == 0:
        return 0, 0
    since = dt.date(cutoff.year - 2, cutoff.month, 1)
    recent = known.filter(pl.col("month") >= since)
    episodes = int(recent.filter(pl.col("overdue_loans") > 0).height)
    return episodes, int(known.get_column("overdue_loans").item(-1) or 0)


def _open_cases(court: pl.DataFrame | None, cutoff: dt.date) -> int:
    """Cases filed against the enterprise before the cutoff and not closed by then."""
    if court is None:
        return 0
    known = court.filter(pl.col("month") < cutoff)
    closed = set(known.filter(pl.col("event") == "closed").get_column("case_id"))
    filed = known.filter((pl.col("event") == "filed") & (pl.col("role") == "defendant"))
    return sum(1 for case in filed.get_column("case_id") if case not in closed)


def _months_between(later: dt.date, earlier: dt.date) -> int:
    return (later.year - earlier.year) * 12 + later.month - earlier.month


def core_facts_from_sources(
    pulled: Mapping[Any, Any],
    *,
    uscc: str,
    as_of: dt.date,
    requested_fen: int,
    requested_term_months: int | None = None,
    blacklisted: bool = False,
    abnormal_operation_listed: bool = False,
) -> CoreFacts:
    """The core's facts from its pulled rows (registration, tax, bureau, court scopes).

    Point in time: only months before ``as_of``'s month are read. Sales are the latest twelve
    VAT filings; overdues and open cases use the online strategy's definitions
    (``risk.enterprise_inputs``). The registry does not list abnormal operation and the bank
    screens its blacklists: the caller passes both.
    """
    frames = _frames(pulled)
    cutoff = dt.date(as_of.year, as_of.month, 1)
    enterprise = _rows(frames, "enterprises", uscc)
    if enterprise is not None:
        enterprise = enterprise.filter(pl.col("registration_date") < as_of)
    if enterprise is None or enterprise.height == 0:
        raise UnknownCoreEnterprise(
            f"no registration of enterprise {uscc} before {as_of}", details={"uscc": uscc}
        )
    row = enterprise.row(0, named=True)
    owner_age = None
    owners = frames.get("owners")
    if owners is not None:
        owners = owners.filter(pl.col("id_number") == row["legal_rep_id_number"])
        if owners.height:
            owner_age = _months_between(cutoff, owners.row(0, named=True)["birth_date"]) // 12
    tax = _rows(frames, "tax_monthly", uscc)
    tax = None if tax is None else tax.filter(pl.col("month") < cutoff).sort("month")
    tax_grade = None
    annual = 0
    if tax is not None and tax.height:
        tax_grade = tax.get_column("tax_credit_grade").item(-1)
        # The latest twelve filings, as the online strategy's verified sales.
        annual = int(tax.tail(12).get_column("declared_sales_fen").sum())
    overdue_24m, overdue_now = _overdues(_rows(frames, "bureau", uscc), cutoff)
    age = _months_between(cutoff, row["registration_date"])
    return CoreFacts(
        uscc=uscc,
        enterprise_age_months=age,
        owner_age_years=owner_age,
        annual_sales_fen=annual,
        monthly_sales_fen=annual // 12,
        tax_grade=tax_grade,
        court_cases_open=_open_cases(_rows(frames, "court_cases", uscc), cutoff),
        overdue_count_24m=overdue_24m,
        current_overdue_count=overdue_now,
        abnormal_operation_listed=abnormal_operation_listed,
        size_band=str(row["size_band"]),
        requested_fen=requested_fen,
        blacklisted=blacklisted,
        as_of=as_of,
        requested_term_months=requested_term_months,
    )


def dealer_purchases(
    invoices: pl.DataFrame, *, core_uscc: str, dealer_uscc: str, as_of: dt.date
) -> tuple[dt.date, tuple[int, ...]]:
    """The dealer's purchases from the core in each of the 12 complete months before
    ``as_of``'s month (oldest first, 0 where no invoice), and the first of those months."""
    cutoff = dt.date(as_of.year, as_of.month, 1)
    first = dt.date(cutoff.year - 1, cutoff.month, 1)
    rows = invoices.filter(
        (pl.col("seller_uscc") == core_uscc)
        & (pl.col("buyer_uscc") == dealer_uscc)
        & (pl.col("month") >= first)
        & (pl.col("month") < cutoff)
    )
    by_month: dict[dt.date, int] = {}
    for month, amount in rows.select("month", "amount_fen").iter_rows():
        by_month[month] = by_month.get(month, 0) + int(amount)
    months = []
    for k in range(12):
        index = first.month - 1 + k
        months.append(by_month.get(dt.date(first.year + index // 12, index % 12 + 1, 1), 0))
    return first, tuple(months)


def dealer_facts_from_sources(
    pulled: Mapping[Any, Any],
    *,
    dealer_uscc: str,
    core_uscc: str,
    core_commitment: str,
    core_grade: str | None,
    as_of: dt.date,
    requested_fen: int | None = None,
    blacklisted: bool = False,
    abnormal_operation_listed: bool = False,
) -> DealerFacts:
    """The dealer's facts from its pulled rows (invoice, registration, tax, bureau, court)."""
    frames = _frames(pulled)
    invoices = frames.get("invoices")
    if invoices is None:
        raise InvalidDealerFacts(
            "the dealer's invoices were not pulled", details={"field": "invoices"}
        )
    first, months = dealer_purchases(
        invoices, core_uscc=core_uscc, dealer_uscc=dealer_uscc, as_of=as_of
    )
    own = core_facts_from_sources(
        frames, uscc=dealer_uscc, as_of=as_of, requested_fen=requested_fen or 0
    )
    return DealerFacts(
        dealer_uscc=dealer_uscc,
        core_uscc=core_uscc,
        purchases_12m_fen=sum(months),
        monthly_purchases_fen=months,
        core_commitment=core_commitment,
        core_grade=core_grade,
        first_month=first,
        requested_fen=requested_fen,
        enterprise_age_months=own.enterprise_age_months,
        tax_grade=own.tax_grade,
        current_overdue_count=own.current_overdue_count,
        court_cases_open=own.court_cases_open,
        blacklisted=blacklisted,
        abnormal_operation_listed=abnormal_operation_listed,
        as_of=as_of,
    )


__all__ = [
    "COMMITMENTS",
    "DEALER_REASONS",
    "STRATEGY_NAME",
    "CoreFacts",
    "DealerDecision",
    "DealerFacts",
    "DealerTerms",
    "FacilityDecision",
    "InvalidDealerFacts",
    "SupplyChainPolicy",
    "UnknownCoreEnterprise",
    "core_facts_from_sources",
    "dealer_facts_from_sources",
    "dealer_purchases",
]
