"""Renewal mode of the strategy (无还本续贷): the active version's ``renewal:`` section decides,
read at each renewal, so a newly activated version takes effect for the next one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
import yaml

from puhui.bootstrap import Platform
from puhui.bootstrap.loan_changes import loan_changes
from puhui.decision.document import StrategyDocument
from puhui.decision.renewal import NoRenewalMode, renewal_rules
from puhui.decision.strategy import content_hash, parse_document, shipped_strategy_text
from puhui.domain.clock import FixedClock
from puhui.domain.errors import PuhuiError
from puhui.domain.ids import LoanId
from puhui.domain.lending.delinquency import FiveCategory
from puhui.domain.lending.loan_changes import RenewalFacts
from puhui.services import strategies
from puhui.services.security.permissions import Principal, Role

SHIPPED = "mse-online-credit"
MANAGER = Principal(user_id="usr_manager", role=Role.ACCOUNT_MANAGER)
IN_WINDOW = date(2026, 1, 20)  # a one-month loan from 2026-01-02 matures on 2026-02-02


def _document(text: str) -> StrategyDocument:
    document, _ = parse_document(text, source="test")
    return document


def _facts(**overrides: object) -> RenewalFacts:
    values: dict[str, object] = {
        "on": IN_WINDOW,
        "maturity_date": date(2026, 2, 2),
        "days_past_due": 0,
        "in_arrears": False,
        "open_alerts": 0,
        "category": FiveCategory.PASS,
        "renewals_so_far": 0,
        "term_months": 12,
    }
    values.update(overrides)
    return RenewalFacts(**values)  # type: ignore[arg-type]


def test_the_shipped_strategy_has_a_renewal_mode_mapped_onto_the_rules() -> None:
    rules = renewal_rules(_document(shipped_strategy_text(SHIPPED)), label=f"{SHIPPED}@1")
    assert (rules.window_days, rules.max_renewals, rules.worst_category) == (
        30,
        3,
        FiveCategory.PASS,
    )
    assert (rules.max_open_alerts, rules.max_term_months) == (0, 12)
    assert rules.version == f"strategy:{SHIPPED}@1"
    assert rules.decide(_facts()).approved
    declined = rules.decide(_facts(term_months=13, open_alerts=1))
    assert declined.reasons == ("monitoring_alerts_open", "term_over_limit")
    assert declined.rules_version == f"strategy:{SHIPPED}@1"


def test_a_section_tolerating_alerts_and_special_mention_renews_them() -> None:
    data = yaml.safe_load(shipped_strategy_text(SHIPPED))
    data["renewal"] = {"worst_category": "special-mention", "max_open_alerts": 2}
    rules = renewal_rules(_document(yaml.safe_dump(data)), label="x@2")
    assert rules.decide(_facts(open_alerts=2, category=FiveCategory.SPECIAL_MENTION)).approved
    assert not rules.decide(_facts(open_alerts=3)).approved
    assert not rules.decide(_facts(category=FiveCategory.SUBSTANDARD)).approved


def test_a_strategy_without_the_section_renews_nothing_and_hashes_as_before() -> None:
    data = yaml.safe_load(shipped_strategy_text(SHIPPED))
    del data["renewal"]
    document = _document(yaml.safe_dump(data))
    with pytest.raises(NoRenewalMode) as refused:
        renewal_rules(document, label="x@3")
    assert refused.value.code == "no_renewal_mode"
    assert "renewal" not in document.model_dump()
    with_section = _document(shipped_strategy_text(SHIPPED))
    assert content_hash(document) != content_hash(with_section)


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ({"window_days": 0}, "window_days"),
        ({"worst_category": "loss"}, "worst_category"),
        ({"max_term_months": 61}, "max_term_months"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_a_bad_renewal_section_is_refused_naming_the_field(
    section: dict[str, object], field: str
) -> None:
    data = yaml.safe_load(shipped_strategy_text(SHIPPED))
    data["renewal"] = section
    with pytest.raises(PuhuiError) as refused:
        _document(yaml.safe_dump(data))
    assert field in str(refused.value)


def test_activating_a_new_version_changes_the_next_renewal_without_a_restart(
    changes_platform: Platform,
    clock: FixedClock,
    disburse: Callable[..., LoanId],
) -> None:
    changes_platform.migrate()  # the shipped strategy becomes the active version 1
    access = loan_changes(changes_platform)
    first = disburse(principal_fen=50_000_00, term_months=1)
    second = disburse(principal_fen=60_000_00, term_months=1)
    renewed = access.renew(
        MANAGER, loan_id=first, term_months=12, reason="good", idempotency_key="m-1", on=IN_WINDOW
    )
    assert (renewed.decision, renewed.rules_version) == ("approved", f"strategy:{SHIPPED}@1")

    data = yaml.safe_load(shipped_strategy_text(SHIPPED))
    data["version"] = 2
    data["renewal"]["max_term_months"] = 6
    uow = changes_platform.strategy_uow
    draft = strategies.create_draft(uow, text=yaml.safe_dump(data), actor="risk", clock=clock)
    strategies.submit(uow, SHIPPED, draft.version, actor="risk", clock=clock)
    strategies.approve(uow, SHIPPED, draft.version, actor="risk2", clock=clock)
    strategies.activate(uow, SHIPPED, draft.version, actor="risk2", clock=clock)

    declined = access.renew(
        MANAGER, loan_id=second, term_months=12, reason="good", idempotency_key="m-2", on=IN_WINDOW
    )
    assert (declined.decision, declined.reasons) == ("declined", "term_over_limit")
    assert declined.rules_version == f"strategy:{SHIPPED}@{draft.version}"
    shorter = access.renew(
        MANAGER, loan_id=second, term_months=6, reason="good", idempotency_key="m-3", on=IN_WINDOW
    )
    assert shorter.decision == "approved"
