"""Reason codes of origination with their customer-facing text in zh-CN and English."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Severity(Enum):
    """What an anti-fraud hit does to the decision: knock out, or send to a human."""

    KNOCKOUT = "knockout"
    REFER = "refer"


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    zh: str
    en: str
    severity: Severity | None = None


IDENTITY_MISMATCH = Reason(
    "AF01_IDENTITY_MISMATCH",
    "申请人不是企业登记的法定代表人",
    "the applicant is not the registered legal representative",
    Severity.KNOCKOUT,
)
INTERNAL_BLACKLIST = Reason(
    "AF02_INTERNAL_BLACKLIST",
    "申请人或企业在本行内部黑名单中",
    "the applicant or the enterprise is on the bank's internal blacklist",
    Severity.KNOCKOUT,
)
EXECUTED_PERSON = Reason(
    "AF03_EXECUTED_PERSON",
    "申请人或企业为失信被执行人",
    "the applicant or the enterprise is on the executed-person list",
    Severity.KNOCKOUT,
)
VELOCITY_PHONE = Reason(
    "AF04_VELOCITY_PHONE",
    "同一手机号短期内申请次数过多",
    "too many recent applications from the same phone number",
    Severity.REFER,
)
VELOCITY_DEVICE = Reason(
    "AF05_VELOCITY_DEVICE",
    "同一设备短期内申请次数过多",
    "too many recent applications from the same device",
    Severity.REFER,
)
VELOCITY_IP = Reason(
    "AF06_VELOCITY_IP",
    "同一网络地址短期内申请次数过多",
    "too many recent applications from the same IP address",
    Severity.REFER,
)
VELOCITY_ADDRESS = Reason(
    "AF07_VELOCITY_ADDRESS",
    "同一经营地址短期内申请次数过多",
    "too many recent applications from the same business address",
    Severity.REFER,
)
SHARED_IDENTIFIER = Reason(
    "AF08_SHARED_IDENTIFIER",
    "手机号或身份证号被多家无关联企业共用",
    "the phone or ID number is shared by unrelated enterprises",
    Severity.REFER,
)
NEW_REGISTRATION_LARGE_REQUEST = Reason(
    "AF09_NEW_REGISTRATION_LARGE_REQUEST",
    "企业成立时间短但申请金额大",
    "a newly registered enterprise requests a large amount",
    Severity.REFER,
)
FRAUD_RING = Reason(
    "AF10_FRAUD_RING",
    "申请企业属于关系图谱识别的欺诈团伙，或与团伙企业共用身份标识",
    "the enterprise is in a fraud ring of the relationship graph, or shares identifiers with one",
    Severity.KNOCKOUT,
)
PACKAGED_APPLICATION = Reason(
    "AF11_PACKAGED_APPLICATION",
    "申请所用设备、网络、手机号或地址近期被多家无关联企业用于申请，或企业数据近期被包装"
    "（结算流水突增并转往关联方、征信查询密集），疑似中介包装",
    "the device, network, phone or address of this application was used recently for "
    "applications of unrelated enterprises, or the enterprise's data look freshly inflated "
    "(settlement inflow pumped and paid out to related parties, enquiries piling up): "
    "possibly packaged by an intermediary",
    Severity.REFER,
)
INVOICE_ROUND_TRIP = Reason(
    "AF12_INVOICE_ROUND_TRIP",
    "企业销售发票存在较高比例的循环开票",
    "a large share of the enterprise's sales invoices goes round in cycles",
    Severity.REFER,
)
GUARANTEE_CIRCLE_STRESS = Reason(
    "AF13_GUARANTEE_CIRCLE_STRESS",
    "企业所在担保圈中有成员或担保人出现风险",
    "members or guarantors of the enterprise's guarantee circle are in distress",
    Severity.REFER,
)
CONTAGION = Reason(
    "AF14_CONTAGION",
    "企业受担保或供应链关联企业的风险传染程度较高",
    "risk spreading from guarantee or supply-chain partners to the enterprise is high",
    Severity.REFER,
)
MANUAL_DECLINE = Reason("MR01_MANUAL_DECLINE", "人工审批拒绝", "declined on manual review")

ANTI_FRAUD_REASONS: tuple[Reason, ...] = (
    IDENTITY_MISMATCH,
    INTERNAL_BLACKLIST,
    EXECUTED_PERSON,
    VELOCITY_PHONE,
    VELOCITY_DEVICE,
    VELOCITY_IP,
    VELOCITY_ADDRESS,
    SHARED_IDENTIFIER,
    NEW_REGISTRATION_LARGE_REQUEST,
)
GRAPH_REASONS: tuple[Reason, ...] = (
    FRAUD_RING,
    PACKAGED_APPLICATION,
    INVOICE_ROUND_TRIP,
    GUARANTEE_CIRCLE_STRESS,
    CONTAGION,
)
"""The second layer: what the relationship graph (关系图谱) finds around an application."""
CATALOG: dict[str, Reason] = {
    r.code: r for r in (*ANTI_FRAUD_REASONS, *GRAPH_REASONS, MANUAL_DECLINE)
}
