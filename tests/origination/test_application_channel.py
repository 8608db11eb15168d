"""Channels and branch codes: one vocabulary, one code format, checked by the application."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from puhui.domain.origination.application import Applicant, Application, ApplicationStatus
from puhui.domain.origination.channel import (
    Channel,
    InvalidBranchCode,
    InvalidChannel,
    parse_branch_code,
    parse_channel,
)

NOW = datetime(2026, 12, 2, tzinfo=UTC)
APPLICATION = Application(
    application_id="app_1",
    application_no="PH2026120200000001",
    applicant=Applicant(uscc="91350100M000100Y43", id_number="11010519491231002X", phone="1"),
    requested_amount_fen=None,
    status=ApplicationStatus.CREATED,
    created_at=NOW,
    updated_at=NOW,
)


def test_channel_codes_parse_case_insensitively_and_unknown_ones_name_the_allowed() -> None:
    assert parse_channel(" H5_QR ") is Channel.H5_QR
    with pytest.raises(InvalidChannel) as raised:
        parse_channel("wechat")
    assert "h5_qr" in raised.value.details["allowed"]


@pytest.mark.parametrize(
    ("raw", "code"), [("tz-jy01", "TZ-JY01"), (" 01 ", "01"), ("A" * 16, "A" * 16)]
)
def test_branch_codes_are_stored_upper_case(raw: str, code: str) -> None:
    assert parse_branch_code(raw) == code


@pytest.mark.parametrize("raw", ["", "A", "A" * 17, "-AB", "TZ_01", "台州01", "TZ 01"])
def test_malformed_branch_codes_are_refused(raw: str) -> None:
    with pytest.raises(InvalidBranchCode):
        parse_branch_code(raw)


def test_an_application_keeps_only_canonical_origins() -> None:
    assert APPLICATION.channel is None
    assert APPLICATION.branch_code is None
    kept = replace(APPLICATION, channel=Channel.H5_QR, branch_code="TZ-JY01")
    assert kept.branch_code == "TZ-JY01"
    with pytest.raises(InvalidBranchCode):
        replace(APPLICATION, channel=Channel.H5_QR)
    with pytest.raises(InvalidBranchCode):
        replace(APPLICATION, channel=Channel.BRANCH, branch_code="tz-jy01")
    with pytest.raises(InvalidChannel):
        replace(APPLICATION, channel="h5_qr")
