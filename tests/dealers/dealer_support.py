"""A tiny market of one core enterprise and its dealers, served like ``MarketDataSource``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import polars as pl

from puhui.bootstrap.supply_chain import supply_chain_service
from puhui.domain.origination.consent import DataScope
from puhui.market import schema as market_schema
from puhui.services.security.permissions import Principal, Role

CORE = "91330100190182932J"
DEALER = "92330300733033838Y"
WEAK_DEALER = "92330200950645128Y"
CORE_NAME = "杭州恒远机械制造有限公司"
DEALER_NAME = "温州顺达机电贸易有限公司"
TODAY = date(2026, 3, 2)  # the platform fixture's clock
CORE_ACCOUNT = "6217000000000000018"
YUAN = 100


def months(first: date, count: int) -> list[date]:
    out = []
    for k in range(count):
        index = first.month - 1 + k
        out.append(date(first.year + index // 12, index % 12 + 1, 1))
    return out


def _frame(name: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=market_schema.TABLES[name].polars_schema())


def _enterprise(
    uscc: str, registered: date, size: str, rep: str, account: str, name: str = "测试企业"
) -> dict[str, Any]:
    return {
        "uscc": uscc,
        "name": name,
        "legal_form": "company",
        "industry_code": "F51",
        "industry_section": "F",
        "industry_group": "wholesale",
        "region_code": "330100",
        "registration_date": registered,
        "registered_capital_fen": 10**9,
        "taxpayer_type": "general",
        "employees": 50,
        "size_band": size,
        "park": None,
        "phone": "13800000000",
        "address": "杭州",
        "settlement_account": account,
        "legal_rep_id_number": rep,
    }


def _tax(uscc: str, sales_fen: int, grade: str) -> list[dict[str, Any]]:
    return [
        {
            "uscc": uscc,
            "month": m,
            "declared_sales_fen": sales_fen,
            "vat_payable_fen": sales_fen // 50,
            "vat_exempt": False,
            "late_filing": False,
            "arrears_fen": 0,
            "tax_credit_grade": grade,
        }
        for m in months(date(2024, 3, 1), 24)
    ]


def _bureau(uscc: str, overdue_now: int) -> list[dict[str, Any]]:
    rows = [
        {
            "uscc": uscc,
            "month": m,
            "other_lender_loans": 1,
            "other_lender_balance_fen": 10**7,
            "overdue_loans": 0,
            "max_days_past_due": 0,
            "hard_enquiries": 0,
        }
        for m in months(date(2024, 3, 1), 24)
    ]
    rows[-1]["overdue_loans"] = overdue_now
    return rows


# The dealer buys RMB 100,000 a month from the core, three times that in Oct-Dec.
PURCHASES = {
    m: (3 if m.month in (10, 11, 12) else 1) * 100_000 * YUAN for m in months(date(2024, 3, 1), 24)
}


class TinyMarket:
    """``DataSource`` over a core, a good dealer and a dealer overdue elsewhere."""

    def __init__(self) -> None:
        self.tables: dict[str, pl.DataFrame] = {
            "enterprises": _frame(
                "enterprises",
                [
                    _enterprise(CORE, date(2012, 5, 1), "medium", "r1", CORE_ACCOUNT, CORE_NAME),
                    _enterprise(
                        DEALER, date(2019, 8, 1), "small", "r2", "6217000000000000026", DEALER_NAME
                    ),
                    _enterprise(
                        WEAK_DEALER, date(2019, 8, 1), "micro", "r3", "6217000000000000034"
                    ),
                ],
            ),
            "owners": _frame("owners", []),
            "tax_monthly": _frame(
                "tax_monthly",
                _tax(CORE, 20_000_000 * YUAN, "A")
                + _tax(DEALER, 400_000 * YUAN, "B")
                + _tax(WEAK_DEALER, 400_000 * YUAN, "B"),
            ),
            "bureau": _frame(
                "bureau", _bureau(CORE, 0) + _bureau(DEALER, 0) + _bureau(WEAK_DEALER, 1)
            ),
            "court_cases": _frame("court_cases", []),
            "invoices": _frame(
                "invoices",
                [
                    {
                        "seller_uscc": CORE,
                        "buyer_uscc": buyer,
                        "month": month,
                        "amount_fen": amount,
                        "invoice_count": 4,
                        "voided_count": 0,
                        "red_letter_count": 0,
                    }
                    for buyer in (DEALER, WEAK_DEALER)
                    for month, amount in PURCHASES.items()
                ],
            ),
        }

    def pull(self, uscc: str, scope: DataScope, *, as_of: date) -> Mapping[str, Any]:
        cutoff = date(as_of.year, as_of.month, 1)
        t = self.tables
        if scope is DataScope.REGISTRATION:
            return {
                "tables": {
                    "enterprises": t["enterprises"].filter(pl.col("uscc") == uscc),
                    "owners": t["owners"],
                }
            }
        if scope is DataScope.INVOICE:
            mine = (pl.col("seller_uscc") == uscc) | (pl.col("buyer_uscc") == uscc)
            return {"tables": {"invoices": t["invoices"].filter(mine & (pl.col("month") < cutoff))}}
        name = {
            DataScope.TAX: "tax_monthly",
            DataScope.BUREAU: "bureau",
            DataScope.COURT: "court_cases",
        }[scope]
        rows = t[name].filter((pl.col("uscc") == uscc) & (pl.col("month") < cutoff))
        return {"tables": {name: rows}}


def onboard_on_platform(platform: Any, market: TinyMarket, *dealers: str) -> None:
    """Onboard the core through the platform's supply-chain service (its facility decided by
    the shipped strategy on its own data) and name ``dealers`` as its dealers."""
    risk = Principal(user_id="usr_onboarding", role=Role.RISK_OFFICER)
    service = supply_chain_service(platform, data_source=market)
    service.onboard_core(
        risk, uscc=CORE, requested_fen=5_000_000 * YUAN, as_of=TODAY, key="onboard"
    )
    for dealer in dealers:
        service.name_partner(
            risk, core=CORE, partner_uscc=dealer, relation="dealer", key=f"name-{dealer}"
        )
