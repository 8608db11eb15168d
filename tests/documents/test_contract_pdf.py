"""What the contract PDF shows, and a clear error when no Chinese font is installed."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from puhui.adapters.pdf.contract import ReportlabContractRenderer
from puhui.adapters.pdf.fonts import cjk_font
from puhui.domain.errors import ConfigurationError
from puhui.services.documents.contract_pdf import ContractSheet, business_date, grouped_yuan

SHEET = ContractSheet(
    contract_no="PHC2026120200000001",
    lender="普惠银行 Puhui Bank",
    borrower_uscc="91350100M000100Y43",
    id_number_masked="110***********002X",
    limit_yuan="1,234,567.89",
    annual_rate_percent="4.35",
    term_months=12,
    signed_on=date(2026, 12, 2),
    accepted_on=date(2026, 12, 2),
    offer_valid_until=date(2026, 12, 9),
    text_sha256="ab" * 32,
    signing_key_id="ed25519:k1",
    text="第一条 <授信> & 条款\n\nThe borrower agrees.",
)


@pytest.mark.parametrize(
    ("fen", "text"),
    [(0, "0.00"), (5, "0.05"), (123_456_789, "1,234,567.89"), (-100_000_000, "-1,000,000.00")],
)
def test_yuan_are_grouped_by_thousands_with_two_decimals(fen: int, text: str) -> None:
    assert grouped_yuan(fen) == text


def test_dates_are_the_banks_dates() -> None:
    assert business_date(datetime(2026, 12, 1, 17, 0, tzinfo=UTC)) == date(2026, 12, 2)


def test_the_text_is_shown_verbatim_markup_and_all() -> None:
    pdf = ReportlabContractRenderer().render(SHEET)
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "第一条 <授信> & 条款" in text
    assert "2026-12-09" in text


def test_the_same_contract_gives_the_same_bytes() -> None:
    renderer = ReportlabContractRenderer()
    assert renderer.render(SHEET) == renderer.render(SHEET)
    assert renderer.render(SHEET) != renderer.render(replace(SHEET, term_months=6))


def test_a_missing_font_is_a_configuration_error_naming_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        ReportlabContractRenderer(tmp_path / "missing.ttf").render(SHEET)
    assert cjk_font().path.is_file()
