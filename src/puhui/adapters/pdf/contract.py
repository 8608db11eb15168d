"""The credit contract drawn as an A4 PDF with reportlab, Chinese first, English alongside.

The CJK font is embedded as a subset (only the glyphs used), so any viewer shows the text
without fonts of its own, and the text stays extractable (each subset maps back to Unicode).
"""

from __future__ import annotations

import io
import threading
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from puhui.adapters.pdf.fonts import CJKFont
from puhui.services.documents.contract_pdf import TITLE_EN, TITLE_ZH, ContractSheet

MARGIN = 20 * mm
GREY = colors.HexColor("#555555")
LINE = colors.HexColor("#BBBBBB")


class ReportlabContractRenderer:
    """Renders contract sheets; the font is found and registered on the first contract."""

    def __init__(self, font: Path | None = None) -> None:
        self._font = CJKFont(font)
        # reportlab keeps a font's subsets on the font object while a document is built:
        # one document at a time per process (a contract takes tens of milliseconds).
        self._lock = threading.Lock()

    def render(self, sheet: ContractSheet) -> bytes:
        with self._lock:
            return _draw(sheet, self._font.name())


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle(
        "body", fontName=font, bulletFontName=font, fontSize=10, leading=15, wordWrap="CJK"
    )
    return {
        "body": base,
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=26, alignment=TA_CENTER),
        "subtitle": ParagraphStyle(
            "subtitle", parent=base, fontSize=11, leading=16, alignment=TA_CENTER, textColor=GREY
        ),
        "heading": ParagraphStyle("heading", parent=base, fontSize=12, leading=18, spaceBefore=8),
        "label": ParagraphStyle("label", parent=base, fontSize=9, leading=13, textColor=GREY),
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=11, textColor=GREY),
    }


def _fields(sheet: ContractSheet) -> list[tuple[str, str]]:
    return [
        ("合同编号<br/>Contract no.", sheet.contract_no),
        ("授信人<br/>Lender", sheet.lender),
        ("受信人统一社会信用代码<br/>Borrower (USCC)", sheet.borrower_uscc),
        ("法定代表人证件号<br/>Legal representative ID", sheet.id_number_masked),
        ("授信额度<br/>Credit limit", f"人民币 {sheet.limit_yuan} 元<br/>CNY {sheet.limit_yuan}"),
        ("年利率<br/>Annual interest rate", f"{sheet.annual_rate_percent}%"),
        ("期限<br/>Term", f"{sheet.term_months} 个月<br/>{sheet.term_months} months"),
        ("签订日期<br/>Signed on", sheet.signed_on.isoformat()),
        ("接受日期<br/>Accepted on", sheet.accepted_on.isoformat()),
        ("要约有效期至<br/>Offer valid until", sheet.offer_valid_until.isoformat()),
    ]


def _draw(sheet: ContractSheet, font: str) -> bytes:
    styles = _styles(font)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"{TITLE_ZH} {sheet.contract_no}",
        subject=TITLE_EN,
        author=sheet.lender,
        creator="Puhui",
        # The same contract gives the same bytes: no creation time or random document id.
        invariant=True,
        # No standard font is ever referenced: every glyph comes from the embedded subset.
        initialFontName=font,
    )
    rows = [
        [Paragraph(label, styles["label"]), Paragraph(escape_keeping_breaks(value), styles["body"])]
        for label, value in _fields(sheet)
    ]
    table = Table(rows, colWidths=[55 * mm, None], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, LINE),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    story = [
        Paragraph(TITLE_ZH, styles["title"]),
        Paragraph(TITLE_EN, styles["subtitle"]),
        Spacer(1, 6 * mm),
        table,
        Spacer(1, 4 * mm),
        Paragraph("合同正文 Contract text", styles["heading"]),
        *(
            Paragraph(escape(line) if line.strip() else "&nbsp;", styles["body"])
            for line in sheet.text.splitlines()
        ),
        Spacer(1, 6 * mm),
        Paragraph("合同文本 SHA-256 / Contract text hash (SHA-256)", styles["label"]),
        Paragraph(sheet.text_sha256, styles["small"]),
        Paragraph(f"签名密钥 Signing key: {escape(sheet.signing_key_id)}", styles["small"]),
    ]

    def footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.setFillColor(GREY)
        canvas.drawCentredString(
            A4[0] / 2,
            MARGIN / 2,
            f"{sheet.contract_no}  第 {doc.page} 页 / Page {doc.page}",
        )
        canvas.restoreState()

    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def escape_keeping_breaks(value: str) -> str:
    """Escape a field's text for reportlab's markup, keeping the ``<br/>`` the fields use."""
    return "<br/>".join(escape(part) for part in value.split("<br/>"))
