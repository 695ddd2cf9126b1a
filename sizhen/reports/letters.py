"""Pure builders of the reminder letter (提醒函) documents: a content dict in, file bytes out.

The content dict is the letter's snapshot (see ``services.gather_content``), so a document can be
rebuilt later exactly as it was sent. Both formats follow the national format of official
documents (GB/T 9704-2012) through ``core.documents.official`` and say the same sentences
(``opening``, ``requirements``), with the indicator's trend over the last periods as a chart
(matplotlib, PNG in both) and two tables: the benchmark cities, and the region's peers."""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from sizhen.core.documents import chart_font, docx_bytes, docx_table
from sizhen.core.documents.official import (
    GB_LINE_PITCH_PT,
    GB_TEXT_WIDTH_MM,
    MM_PER_PT,
    SIZE_2,
    build_official_pdf,
    docx_body,
    docx_official_head,
    docx_picture,
    docx_signature,
    heavy_paragraph,
    new_official_docx,
    official_closing,
    official_head,
    official_paragraph,
    official_pdf_styles,
    text_ems,
)

CHART_WIDTH_MM = 150
CHART_HEIGHT_IN = 2.9
#: Characters of 二号 type on a 156 mm line.
TITLE_CHARS = int(GB_TEXT_WIDTH_MM / MM_PER_PT / SIZE_2)
#: The closing line of a letter (函) that asks for action.
CLOSING = "特此函告。"
#: Sentence ends inside a requested action: such a text is set as paragraphs of its own.
SENTENCE_END = re.compile(r"[。！？；;!?]")


def format_value(value: Any) -> str:
    """A value as people write it: at most two decimals, no trailing zeros (12.5, 10.25, 8)."""
    if value is None:
        return "—"
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def format_score(value: Any) -> str:
    return "—" if value is None else f"{float(value):.1f}"


def format_date(iso: str) -> str:
    year, month, day = (int(part) for part in iso.split("-"))
    return f"{year}年{month}月{day}日"


def quantity(value: Any, unit: str) -> str:
    """12.5天, 85.3%: official documents set figures and units without spaces."""
    number = format_value(value)
    return number if value is None else f"{number}{unit}"


def _deadline_text(content: dict[str, Any]) -> str:
    text = format_date(content["deadline"])
    if content.get("deadline_provisional"):
        text += "（该年度节假日安排未公布，期限暂定）"
    return text


def title_lines(content: dict[str, Any]) -> list[str]:
    """The title, on two lines when it does not fit one, broken after the indicator's name so
    each line keeps its sense (GB/T 9704 7.3.1: 回行时词意完整, 排列对称)."""
    subject = content["region"] if content.get("is_district", True) else ""
    head = f"关于{subject}“{content['indicator']['name']}”"
    tail = "指标情况的提醒函"
    if text_ems(head + tail) <= TITLE_CHARS:
        return [head + tail]
    return [head, tail]


def title(content: dict[str, Any]) -> str:
    return "".join(title_lines(content))


def _comparison(content: dict[str, Any]) -> str:
    area, mean = content["peer_area"], content.get("peer_mean_score")
    if content.get("score") is None or mean is None:
        if content.get("city_value") is None or not content.get("is_district", True):
            return ""
        return f"全市为{quantity(content['city_value'], content['indicator']['unit'])}"
    difference = round(float(content["score"]) - float(mean), 1)
    if difference == 0:
        return f"与{area}平均水平持平"
    word = "低于" if difference < 0 else "高于"
    return f"{word}{area}平均{abs(difference):.1f}分"


def _rank(content: dict[str, Any]) -> str:
    if not content.get("rank"):
        return ""
    rank, total, area = content["rank"], content["rank_total"], content["peer_area"]
    if area == "全市":
        return f"排名全市第{rank}位（共{total}个地区）"
    return f"在{area}所辖地区中排名第{rank}位（共{total}个）"


def opening(content: dict[str, Any]) -> str:
    """经监测，2026年2月贵区“开办企业时间”指标得分60.0分，低于全市平均15.0分，排名全市第2位
    （共2个地区）。现将有关情况函告如下。"""
    unit = content["indicator"]["unit"]
    figure = (
        f"得分{format_score(content['score'])}分"
        if content.get("score") is not None
        else f"数值为{quantity(content['value'], unit)}"
    )
    clauses = [
        f"{content['period_label']}{content['honorific']}“{content['indicator']['name']}”"
        f"指标{figure}",
        _comparison(content),
        _rank(content),
    ]
    return f"经监测，{'，'.join(c for c in clauses if c)}。现将有关情况函告如下。"


def trend_text(content: dict[str, Any]) -> str:
    unit = content["indicator"]["unit"]
    parts = [f"{content['honorific']}该指标数值为{quantity(content['value'], unit)}"]
    if content.get("is_district", True) and content.get("city_value") is not None:
        parts.append(f"全市为{quantity(content['city_value'], unit)}")
    marks = [
        f"{b['city']}为{quantity(b['value'], unit)}"
        for b in content.get("benchmarks", [])
        if b.get("value") is not None
    ]
    if marks:
        parts.append(f"标杆城市{'、'.join(marks)}")
    periods = len(content["series"]["labels"])
    return f"{content['period_label']}，{'，'.join(parts)}。近{periods}期走势见图1。"


def _clean_action(text: str) -> str:
    text = text.strip()
    text = text[1:] if text.startswith("请") else text
    return text.rstrip("。.；;，, \n")


def requirements(content: dict[str, Any]) -> list[str]:
    """The request: who acts, with whom, what, and by when; a requested action of one sentence
    becomes part of the sentence, a longer one is set as its own paragraphs."""
    action = _clean_action(content["requested_action"])
    who = (
        f"请{content['honorific']}会同{content['department']}（该指标牵头部门）"
        if content.get("is_district", True)
        else "请贵单位作为该指标牵头部门，"
    )
    deadline = _deadline_text(content)
    reply = f"于{deadline}前将整改情况书面反馈{content['issuer']}"
    if "\n" not in action and not SENTENCE_END.search(action):
        return [f"{who}{action}，并{reply}。"]
    lines = [line.strip() for line in content["requested_action"].strip().splitlines()]
    return [
        f"{who.rstrip('，')}按以下要求抓紧整改：",
        *[line for line in lines if line],
        f"请{reply}。",
    ]


def benchmark_headers(content: dict[str, Any]) -> list[str]:
    unit = content["indicator"]["unit"]
    return ["城市（地区）", f"数值（{unit}）" if unit else "数值", "得分"]


def benchmark_rows(content: dict[str, Any]) -> list[list[str]]:
    rows = [
        [b["city"], format_value(b["value"]), format_score(b.get("score"))]
        for b in content.get("benchmarks", [])
    ]
    rows.append(
        ["全市", format_value(content.get("city_value")), format_score(content.get("city_score"))]
    )
    if content.get("is_district", True):
        rows.append(
            [content["region"], format_value(content["value"]), format_score(content["score"])]
        )
    return rows


def district_headers(content: dict[str, Any]) -> list[str]:
    unit = content["indicator"]["unit"]
    return ["排名", "地区", f"数值（{unit}）" if unit else "数值", "得分"]


def district_rows(content: dict[str, Any]) -> list[list[str]]:
    return [
        [
            str(row["rank"]) if row.get("rank") else "—",
            row["region"],
            format_value(row["value"]),
            format_score(row["score"]),
        ]
        for row in content["districts"]
    ]


@dataclass(frozen=True)
class Section:
    """One part of the letter's body, the same in both formats."""

    kind: str  # "heading1", "heading2", "body", "chart", "table"
    text: str = ""
    headers: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


def sections(content: dict[str, Any]) -> list[Section]:
    """The body between the addressee and the closing, in order."""
    area = content["peer_area"]
    bench = content.get("benchmarks")
    bench_text = (
        "同期标杆城市该指标数值及得分见表1。"
        if bench
        else f"同期暂无标杆城市数据，全市及{content['honorific']}数值、得分见表1。"
    )
    out = [
        Section("body", opening(content)),
        Section("heading1", "一、监测情况"),
        Section("heading2", "（一）近期走势"),
        Section("body", trend_text(content)),
        Section("chart", f"图1  {content['region']}“{content['indicator']['name']}”指标走势"),
        Section("heading2", "（二）与标杆城市对比"),
        Section("body", bench_text),
        Section(
            "table",
            "表1  标杆城市对比",
            tuple(benchmark_headers(content)),
            tuple(tuple(r) for r in benchmark_rows(content)),
        ),
    ]
    if content["districts"]:
        out += [
            Section("heading2", f"（三）{area}各地区对比"),
            Section("body", f"{area}各地区该指标数值、得分及排名见表2。"),
            Section(
                "table",
                f"表2  {area}各地区对比",
                tuple(district_headers(content)),
                tuple(tuple(r) for r in district_rows(content)),
            ),
        ]
    departments = content.get("departments") or []
    if departments:
        number = 3 if content["districts"] else 2
        heading = "（四）" if content["districts"] else "（三）"
        tier = "市级部门（全市条线）" if not content["is_district"] else "县市区部门"
        out += [
            Section("heading2", f"{heading}各部门情况"),
            Section(
                "body",
                f"{content['region']}承办该指标业务的部门数值及在全市{tier}中的排名见表{number}。",
            ),
            Section(
                "table",
                f"表{number}  各部门情况",
                tuple(department_headers(content)),
                tuple(tuple(r) for r in department_rows(content)),
            ),
        ]
    out.append(Section("heading1", "二、工作要求"))
    return out


def department_headers(content: dict[str, Any]) -> list[str]:
    unit = content["indicator"]["unit"]
    return ["部门", f"数值（{unit}）" if unit else "数值", "排名", "样本数"]


def department_rows(content: dict[str, Any]) -> list[list[str]]:
    return [
        [
            row["department"],
            format_value(row["value"]),
            f"{row['rank']}/{row['rank_total']}" if row.get("rank") else "—",
            str(row["observations"]),
        ]
        for row in content.get("departments") or []
    ]


def paragraphs(content: dict[str, Any]) -> list[tuple[str, str]]:
    """The letter's text as (kind, text), for the page that shows it (no chart or table)."""
    out = [("title", title(content)), ("addressee", f"{content['addressee']}：")]
    out += [(s.kind, s.text) for s in sections(content) if s.kind not in {"chart", "table"}]
    out += [("body", line) for line in [*requirements(content), CLOSING]]
    out += [("signature", content["organ"]), ("signature", format_date(content["issued_on"]))]
    return out


# --- the chart ------------------------------------------------------------------------------


def trend_chart(content: dict[str, Any]) -> bytes:
    """The region's values over the last periods against the city and the benchmark cities,
    a PNG for both documents."""
    from matplotlib.figure import Figure

    series = content["series"]
    labels = series["labels"]
    font = chart_font()
    small = font.copy() if font is not None else None
    if small is not None:
        small.set_size(8)
    figure = Figure(figsize=(CHART_WIDTH_MM / 25.4, CHART_HEIGHT_IN), dpi=160)
    axes = figure.subplots()
    lines = [(content["region"], series["region"], "#c00000", "-", "o")]
    if content.get("is_district", True):
        lines.append(("全市", series["city"], "#404040", "--", "s"))
    palette = ["#1f5fa8", "#2e7d32", "#7b1fa2", "#ef6c00"]
    for index, (city, values) in enumerate(series["benchmarks"].items()):
        lines.append((f"标杆：{city}", values, palette[index % len(palette)], ":", "^"))
    positions = list(range(len(labels)))
    for name, values, colour, style, marker in lines:
        ys = [math.nan if v is None else float(v) for v in values]
        axes.plot(
            positions, ys, color=colour, linestyle=style, marker=marker, markersize=3.5,
            linewidth=1.5, label=name,
        )  # fmt: skip
    axes.set_xticks(positions)
    axes.set_xticklabels(labels, fontproperties=small)
    for tick in axes.get_yticklabels():
        tick.set_fontproperties(small)
    unit = content["indicator"]["unit"]
    if unit:
        axes.set_ylabel(unit, fontproperties=small)
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(prop=small, frameon=False, ncol=min(len(lines), 4), loc="upper center",
                bbox_to_anchor=(0.5, 1.16))  # fmt: skip
    # Fixed margins: tight_layout would draw the figure once more to measure it.
    figure.subplots_adjust(left=0.08, right=0.98, bottom=0.1, top=0.84)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


# --- DOCX -----------------------------------------------------------------------------------


def _docx_section(document: Any, section: Section, chart: bytes) -> None:
    if section.kind == "heading1":
        docx_body(document, section.text, style="一级标题", indent=False)
    elif section.kind == "heading2":
        docx_body(document, section.text, style="二级标题", indent=False)
    elif section.kind == "body":
        docx_body(document, section.text)
    elif section.kind == "chart":
        docx_picture(document, chart, width_mm=CHART_WIDTH_MM)
        document.add_paragraph(section.text, style="图表标题")
    else:
        caption = document.add_paragraph(section.text, style="图表标题")
        caption.paragraph_format.keep_with_next = True
        docx_table(
            document,
            list(section.headers),
            section.rows,
            header_style="表头",
            cell_style="表格文字",
        )


def render(content: dict[str, Any]) -> tuple[bytes, bytes]:
    """The letter as (DOCX, PDF), drawing the chart once for both."""
    chart = trend_chart(content)
    return build_docx(content, chart=chart), build_pdf(content, chart=chart)


def build_docx(content: dict[str, Any], *, chart: bytes | None = None) -> bytes:
    from docx.shared import Pt

    document = new_official_docx()
    docx_official_head(document, content["organ"], content["number"])
    heading = document.add_paragraph(style="公文标题")
    for index, line in enumerate(title_lines(content)):
        if index:
            heading.add_run().add_break()
        heading.add_run(line)
    heading.paragraph_format.space_after = Pt(GB_LINE_PITCH_PT)
    docx_body(document, f"{content['addressee']}：", indent=False)
    chart = chart if chart is not None else trend_chart(content)
    for section in sections(content):
        _docx_section(document, section, chart)
    for line in requirements(content):
        docx_body(document, line)
    docx_body(document, CLOSING)
    docx_signature(document, content["organ"], format_date(content["issued_on"]), keep=2)
    return docx_bytes(document)


# --- PDF ------------------------------------------------------------------------------------


def _pdf_table(section: Section, styles: dict[str, Any]) -> Any:
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, Table, TableStyle

    head = [Paragraph(escape(text), styles["table_head"]) for text in section.headers]
    body = [[Paragraph(escape(text), styles["table"]) for text in row] for row in section.rows]
    width = GB_TEXT_WIDTH_MM * mm
    first = 0.4 if len(section.headers) == 3 else 0.15
    rest = (1 - first) / (len(section.headers) - 1)
    table = Table(
        [head, *body],
        colWidths=[width * first, *[width * rest] * (len(section.headers) - 1)],
        repeatRows=1,
    )
    table.setStyle(
        TableStyle(
            [
                # Cells are paragraphs, but the table sets its own font first (Helvetica,
                # which would be the one face not embedded).
                ("FONTNAME", (0, 0), (-1, -1), styles["table"].fontName),
                ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
            ]
        )
    )
    return KeepTogether([official_paragraph(section.text, styles["caption"]), table])


def build_pdf(content: dict[str, Any], *, chart: bytes | None = None) -> bytes:
    from reportlab.lib.units import mm
    from reportlab.platypus import Image, KeepTogether, Spacer

    styles = official_pdf_styles()
    story: list[Any] = [
        official_head(content["organ"], content["number"]),
        heavy_paragraph(title_lines(content), styles["title"]),
        Spacer(1, styles["body"].leading),
        official_paragraph(f"{content['addressee']}：", styles["addressee"]),
    ]
    chart = chart if chart is not None else trend_chart(content)
    body = sections(content)
    # The last heading goes with the request and the signature: reportlab's keep-with-next
    # does not reach into a block kept together, so a heading there could end a page alone.
    heading = body.pop()
    for section in body:
        if section.kind == "chart":
            height = CHART_HEIGHT_IN * 25.4 * mm
            image = Image(io.BytesIO(chart), width=CHART_WIDTH_MM * mm, height=height)
            caption = official_paragraph(section.text, styles["caption"])
            story.append(KeepTogether([image, caption]))
        elif section.kind == "table":
            story += [_pdf_table(section, styles), Spacer(1, styles["body"].leading / 2)]
        else:
            story.append(official_paragraph(section.text, styles[section.kind]))
    last = [
        official_paragraph(heading.text, styles[heading.kind]),
        *[official_paragraph(line, styles["body"]) for line in requirements(content)],
        official_paragraph(CLOSING, styles["body"]),
    ]
    story.append(official_closing(last, content["organ"], format_date(content["issued_on"])))
    return build_official_pdf(story, title=title(content))
