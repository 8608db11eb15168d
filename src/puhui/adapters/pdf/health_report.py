"""The owner's business-health report as a PDF in Chinese, with the embedded CJK font (ADR 0024)."""

from __future__ import annotations

import io
import itertools
import threading
from collections.abc import Mapping
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from puhui.adapters.pdf.contract import GREY, LINE, MARGIN, _styles
from puhui.adapters.pdf.fonts import CJKFont
from puhui.services.advisor import wording as w
from puhui.services.advisor.report import HealthReport, month_add

TITLE_ZH = "企业经营健康报告"
TITLE_EN = "Business-health report"
BLUE = colors.HexColor("#1f5fa8")
ORANGE = colors.HexColor("#c4621b")


class ReportlabHealthReportRenderer:
    """Renders health reports; the font is registered on the first report."""

    def __init__(self, font: Path | None = None) -> None:
        self._font = CJKFont(font)
        self._lock = threading.Lock()

    def render(self, report: HealthReport) -> bytes:
        with self._lock:
            return _draw(report, self._font.name())


class _TrendChart(Flowable):
    """Monthly sales (blue) and account inflows (orange), 24 months, on one scale.

    Drawn on the canvas directly (not a reportlab ``Drawing``, whose renderer sets a
    standard font first): every glyph stays in the embedded CJK font."""

    def __init__(self, report: HealthReport, font: str) -> None:
        super().__init__()
        self.report = report
        self.font = font
        self.width = 170 * mm
        self.height = 55 * mm

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        canvas = self.canv
        report = self.report
        values = [v for r in report.months for v in (r.sales_fen, r.inflow_fen) if v is not None]
        top = max([*values, 1])
        left, bottom = 8 * mm, 8 * mm
        plot_w, plot_h = self.width - 12 * mm, self.height - 14 * mm
        n = max(len(report.months) - 1, 1)
        canvas.setStrokeColor(LINE)
        canvas.line(left, bottom, left + plot_w, bottom)
        for series, colour in (("sales_fen", BLUE), ("inflow_fen", ORANGE)):
            points = [
                (left + plot_w * i / n, bottom + plot_h * getattr(row, series) / top)
                for i, row in enumerate(report.months)
                if getattr(row, series) is not None
            ]
            canvas.setStrokeColor(colour)
            canvas.setLineWidth(1.2)
            for a, b in itertools.pairwise(points):
                canvas.line(a[0], a[1], b[0], b[1])
        canvas.setFont(self.font, 7)
        canvas.setFillColor(GREY)
        canvas.drawString(left, 1 * mm, f"{report.months[0].month:%Y-%m}")
        canvas.drawRightString(left + plot_w, 1 * mm, f"{report.months[-1].month:%Y-%m}")
        canvas.drawString(
            left,
            self.height - 5 * mm,
            f"蓝：申报销售额　橙：结算账户流入　（最高 {w.yuan(top)} 元）",
        )


def _table(
    rows: list[list[str]],
    font: str,
    styles: Mapping[str, ParagraphStyle],
    widths: list[float] | None = None,
) -> Table:
    body = styles["body"]
    table = Table(
        [[Paragraph(escape(c), body) for c in row] for row in rows],
        colWidths=widths,
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, LINE),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _limit_section(
    report: HealthReport, font: str, styles: Mapping[str, ParagraphStyle]
) -> list[object]:
    story: list[object] = []
    p = styles["body"]
    limit = report.limit
    if limit is None:
        story.append(Paragraph("未配置授信策略，无法测算。", p))
    elif limit.binding is None:
        story.append(
            Paragraph(
                escape(f"尚无审批结果。按策略 {limit.strategy}，各等级对应的还款能力额度："), p
            )
        )
        story.append(
            _table([list(limit.grades), [w.yuan(v) for v in limit.grades.values()]], font, styles)
        )
    else:
        story.append(
            Paragraph(
                escape(
                    f"按策略 {limit.strategy}，等级 {limit.grade} 下额度为 "
                    f"{w.yuan(limit.limit_fen)} 元，"
                    f"当前起约束作用的是：{w.CAP_ZH.get(limit.binding, limit.binding)}。"
                ),
                p,
            )
        )
        story.extend(Paragraph(escape("• " + w.lever_zh(lv)), p) for lv in limit.levers)
    return story


def _draw(report: HealthReport, font: str) -> bytes:
    styles = _styles(font)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"{TITLE_ZH} {report.uscc} {report.as_of:%Y-%m}",
        subject=TITLE_EN,
        author="Puhui",
        creator="Puhui",
        invariant=True,
        initialFontName=font,
    )
    p = styles["body"]
    h = styles["heading"]
    industry = w.INDUSTRY_ZH.get(report.industry_group, report.industry_group)
    size = w.SIZE_ZH.get(report.size_band, report.size_band)
    story: list[object] = [
        Paragraph(TITLE_ZH, styles["title"]),
        Paragraph(TITLE_EN, styles["subtitle"]),
        Spacer(1, 4 * mm),
        Paragraph(
            escape(
                f"{report.name or ''}　统一社会信用代码 {report.uscc}　"
                f"截至 {report.as_of.year} 年 {report.as_of.month} 月　同业：{industry}·{size}"
            ),
            p,
        ),
        Paragraph(
            escape(
                "本报告仅使用您授权的数据："
                + "、".join(w.SCOPE_ZH.get(scope, scope) for scope in report.scopes)
            ),
            styles["label"],
        ),
        Paragraph("一、销售与现金流趋势", h),
        _TrendChart(report, font),
        _table(
            [
                ["", "近12个月（元）", "同比", "近3个月环比前3个月"],
                [
                    "申报销售额",
                    w.yuan(report.sales.last_12_fen),
                    w.percent(report.sales.yoy),
                    w.percent(report.sales.change_3m),
                ],
                [
                    "结算账户流入",
                    w.yuan(report.inflow.last_12_fen),
                    w.percent(report.inflow.yoy),
                    w.percent(report.inflow.change_3m),
                ],
            ],
            font,
            styles,
        ),
        Paragraph("二、同业对标（同行业、同规模）", h),
    ]
    rows = [["指标", "本企业", "下四分位", "中位数", "上四分位", "位置"]]
    suppressed = []
    for b in report.benchmarks:
        name = w.MEASURE_ZH[b.measure]
        if b.cell is None:
            rows.append(
                [name, w.measure_value(b.measure, b.value), "—", "—", "—", "不足10家，不予显示"]
            )
            suppressed.append(name)
            continue
        rows.append(
            [
                name,
                w.measure_value(b.measure, b.value),
                w.measure_value(b.measure, b.cell.q1),
                w.measure_value(b.measure, b.cell.median),
                w.measure_value(b.measure, b.cell.q3),
                w.POSITION_ZH.get(b.position or "", "—"),
            ]
        )
    story.append(_table(rows, font, styles, [36 * mm, 27 * mm, 27 * mm, 27 * mm, 27 * mm, 26 * mm]))
    if suppressed:
        story.append(
            Paragraph("同业样本少于10家的指标不予显示（保护隐私、避免噪声）。", styles["small"])
        )
    season = report.seasonality
    story.append(Paragraph("三、季节性", h))
    story.append(
        _table(
            [
                [f"{m}月" for m in range(1, 13)],
                [str(season.index_by_month.get(m, "—")) for m in range(1, 13)],
            ],
            font,
            styles,
        )
    )
    festival = (
        f"春节所在月份（{'、'.join(f'{d:%Y-%m}' for d in season.spring_festival_months)}）"
        f"销售额为平均月份的 {season.festival_index}%。"
        if season.festival_index is not None
        else "历史数据中没有春节月份。"
    )
    story.append(Paragraph(escape("指数：平均月份 = 100。" + festival), p))
    story.append(Paragraph("四、未来三个月现金流预测", h))
    if report.forecast is None:
        story.append(Paragraph("结算账户历史不足15个月，暂不预测。", p))
    else:
        fc = report.forecast
        rows = [["月份", "预计流入（元）", "预计流出（元）", "预计净流入（元）", "80% 区间（元）"]]
        for m in fc.months:
            band = (
                f"{w.yuan(m.net_low_fen)} ~ {w.yuan(m.net_high_fen)}"
                if m.net_low_fen is not None
                else "历史不足，未给区间"
            )
            rows.append(
                [
                    f"{month_add(report.as_of, m.horizon):%Y-%m}",
                    w.yuan(m.inflow_fen),
                    w.yuan(m.outflow_fen),
                    w.yuan(m.net_fen),
                    band,
                ]
            )
        story.append(_table(rows, font, styles))
        story.append(
            Paragraph(
                escape(
                    "方法：季节性朴素法（去年同月 × 近3个月同比水平），区间取本企业历史回测误差的"
                    "第5与第95百分位（在合成市场的留出月份上约 80% 覆盖；"
                    f"{fc.backtest_errors} 个回测误差）。"
                    "预测不是承诺，实际可能落在区间之外。"
                ),
                styles["small"],
            )
        )
    story.append(Paragraph("五、提醒", h))
    story.extend(Paragraph(escape("• " + w.reminder_zh(r)), p) for r in report.reminders)
    story.append(Paragraph("六、如何提高额度", h))
    story.extend(_limit_section(report, font, styles))

    def footer(canvas: object, doc: SimpleDocTemplate) -> None:
        canvas.saveState()  # type: ignore[attr-defined]
        canvas.setFont(font, 8)  # type: ignore[attr-defined]
        canvas.setFillColor(GREY)  # type: ignore[attr-defined]
        canvas.drawCentredString(  # type: ignore[attr-defined]
            A4[0] / 2, MARGIN / 2, f"{report.uscc} {report.as_of:%Y-%m}  第 {doc.page} 页"
        )
        canvas.restoreState()  # type: ignore[attr-defined]

    document.build(story, onFirstPage=footer, onLaterPages=footer)  # type: ignore[arg-type]
    return buffer.getvalue()
