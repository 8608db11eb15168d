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
CATALOG: dict[str, Reason] = {r.code: r for r in (*ANTI_FRAUD_REASONS, MANUAL_DECLINE)}
