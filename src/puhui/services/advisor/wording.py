"""The report's sentences in Chinese (the PDF) and English (the CLI), from its numbers only.

The H5 page words the same facts through the page catalogs (``templates/h5/health.html``).
"""

from __future__ import annotations

from dataclasses import dataclass

from puhui.domain.money import format_yuan
from puhui.services.advisor.limits import Lever
from puhui.services.advisor.report import HealthReport, Reminder

BASIS_ZH = {
    "verified_monthly_sales_fen": "经核实的月均销售额",
    "verified_monthly_tax_fen": "经核实的月均纳税额",
}
BASIS_EN = {
    "verified_monthly_sales_fen": "verified monthly sales",
    "verified_monthly_tax_fen": "verified monthly tax",
}
CAP_ZH = {
    "requested": "申请金额",
    "need": "资金需求测算",
    "affordability": "还款能力（按等级倍数）",
    "product_cap": "产品上限",
    "concentration_headroom": "集中度余量",
    "cluster_limit_multiplier": "客群系数",
}
MEASURE_ZH = {
    "sales_12m_fen": "近12个月销售额（元）",
    "sales_yoy": "销售额同比",
    "net_margin": "结算账户净流入率",
}
MEASURE_EN = {
    "sales_12m_fen": "sales, last 12 months (yuan)",
    "sales_yoy": "sales year on year",
    "net_margin": "net settlement inflow over inflow",
}
POSITION_ZH = {
    "below_q1": "低于同业下四分位",
    "q1_to_median": "介于下四分位与中位数",
    "median_to_q3": "介于中位数与上四分位",
    "above_q3": "高于同业上四分位",
}
INDUSTRY_ZH = {
    "manufacturing": "制造业",
    "wholesale": "批发业",
    "retail": "零售业",
    "catering": "餐饮业",
    "accommodation": "住宿业",
    "construction": "建筑业",
    "transport": "交通运输业",
    "business_services": "商务服务业",
    "it_services": "信息技术服务业",
    "agriculture": "农业",
}
SCOPE_ZH = {
    "registration": "工商登记信息",
    "tax": "纳税记录",
    "invoice": "增值税发票",
    "utility": "水电缴费",
    "court": "司法记录",
    "bureau": "征信报告",
    "settlement": "结算账户流水",
}
SIZE_ZH = {"micro": "微型", "small": "小型", "medium": "中型"}


def yuan(fen: int | None) -> str:
    return "—" if fen is None else format_yuan(fen)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def measure_value(measure: str, value: float | int | None) -> str:
    if value is None:
        return "—"
    if measure.endswith("_fen"):
        return yuan(int(value))
    return percent(float(value))


def reminder_zh(item: Reminder) -> str:
    amount = yuan(item.amount_fen)
    due = item.due.isoformat() if item.due else ""
    texts = {
        "tax_due": f"请于 {due} 前完成上月增值税申报与缴纳（遇节假日顺延）",
        "tax_late": (
            f"近12个月有 {item.count} 个月逾期申报（最近一次为 {due[:7]}），按期申报可改善纳税信用"
        ),
        "tax_arrears": f"尚有欠缴税款 {amount} 元，请尽快缴清",
        "repayment_due": f"借据 {item.reference} 将于 {due} 应还约 {amount} 元",
        "repayment_overdue": f"借据 {item.reference} 有逾期本金 {amount} 元，请尽快归还",
        "past_due_elsewhere": (
            f"近24个月在其他机构有 {item.count} 个月存在逾期（最长 {item.days} 天），"
            "按时还款有助于提高额度"
        ),
    }
    return texts.get(item.kind, item.kind)


def reminder_en(item: Reminder) -> str:
    amount = yuan(item.amount_fen)
    due = item.due.isoformat() if item.due else ""
    texts = {
        "tax_due": f"file and pay last month's VAT by {due} (later if a holiday falls in it)",
        "tax_late": f"{item.count} returns filed late in the last 12 months (latest {due[:7]})",
        "tax_arrears": f"unpaid tax of {amount} yuan outstanding",
        "repayment_due": f"receipt {item.reference}: about {amount} yuan due on {due}",
        "repayment_overdue": f"receipt {item.reference}: {amount} yuan of principal past due",
        "past_due_elsewhere": (
            f"{item.count} months past due at other lenders in 24 months (worst {item.days} days)"
        ),
    }
    return texts.get(item.kind, item.kind)


def lever_zh(lever: Lever) -> str:
    after = yuan(lever.limit_after_fen)
    if lever.kind == "raise_basis" and lever.basis is not None:
        name = BASIS_ZH.get(lever.basis, lever.basis)
        return (
            f"{name}在您的等级下按 {lever.multiple} 倍计入额度：从 {yuan(lever.current_fen)} 元"
            f"提高到 {yuan(lever.target_fen)} 元，额度可升至 {after} 元"
        )
    if lever.kind == "better_grade":
        return f"信用等级提升至 {lever.grade}（按时纳税、按时还款），额度可升至 {after} 元"
    if lever.kind == "ask_more":
        return f"额度受申请金额约束；申请更高金额时最高可达 {after} 元"
    if lever.kind == "need":
        return f"额度受资金需求测算约束（{yuan(lever.current_fen)} 元）：经营规模扩大后需求随之提高"
    if lever.kind == "product_cap":
        return f"已达产品上限 {yuan(lever.current_fen)} 元"
    return f"额度受{CAP_ZH.get(lever.kind, lever.kind)}约束（{yuan(lever.current_fen)} 元）"


def lever_en(lever: Lever) -> str:
    after = yuan(lever.limit_after_fen)
    if lever.kind == "raise_basis" and lever.basis is not None:
        name = BASIS_EN.get(lever.basis, lever.basis)
        return (
            f"{name} counts {lever.multiple} times at the grade: from "
            f"{yuan(lever.current_fen)} to {yuan(lever.target_fen)} yuan "
            f"would lift the limit to {after} yuan"
        )
    if lever.kind == "better_grade":
        return f"grade {lever.grade} would lift the limit to {after} yuan"
    if lever.kind == "ask_more":
        return f"the request binds; asking more allows up to {after} yuan"
    if lever.kind == "need":
        return f"the need estimate binds ({yuan(lever.current_fen)} yuan)"
    if lever.kind == "product_cap":
        return f"the product cap binds ({yuan(lever.current_fen)} yuan): nothing lifts it"
    return f"{lever.kind} binds ({yuan(lever.current_fen)} yuan)"


@dataclass(frozen=True, slots=True)
class Summary:
    lines: tuple[str, ...]


def summary_en(report: HealthReport) -> Summary:
    """The CLI's plain-text report."""
    out = [
        f"Business-health report {report.uscc} {report.name or ''} as of {report.as_of:%Y-%m}",
        f"peers: {report.industry_group} / {report.size_band}; "
        f"data used: {', '.join(report.scopes)}",
        f"sales last 12 months {yuan(report.sales.last_12_fen)} yuan, "
        f"year on year {percent(report.sales.yoy)}, "
        f"last 3 vs prior 3 {percent(report.sales.change_3m)}",
        f"account inflows last 12 months {yuan(report.inflow.last_12_fen)} yuan, "
        f"year on year {percent(report.inflow.yoy)}",
    ]
    for b in report.benchmarks:
        if b.cell is None:
            out.append(
                f"  {MEASURE_EN[b.measure]}: {measure_value(b.measure, b.value)} "
                f"(peer cell suppressed: {b.peers} enterprises, fewer than 10)"
            )
        else:
            out.append(
                f"  {MEASURE_EN[b.measure]}: {measure_value(b.measure, b.value)}; peers "
                f"{measure_value(b.measure, b.cell.q1)} / "
                f"{measure_value(b.measure, b.cell.median)} / "
                f"{measure_value(b.measure, b.cell.q3)} (n={b.cell.peers}) -> {b.position}"
            )
    if report.seasonality.festival_index is not None:
        out.append(
            f"Spring Festival months sell at {report.seasonality.festival_index}% "
            "of an average month"
        )
    if report.forecast is not None:
        out.append(f"forecast ({report.forecast.method}):")
        for m in report.forecast.months:
            band = (
                f" [{yuan(m.net_low_fen)} .. {yuan(m.net_high_fen)}]"
                if m.net_low_fen is not None
                else " (no interval: too little history)"
            )
            out.append(f"  +{m.horizon} month net flow {yuan(m.net_fen)} yuan{band}")
    out.extend(f"reminder: {reminder_en(r)}" for r in report.reminders)
    if report.limit is not None and report.limit.binding is not None:
        out.append(
            f"limit under {report.limit.strategy} at grade {report.limit.grade}: "
            f"{yuan(report.limit.limit_fen)} yuan, bound by {report.limit.binding}"
        )
        out.extend(f"  to raise it: {lever_en(lever)}" for lever in report.limit.levers)
    elif report.limit is not None:
        out.append(f"no decision yet: affordability by grade under {report.limit.strategy}:")
        out.extend(f"  {g}: {yuan(v)} yuan" for g, v in report.limit.grades.items())
    return Summary(tuple(out))
