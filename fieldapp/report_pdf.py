"""The monthly report as a PDF: the headline figures as cards, daily activity and check-in
charts, then every figure with its definition, grouped as in metrics.FIGURES.

Charts are drawn with reportlab.graphics in the standard PDF fonts, so the file renders with
no network and no fonts installed. Dates are written without glibc's strftime flags, which
Windows lacks.
"""

import io
from datetime import timedelta, timezone
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import (KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer,
                                Table, TableStyle)

from . import __version__, labels
from .labels import figure_value
from .metrics import Figure
from .records import DISPOSITIONS, PRESENTING_SITUATIONS
from .report import KEY_FIGURES, Report
from .report_formats import APCO_DEFINITIONS

NAVY = colors.HexColor("#1f3b5a")
TEAL = colors.HexColor("#2a8c82")
AMBER = colors.HexColor("#e0a030")
CORAL = colors.HexColor("#d0603f")
GREY = colors.HexColor("#6b7280")
LIGHT = colors.HexColor("#eef2f6")
RULE = colors.HexColor("#c9d2dc")
WIDTH = LETTER[0] - 1.5 * inch  # the frame between the margins

_styles = getSampleStyleSheet()
TITLE = ParagraphStyle("title", _styles["Title"], fontSize=20, leading=24, alignment=0,
                       textColor=NAVY, spaceAfter=2)
SUBTITLE = ParagraphStyle("subtitle", _styles["Normal"], fontSize=10.5, leading=14, textColor=GREY)
HEADING = ParagraphStyle("heading", _styles["Heading2"], fontSize=13, leading=16, textColor=NAVY,
                         spaceBefore=10, spaceAfter=4)
BODY = ParagraphStyle("body", _styles["Normal"], fontSize=9, leading=11.5)
SMALL = ParagraphStyle("small", BODY, fontSize=7.5, leading=9.5, textColor=GREY)
VALUE = ParagraphStyle("value", BODY, alignment=TA_RIGHT, fontName="Helvetica-Bold")
CARD_VALUE = ParagraphStyle("card_value", BODY, fontSize=17, leading=20, fontName="Helvetica-Bold",
                            textColor=NAVY)
CARD_LABEL = ParagraphStyle("card_label", BODY, fontSize=8, leading=10, textColor=GREY)

def to_pdf(report: Report) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=LETTER, leftMargin=0.75 * inch, rightMargin=0.75 * inch,
        topMargin=0.7 * inch, bottomMargin=0.75 * inch,
        title=f"Tandem program report, {report.month_name}, {report.team_label}",
        author="Tandem", subject="Monthly program figures", creator=f"Tandem {__version__}")
    doc.build(_story(report), onFirstPage=_footer(report), onLaterPages=_footer(report))
    return buffer.getvalue()


def _story(report: Report) -> list:
    f = report.figures
    p = report.parameters
    story = [
        Paragraph(f"Program report: {escape(report.month_name)}", TITLE),
        Paragraph(f"{escape(report.team_label)} &nbsp;|&nbsp; {escape(_period_text(report))}",
                  SUBTITLE),
        Paragraph(f"CRC check-in target {p.crc_target_minutes:g} minutes &nbsp;|&nbsp; "
                  f"jail booking baseline {p.booking_baseline_minutes:g} minutes "
                  f"(agency figures)", SUBTITLE),
        Spacer(1, 10),
        _cards(f),
        Spacer(1, 6),
        Paragraph("Each figure is defined in the tables that follow and in docs/metrics.md. "
                  "A dash means there was nothing to measure (no denominator).", SMALL),
        Paragraph("Daily activity", HEADING),
        _daily_chart(report),
        Paragraph("CRC check-in times", HEADING),
        _check_in_chart(report) if report.check_ins else
        Paragraph("No check-in was timed this month.", BODY),
        PageBreak(),
    ]
    groups: dict[str, list[Figure]] = {}
    for figure in f.values():
        groups.setdefault(figure.group, []).append(figure)
    for group, figures in groups.items():
        story.append(KeepTogether([Paragraph(escape(group), HEADING),
                                   _figure_table([x for x in figures if not _breakdown(x)])]))
        if group == "Calls":
            story.append(_chart_section(
                "Mental-health calls by presenting situation", TEAL,
                [(labels.text(s), f[f"calls.situation.{s}"].value) for s in PRESENTING_SITUATIONS]))
            story.append(_chart_section(
                "Mental-health calls by disposition", NAVY,
                [(labels.text(d), f[f"calls.disposition.{d}"].value)
                 for d in (*DISPOSITIONS, "not_recorded")]))
            for title in APCO_DEFINITIONS:
                story.append(_chart_section(title, TEAL, [
                    (label[:34], count) for _, group, label, count in report.apco
                    if group == title]))
        if group == "Follow-ups":
            story.append(_chart_section(
                "Follow-ups due this month, by outcome", AMBER,
                [(f[k].label, f[k].value) for k in (
                    "followups.done_on_time", "followups.done_late", "followups.overdue",
                    "followups.not_yet_due")]))
    return story


def _breakdown(figure: Figure) -> bool:
    """Per-situation and per-disposition counts are shown as charts, not table rows."""
    return figure.key.startswith(("calls.situation.", "calls.disposition."))


def _cards(f: dict[str, Figure]) -> Table:
    cells = [[Paragraph(escape(figure_value(f[key], short=True)), CARD_VALUE),
              Paragraph(escape(label), CARD_LABEL)] for key, label in KEY_FIGURES]
    rows = [cells[i:i + 4] for i in range(0, len(cells), 4)]
    table = Table(rows, colWidths=[WIDTH / 4] * 4)
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), LIGHT),
        ("LINEAFTER", (0, 0), (-2, -1), 3, colors.white),
        ("LINEBELOW", (0, 0), (-1, -2), 3, colors.white),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 8), ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
        ("LEFTPADDING", (0, 0), (-1, -1), 8),
    ]))
    return table


def _figure_table(figures: list[Figure]) -> Table:
    rows = [[Paragraph("<b>Figure</b>", BODY), Paragraph("<b>Value</b>", VALUE),
             Paragraph("<b>Definition</b>", BODY)]]
    rows += [[Paragraph(escape(x.label), BODY), Paragraph(escape(figure_value(x)), VALUE),
              Paragraph(escape(x.definition), SMALL)] for x in figures]
    table = Table(rows, colWidths=[2.1 * inch, 1.25 * inch, WIDTH - 3.35 * inch], repeatRows=1)
    table.setStyle(TableStyle([
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, NAVY),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, LIGHT]),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


DAILY_CHART = (("CRC drop-offs", "crc.dropoffs", NAVY),
               ("Mental-health calls", "calls.mental_health", TEAL),
               ("Outreach engagements", "outreach.engagements", AMBER))


def _daily_chart(report: Report) -> Drawing:
    """Bars per local day for the month's activity; a series with nothing in it is left out."""
    days = [report.period.local_date(d.start).day for d in report.period.days()]
    series = [(name, key, color) for name, key, color in DAILY_CHART
              if report.figures[key].value] or list(DAILY_CHART[:1])
    data = [[figures[key].value for figures in report.daily] for _, key, _ in series]
    drawing = Drawing(WIDTH, 150)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 28, 30, WIDTH - 40, 105
    chart.data = data
    chart.groupSpacing, chart.barSpacing = 2, 0
    chart.categoryAxis.categoryNames = [str(d) for d in days]
    _style_axes(chart, max(max(row, default=0) for row in data))
    chart.categoryAxis.labels.fontSize = 6.5
    for i, (_, _, color) in enumerate(series):
        chart.bars[i].fillColor = color
        chart.bars[i].strokeColor = None
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = 28, 10
    legend.alignment, legend.columnMaximum, legend.deltax = "right", 1, 130
    legend.fontName, legend.fontSize = "Helvetica", 7.5
    legend.colorNamePairs = [(color, name) for name, _, color in series]
    drawing.add(legend)
    return drawing


def _check_in_chart(report: Report) -> Drawing:
    """A histogram of check-in times in 1-minute bins (each holds its upper minute, as the
    target does), with the target marked."""
    target = report.parameters.crc_target_minutes
    top = 20
    counts = [sum(1 for m in report.check_ins if lo < m <= lo + 1 or (lo == 0 and m == 0))
              for lo in range(top)]
    counts.append(sum(1 for m in report.check_ins if m > top))
    names = [str(lo + 1) if (lo + 1) % 5 == 0 or lo == 0 else "" for lo in range(top)]
    drawing = Drawing(WIDTH, 160)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 28, 32, WIDTH - 40, 105
    chart.data = [counts]
    chart.categoryAxis.categoryNames = names + [f">{top}"]
    chart.groupSpacing = 3
    _style_axes(chart, max(counts, default=0))
    chart.bars[0].strokeColor = None
    for lo in range(top + 1):
        chart.bars[(0, lo)].fillColor = TEAL if lo + 1 <= target else CORAL
    drawing.add(chart)
    x = chart.x + chart.width * min(target, top + 1) / (top + 1)
    drawing.add(Line(x, chart.y, x, chart.y + chart.height + 8, strokeColor=NAVY,
                     strokeWidth=1, strokeDashArray=[3, 2]))
    drawing.add(String(x + 3, chart.y + chart.height + 3, f"target {target:g} min",
                       fontName="Helvetica", fontSize=7.5, fillColor=NAVY))
    drawing.add(String(chart.x, 6, "Minutes from arrival at the sally port to hand-off "
                                   f"(bar n holds times above n-1 and up to n); "
                                   f"{len(report.check_ins)} check-ins timed.",
                       fontName="Helvetica", fontSize=7.5, fillColor=GREY))
    return drawing


def _chart_section(title: str, color, rows: list[tuple[str, int]]) -> KeepTogether:
    """A heading and its bar chart, or a line saying there is nothing to chart."""
    body = _bar_chart(rows, color) if any(n for _, n in rows) else \
        Paragraph("None this month.", BODY)
    return KeepTogether([Paragraph(escape(title), HEADING), body])


def _bar_chart(rows: list[tuple[str, int]], color) -> Drawing:
    height = 16 * len(rows) + 30
    drawing = Drawing(WIDTH, height)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 150, 20, WIDTH - 190, height - 28
    chart.data = [[n for _, n in reversed(rows)]]
    chart.categoryAxis.categoryNames = [label for label, _ in reversed(rows)]
    chart.categoryAxis.labels.fontSize = 8
    chart.categoryAxis.labels.fontName = "Helvetica"
    chart.categoryAxis.labels.dx = -4
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.strokeColor = RULE
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = _axis_max(max((n for _, n in rows), default=0))
    chart.valueAxis.valueStep = _axis_step(chart.valueAxis.valueMax)
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.strokeColor = RULE
    chart.valueAxis.visibleGrid, chart.valueAxis.gridStrokeColor = True, LIGHT
    chart.bars[0].fillColor, chart.bars[0].strokeColor = color, None
    chart.barLabelFormat = "%d"
    chart.barLabels.fontSize, chart.barLabels.boxAnchor, chart.barLabels.dx = 7, "w", 3
    drawing.add(chart)
    return drawing


def _style_axes(chart: VerticalBarChart, largest: float) -> None:
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = _axis_max(largest)
    chart.valueAxis.valueStep = _axis_step(chart.valueAxis.valueMax)
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.strokeColor = RULE
    chart.valueAxis.visibleGrid, chart.valueAxis.gridStrokeColor = True, LIGHT
    chart.categoryAxis.strokeColor = RULE
    chart.categoryAxis.labels.fontSize = 7


def _axis_max(largest: float) -> int:
    """A round top for a count axis, at least 1, so an empty month still draws."""
    step = _axis_step(largest)
    return max(step, int(-(-largest // step) * step))


def _axis_step(largest: float) -> int:
    for step in (1, 2, 5, 10, 20, 50, 100, 200, 500):
        if largest / step <= 6:
            return step
    return 1000


def _footer(report: Report):
    text = (f"{report.month_name}, {report.team_label}  |  generated "
            f"{report.generated_at.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC  |  follow-ups "
            f"judged as of {report.as_of.astimezone(report.period.zone):%Y-%m-%d %H:%M}")

    def draw(canvas, doc):
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(GREY)
        canvas.drawString(doc.leftMargin, 0.45 * inch, text)
        canvas.drawRightString(LETTER[0] - doc.rightMargin, 0.45 * inch, f"page {doc.page}")
        canvas.restoreState()
    return draw


def day_month_year(day) -> str:
    """'1 Nov 2026' on every platform."""
    return f"{day.day} {day:%b %Y}"


def _period_text(report: Report) -> str:
    last = report.period.local_date(report.period.end) - timedelta(days=1)
    return (f"{day_month_year(report.period.start)} to {day_month_year(last)} "
            f"({report.period.zone})")
