"""The strategy document schema (pydantic): what a risk officer writes, checked at the edge."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)

from puhui.decision.errors import InvalidDocumentValue

SCHEMA_VERSION = 1


def _exact_decimal(value: Any) -> Any:
    # YAML reads 0.05 as a float; going through repr keeps the digits the author wrote
    # instead of the binary approximation.
    if isinstance(value, bool):
        raise InvalidDocumentValue("a boolean is not a number")
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


ExactDecimal = Annotated[Decimal, BeforeValidator(_exact_decimal)]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Code = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$", max_length=64)]
CellText = str | int | float | bool | None
OutputValue = str | int | float | bool


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InputType(StrEnum):
    NUMBER = "number"
    INTEGER = "integer"
    FEN = "fen"
    """An amount of money in fen: a non-negative integer."""
    STRING = "string"
    BOOLEAN = "boolean"


class InputSpec(_Strict):
    type: InputType
    required: bool = False
    description: str = ""
    allowed: tuple[str, ...] | None = None
    """For strings: the only values accepted."""


class RuleSpec(_Strict):
    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=64)]
    description: str = ""
    when: dict[str, CellText] = Field(default_factory=dict)
    """Column name -> cell (see the cell syntax); an omitted column matches anything."""
    then: dict[str, OutputValue] = Field(default_factory=dict)
    reason: Code | None = None


class TableSpec(_Strict):
    hit_policy: Literal["first", "collect"]
    description: str = ""
    rules: tuple[RuleSpec, ...]


class ModelSpec(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    version: str | None = None
    """Pin a model version; empty means whatever the registry marks as production."""


class GradingSpec(_Strict):
    table: TableSpec
    """A ``first`` table over ``pd`` and/or ``score`` whose rules set ``then: {grade: X}``."""
    declined_grades: tuple[str, ...] = ()
    unmatched_reason: Code
    """Reason for a referral when no grade row matches (e.g. the model returned no PD)."""


class AffordabilitySpec(_Strict):
    basis: Name
    """A ``fen`` input: verified monthly sales or tax."""
    multiple_by_grade: dict[str, ExactDecimal]


class ClusterMultipliers(_Strict):
    """The limit multiplier of named clusters of one dimension (dynamic policy: concentration).

    An applicant whose ``input`` names a listed cluster gets its limit multiplied by that
    cluster's multiplier (0 = no new lending there); unlisted clusters and a missing input
    leave the limit as it is. Set through the strategy lifecycle, never silently: a
    concentration breach proposes a draft version with the breached cluster added here.
    """

    input: Name
    """A ``string`` input: the applicant's cluster in this dimension (e.g. its industry code)."""
    by_cluster: dict[str, ExactDecimal] = Field(default_factory=dict)


class LimitAdjustmentSpec(_Strict):
    """A rule-based limit adjustment (dynamic policy: an industry downturn tightens limits).

    When every cell of ``when`` holds (columns: inputs, computed values, ``pd``, ``score``,
    ``grade``), the limit the caps allow is multiplied by ``multiplier`` before it is rounded
    down to the step and checked against the minimum; when several rules hold, the most
    restrictive applies. A missing input matches no range, so a rule never fires on missing
    evidence. The hit is in the decision's trace and its ``reason`` among the decision's reasons.
    """

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=64)]
    description: str = ""
    when: dict[str, CellText] = Field(min_length=1)
    multiplier: ExactDecimal
    """Between 0 (no new lending) and 1: an adjustment only tightens."""
    reason: Code


class LimitSpec(_Strict):
    requested: Name
    need: Name | None = None
    headroom: Name | None = None
    """Concentration headroom for the applicant's industry and region, provided by the caller."""
    affordability: tuple[AffordabilitySpec, ...] = Field(min_length=1)
    product_cap_yuan: ExactDecimal
    step_yuan: ExactDecimal = Decimal(1000)
    minimum_yuan: ExactDecimal
    below_minimum_reason: Code
    cluster_limit_multiplier: dict[Name, ClusterMultipliers] = Field(default_factory=dict)
    """By dimension (industry, region, park, core_enterprise, guarantee_circle): the clusters
    whose new limits are cut. The strictest multiplier of the applicant's clusters applies."""
    adjustments: tuple[LimitAdjustmentSpec, ...] = ()
    """Rules that cut the limit on conditions (see :class:`LimitAdjustmentSpec`), applied after
    the cluster multiplier."""

    @model_serializer(mode="wrap")
    def _without_empty_multipliers(self, handler: SerializerFunctionWrapHandler) -> Any:
        # A document without multipliers serialises (and hashes) as it did before they existed.
        data = handler(self)
        if isinstance(data, dict) and not data.get("cluster_limit_multiplier"):
            data.pop("cluster_limit_multiplier", None)
        if isinstance(data, dict) and not data.get("adjustments"):
            data.pop("adjustments", None)
        return data


class LprPoint(_Strict):
    effective_from: dt.date
    rate: ExactDecimal


class LegalCapSpec(_Strict):
    fixed: ExactDecimal | None = None
    lpr_multiple: ExactDecimal | None = None
    """A cap of N x the 1-year LPR on the decision date (the courts' rule for private lending)."""


class PricingAdjustmentSpec(_Strict):
    """One rule of ``pricing.adjustments``: when every cell of ``when`` matches (the cell
    syntax of the decision tables), ``spread_delta`` is added to the grade's spread. Every
    matching rule applies; the floor, the product cap and the legal cap still bound the rate
    (e.g. a green-loan discount of -0.003 when ``green_label`` is ``green``)."""

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$", max_length=64)]
    description: str = ""
    when: dict[str, CellText] = Field(default_factory=dict)
    spread_delta: ExactDecimal


class PricingSpec(_Strict):
    lpr: str | tuple[LprPoint, ...] = "lpr_1y"
    """The name of a shipped LPR table, or the dated points themselves."""
    spread_by_grade: dict[str, ExactDecimal]
    floor: ExactDecimal
    cap: ExactDecimal
    legal_caps: dict[str, LegalCapSpec] = Field(min_length=1)
    """By licence type; the decision's licence type must be one of these."""
    adjustments: tuple[PricingAdjustmentSpec, ...] = ()
    """Spread adjustments by the applicant's inputs, added to the grade's spread."""

    @model_serializer(mode="wrap")
    def _without_empty_adjustments(self, handler: SerializerFunctionWrapHandler) -> Any:
        # A document without adjustments serialises (and hashes) as it did before they existed.
        data = handler(self)
        if isinstance(data, dict) and not data.get("adjustments"):
            data.pop("adjustments", None)
        return data


class TermSpec(_Strict):
    requested: Name | None = None
    default_months: int = Field(gt=0)
    max_by_grade: dict[str, int]
    allowed_months: tuple[int, ...] = Field(min_length=1)


class ReasonSpec(_Strict):
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    adverse: bool = True
    """Whether it counts against the applicant (shown in a decline notice)."""


class PreapprovalSpec(_Strict):
    """Pre-approval mode (主动授信): the same strategy run in batch before the enterprise applies.

    Only data the bank may read before the enterprise's consent is used
    (``sources_before_consent``: market table names); the amount "requested" is the need
    model's conservative floor, so the indicative limit never exceeds the estimated need.
    """

    validity_days: int = Field(gt=0, le=366)
    """Days after the as-of month's end that the indicative offer stands."""
    minimum_need_probability: ExactDecimal
    """Enterprises less likely than this to need credit in the next 3 months are not listed."""
    need_unlikely_reason: Code
    sources_before_consent: tuple[Name, ...] = Field(min_length=1)
    """Market tables the run may read (public registry, courts, the bank's own records)."""
    affordability: tuple[AffordabilitySpec, ...] = ()
    """Affordability on pre-consent bases; empty: the limit section's (usually tax-based, so
    missing before consent: an empty list here and tax bases there give no limit)."""
    product_cap_yuan: ExactDecimal | None = None
    """A tighter cap for unsolicited offers; None: the product cap."""
    invited_grades: tuple[str, ...] = ()
    """The grades invited (empty: every grade that lends). A PD from data before consent is
    less sure than the one the application gets: a bank invites its best grades only."""
    grade_not_invited_reason: Code | None = None
    """Why a lending grade outside ``invited_grades`` is not invited (needed with them)."""


class RenewalSpec(_Strict):
    """Renewal mode (无还本续贷): which maturing loans the bank renews without principal
    repayment. The loan-change service decides with the active version's section in the window
    before maturity (docs/loan-changes.md); a loan in arrears is refused before these rules."""

    window_days: int = Field(default=30, gt=0, le=90)
    """A renewal is decided from this many days before maturity until the day before."""
    max_renewals: int = Field(default=3, ge=0, le=10)
    """Renewals already in the loan's chain at which the next one is declined."""
    worst_category: Literal["pass", "special-mention"] = "pass"
    """The worst stored risk category (五级分类) still renewed."""
    max_open_alerts: int = Field(default=0, ge=0, le=100)
    """Open post-loan monitoring alerts of the enterprise still renewed."""
    max_term_months: int = Field(default=12, gt=0, le=60)
    """The longest term a renewal may run."""


class StrategyDocument(_Strict):
    schema_version: Literal[1] = 1
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=64)]
    version: int = Field(ge=1)
    description: str = ""
    inputs: dict[Name, InputSpec] = Field(min_length=1)
    computed: dict[Name, str] = Field(default_factory=dict)
    """Derived values, in order: name -> expression over inputs and earlier computed values."""
    models: tuple[ModelSpec, ...] = ()
    knockouts: TableSpec
    fraud: TableSpec
    """Rules set ``then: {action: decline}`` or ``then: {action: refer}``."""
    grading: GradingSpec
    limit: LimitSpec
    pricing: PricingSpec
    term: TermSpec
    referrals: TableSpec
    reasons: dict[Code, ReasonSpec]
    preapproval: PreapprovalSpec | None = None
    """Optional: a strategy without it cannot be run in pre-approval mode."""
    renewal: RenewalSpec | None = None
    """Optional: a strategy without it renews nothing (the service refuses ``no_renewal_mode``)."""

    @model_serializer(mode="wrap")
    def _without_absent_modes(self, handler: SerializerFunctionWrapHandler) -> Any:
        # A document without a mode's section serialises (and hashes) as it did before the
        # section existed.
        data = handler(self)
        if isinstance(data, dict):
            for mode in ("preapproval", "renewal"):
                if data.get(mode) is None:
                    data.pop(mode, None)
        return data


def json_schema() -> dict[str, Any]:
    """The published JSON Schema of strategy documents."""
    schema = StrategyDocument.model_json_schema()
    schema["$id"] = "https://puhui.dev/schemas/strategy-v1.json"
    schema["title"] = "Puhui credit strategy"
    return schema
