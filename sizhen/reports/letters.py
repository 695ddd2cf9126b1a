"""Pure builders of the reminder letter (提醒函) documents: a content dict in, file bytes out.

The content dict is the letter's snapshot (see ``services.gather_content``), so a document can be
rebuilt later exactly as it was sent. The DOCX carries the district comparison as a table rather
than a chart: reportlab's renderPM needs the rlPyCairo backend, which these offline machines lack,
so no PNG of the chart can be produced for Word."""

from __future__ import annotations

from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

from sizhen.core.documents import PDF_FONT, docx_bytes, docx_table, new_docx, pdf_font
from sizhen.core.documents import build_pdf as build_a4_pdf

DISTRICT_HEADERS = ["排名", "区划", "数值", "得分"]
BENCHMARK_HEADERS = ["标杆城市", "数值"]


def format_number(value: Any) -> str:
    if value is None:
        return "—"
    return f"{float(value):.2f}"


def format_date(iso: str) -> str:
    year, month, day = (int(part) for part in iso.split("-"))
    return f"{year}年{month}月{day}日"


def _deadline_text(content: dict[str, Any]) -> str:
    text = format_date(content["deadline"])
    if content.get("deadline_provisional"):
        text += "（该年度节假日安排未公布，期限暂定）"
    return text


def body_paragraphs(content: dict[str, Any]) -> list[str]:
    """The letter's text, shared by both formats so the DOCX and the PDF say the same."""
    indicator = content["indicator"]
    unit = f"（单位：{indicator['unit']}）" if indicator.get("unit") else ""
    rank = (
        f"在 {content['rank_total']} 个参评区划中排名第 {content['rank']} 位"
        if content.get("rank")
        else "暂无排名"
    )
    lines = [
        f"{content['department']}：",
        (
            f"根据营商环境监测数据，{content['period_label']}{content['region']}"
            f"“{indicator['name']}”指标{unit}数值为 {format_number(content['value'])}，"
            f"得分 {format_number(content['score'])}，{rank}。"
            f"全市数值为 {format_number(content.get('city_value'))}。"
        ),
    ]
    if content.get("benchmarks"):
        marks = "、".join(f"{b['city']} {format_number(b['value'])}" for b in content["benchmarks"])
        lines.append(f"同期标杆城市数值：{marks}。")
    lines.append(f"请贵单位作为该指标牵头部门：{content['requested_action']}")
    lines.append(f"请于 {_deadline_text(content)}前将落实情况书面反馈至{content['issuer']}。")
    return lines


def district_rows(content: dict[str, Any]) -> list[list[str]]:
    return [
        [
            str(row["rank"]) if row.get("rank") else "—",
            row["region"],
            format_number(row["value"]),
            format_number(row["score"]),
        ]
        for row in content["districts"]
    ]


def benchmark_rows(content: dict[str, Any]) -> list[list[str]]:
    rows = [[b["city"], format_number(b["value"])] for b in content.get("benchmarks", [])]
    rows.append(["全市", format_number(content.get("city_value"))])
    return rows


# --- DOCX -----------------------------------------------------------------------------------


def build_docx(content: dict[str, Any]) -> bytes:
    document = new_docx(font_size=12)
    document.add_heading("提醒函", level=1)
    document.add_paragraph(content["number"])
    for line in body_paragraphs(content):
        document.add_paragraph(line)
    document.add_paragraph(f"各区划“{content['indicator']['name']}”指标对比")
    docx_table(document, DISTRICT_HEADERS, district_rows(content))
    document.add_paragraph("全市与标杆城市对比")
    docx_table(document, BENCHMARK_HEADERS, benchmark_rows(content))
    document.add_paragraph(content["issuer"])
    document.add_paragraph(format_date(content["issued_on"]))
    return docx_bytes(document)


# --- PDF ------------------------------------------------------------------------------------


def district_chart(content: dict[str, Any]) -> Drawing:
    """A bar chart of the districts' values, the letter's region labelled in the title."""
    rows = content["districts"]
    drawing = Drawing(160 * mm, 70 * mm)
    chart = VerticalBarChart()
    chart.x, chart.y = 15 * mm, 12 * mm
    chart.width, chart.height = 135 * mm, 48 * mm
    chart.data = [[float(row["value"] or 0) for row in rows] or [0]]
    chart.categoryAxis.categoryNames = [row["region"] for row in rows] or ["—"]
    chart.categoryAxis.labels.fontName = PDF_FONT
    chart.valueAxis.labels.fontName = PDF_FONT
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.HexColor("#4c78a8")
    drawing.add(chart)
    drawing.add(
        String(
            15 * mm,
            64 * mm,
            f"{content['indicator']['name']}（{content['period_label']}）",
            fontName=PDF_FONT,
            fontSize=10,
        )
    )
    return drawing


def _pdf_table(headers: list[str], rows: list[list[str]]) -> Table:
    table = Table([headers, *rows], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), PDF_FONT),
                ("FONTSIZE", (0, 0), (-1, -1), 10),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
            ]
        )
    )
    return table


def build_pdf(content: dict[str, Any]) -> bytes:
    pdf_font()
    title = ParagraphStyle("title", fontName=PDF_FONT, fontSize=20, leading=28, alignment=1)
    centre = ParagraphStyle("centre", fontName=PDF_FONT, fontSize=11, leading=16, alignment=1)
    body = ParagraphStyle("body", fontName=PDF_FONT, fontSize=12, leading=20, wordWrap="CJK")
    right = ParagraphStyle("right", parent=body, alignment=2)
    story: list[Any] = [
        Paragraph("提醒函", title),
        Paragraph(content["number"], centre),
        Spacer(1, 6 * mm),
    ]
    story += [Paragraph(line, body) for line in body_paragraphs(content)]
    story += [
        Spacer(1, 4 * mm),
        Paragraph(f"各区划“{content['indicator']['name']}”指标对比", body),
        district_chart(content),
        _pdf_table(DISTRICT_HEADERS, district_rows(content)),
        Spacer(1, 4 * mm),
        Paragraph("全市与标杆城市对比", body),
        _pdf_table(BENCHMARK_HEADERS, benchmark_rows(content)),
        Spacer(1, 8 * mm),
        Paragraph(content["issuer"], right),
        Paragraph(format_date(content["issued_on"]), right),
    ]
    return build_a4_pdf(story, title=content["number"])
