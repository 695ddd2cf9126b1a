"""The reminder letter as an official document (GB/T 9704-2012): page, fonts, the head, the
sentences, the tables, the signature kept with the last paragraph, in both formats."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from pypdf import PdfReader

from sizhen.indicators.catalogue.models import EvaluationCycle, Goalpost
from sizhen.reports import services
from sizhen.reports.tests.conftest import PERIOD

pytestmark = pytest.mark.django_db

OPENING = (
    "经监测，2026年2月贵区“开办企业时间”指标得分60.0分，低于全市平均15.0分，"
    "排名全市第2位（共2个地区）。现将有关情况函告如下。"
)
REQUEST = (
    "请贵区会同市市场监督管理局（该指标牵头部门）分析开办企业时间偏长的原因，提出整改措施，"
    "并于2026年3月16日前将整改情况书面反馈市营商环境建设局。"
)


@pytest.fixture
def letter(personas: dict[str, Any], lagging: dict[str, Any], today: dt.date) -> Any:
    return services.create_letter(
        actor=personas["coordinator"],
        indicator=lagging["indicator"],
        region=lagging["region"],
        period=PERIOD,
        requested_action="请分析开办企业时间偏长的原因，提出整改措施。",
        deadline_days=10,
    )


def _east_asia(style: Any) -> str:
    return str(style.element.rPr.rFonts.get(qn("w:eastAsia")))


def test_docx_page_is_a4_with_the_national_margins_and_grid(letter: Any) -> None:
    document = Document(io.BytesIO(letter.docx.read()))
    section = document.sections[0]

    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    margins = (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    assert [round(m.mm) for m in margins] == [37, 35, 28, 26]
    grid = section._sectPr.find(qn("w:docGrid"))
    # 22 lines of 28.95 pt and a character pitch of 15.79 pt (28 a line) at 三号.
    assert (grid.get(qn("w:type")), grid.get(qn("w:linePitch")), grid.get(qn("w:charSpace"))) == (
        "linesAndChars",
        "579",
        "-848",
    )


def test_docx_names_the_standard_east_asian_fonts(letter: Any) -> None:
    styles = Document(io.BytesIO(letter.docx.read())).styles

    assert {
        name: _east_asia(styles[name])
        for name in ("Normal", "发文机关标志", "公文标题", "一级标题", "二级标题", "落款", "页码")
    } == {
        "Normal": "仿宋_GB2312",
        "发文机关标志": "方正小标宋简体",
        "公文标题": "方正小标宋简体",
        "一级标题": "黑体",
        "二级标题": "楷体_GB2312",
        "落款": "仿宋_GB2312",
        "页码": "宋体",
    }
    assert styles["Normal"].font.size.pt == 16  # 三号
    assert styles["公文标题"].font.size.pt == 22  # 二号
    assert str(styles["发文机关标志"].font.color.rgb) == "FF0000"


def test_docx_head_number_title_and_signature_in_place(letter: Any) -> None:
    paragraphs = Document(io.BytesIO(letter.docx.read())).paragraphs
    texts = [p.text for p in paragraphs]

    mark, number, title, addressee = paragraphs[:4]
    assert (mark.text, mark.style.name) == ("示范市营商环境建设局", "发文机关标志")
    assert (number.text, number.style.name) == ("示范营商提醒〔2026〕1号", "发文字号")
    rule = number._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
    assert (rule.get(qn("w:color")), rule.get(qn("w:val"))) == ("FF0000", "single")
    assert (title.text, title.style.name) == (
        "关于东湖区“开办企业时间”\n指标情况的提醒函",
        "公文标题",
    )
    assert addressee.text == "东湖区："
    assert texts[-5:] == [REQUEST, "特此函告。", "", "示范市营商环境建设局", "2026年3月2日"]
    signature, date = paragraphs[-2:]
    assert signature.style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    # 落款 two characters from the right; the date starts two characters right of it.
    assert (signature.paragraph_format.right_indent.pt, date.paragraph_format.right_indent.pt) == (
        32.0,
        64.0,
    )


def test_docx_keeps_the_last_paragraphs_with_the_signature(letter: Any) -> None:
    paragraphs = Document(io.BytesIO(letter.docx.read())).paragraphs

    kept = [p.paragraph_format.keep_with_next for p in paragraphs[-5:]]
    assert kept == [True, True, True, True, None]
    assert paragraphs[-1].paragraph_format.keep_together is True
    assert [p.text for p in paragraphs if p.style.name in {"一级标题", "二级标题"}] == [
        "一、监测情况",
        "（一）近期走势",
        "（二）与标杆城市对比",
        "（三）全市各地区对比",
        "二、工作要求",
    ]


def test_docx_tables_show_benchmark_cities_value_and_score_apart(letter: Any) -> None:
    tables = Document(io.BytesIO(letter.docx.read())).tables

    rows = [[cell.text for cell in row.cells] for row in tables[0].rows]
    assert rows == [
        ["城市（地区）", "数值（天）", "得分"],
        ["深圳市", "1.5", "—"],
        ["全市", "10.25", "—"],
        ["东湖区", "12.5", "60.0"],
    ]
    assert tables[0].rows[0].cells[0].paragraphs[0].style.name == "表头"


def test_docx_has_the_trend_chart_and_page_numbers(letter: Any) -> None:
    document = Document(io.BytesIO(letter.docx.read()))

    pictures = [r for r in document.part.rels.values() if r.reltype.endswith("/image")]
    assert len(pictures) == 1
    assert pictures[0].target_part.blob.startswith(b"\x89PNG")
    assert document.settings.odd_and_even_pages_header_footer is True
    section = document.sections[0]
    for footer in (section.footer, section.even_page_footer):
        xml = footer.paragraphs[0]._p.xml
        assert "PAGE" in xml
        assert footer.paragraphs[0].text == "—  —"  # the number is a field between the rules


def _pdf_pages(letter: Any) -> list[str]:
    reader = PdfReader(io.BytesIO(letter.pdf.read()))
    return [page.extract_text() for page in reader.pages]


def _flat(text: str) -> str:
    return "".join(text.split())


def test_pdf_states_the_sentences(letter: Any) -> None:
    text = _flat("".join(_pdf_pages(letter)))

    assert "示范市营商环境建设局" in text
    assert "示范营商提醒〔2026〕1号" in text
    assert "关于东湖区“开办企业时间”指标情况的提醒函" in text
    assert _flat(OPENING) in text
    assert _flat(REQUEST) in text
    assert "特此函告。" in text


def test_pdf_keeps_signature_and_date_on_the_last_paragraph_page(letter: Any) -> None:
    pages = [_flat(page) for page in _pdf_pages(letter)]

    last = [page for page in pages if "特此函告。" in page]
    assert len(last) == 1
    assert "示范市营商环境建设局2026年3月2日" in last[0]
    assert _flat(REQUEST) in last[0]


def test_pdf_page_is_a4_with_numbers_and_embedded_fonts(letter: Any) -> None:
    reader = PdfReader(io.BytesIO(letter.pdf.read()))

    first = reader.pages[0]
    assert (round(float(first.mediabox.width)), round(float(first.mediabox.height))) == (595, 842)
    for number, page in enumerate(reader.pages, start=1):
        assert f"— {number} —" in page.extract_text()
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            assert "/FontFile2" in font["/FontDescriptor"], font["/BaseFont"]


def test_benchmark_scores_use_the_cycles_goalposts(
    personas: dict[str, Any], lagging: dict[str, Any], today: dt.date
) -> None:
    cycle = EvaluationCycle.objects.create(
        code="2026",
        name="2026年度",
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 12, 31),
        is_current=True,
    )
    Goalpost.objects.create(indicator=lagging["indicator"], cycle=cycle, best=1.0, worst=21.0)

    letter = services.create_letter(
        actor=personas["coordinator"],
        indicator=lagging["indicator"],
        region=lagging["region"],
        period=PERIOD,
        requested_action="请提出整改措施。",
        deadline_days=10,
    )

    # Lower is better: 1.5 days scores 100 × (21 − 1.5) / (21 − 1) = 97.5; the city 53.75.
    assert letter.content["benchmarks"] == [{"city": "深圳市", "value": 1.5, "score": 97.5}]
    assert letter.content["city_score"] == 53.75
    rows = [
        [c.text for c in r.cells] for r in Document(io.BytesIO(letter.docx.read())).tables[0].rows
    ]
    assert rows[1:3] == [["深圳市", "1.5", "97.5"], ["全市", "10.25", "53.8"]]


# -- the sentences, on their own ---------------------------------------------------------------


def _content(**overrides: Any) -> dict[str, Any]:
    content = {
        "indicator": {"code": "A01", "name": "获得电力", "unit": "天"},
        "region": "南湾区",
        "is_district": True,
        "addressee": "南湾区",
        "honorific": "贵区",
        "period_label": "2026年10月",
        "value": 3.5,
        "score": 62.4,
        "rank": 9,
        "rank_total": 10,
        "city_value": 2.0,
        "peer_area": "全市",
        "peer_mean_score": 70.5,
        "department": "市发展和改革委员会",
        "issuer": "市营商环境建设局",
        "requested_action": "请分析原因，提出整改措施。",
        "deadline": "2026-12-21",
        "deadline_provisional": False,
    }
    return {**content, **overrides}


def test_opening_reads_as_official_chinese() -> None:
    from sizhen.reports.letters import opening

    assert opening(_content()) == (
        "经监测，2026年10月贵区“获得电力”指标得分62.4分，低于全市平均8.1分，"
        "排名全市第9位（共10个地区）。现将有关情况函告如下。"
    )
    assert opening(_content(score=80.0, rank=1)) == (
        "经监测，2026年10月贵区“获得电力”指标得分80.0分，高于全市平均9.5分，"
        "排名全市第1位（共10个地区）。现将有关情况函告如下。"
    )
    # Without goalposts there is no score: the value, against the city's.
    assert opening(_content(score=None, peer_mean_score=None, rank=None)) == (
        "经监测，2026年10月贵区“获得电力”指标数值为3.5天，全市为2天。现将有关情况函告如下。"
    )
    # A park under a district is ranked among that district's regions.
    assert opening(_content(peer_area="东湖区", honorific="贵区")) == (
        "经监测，2026年10月贵区“获得电力”指标得分62.4分，低于东湖区平均8.1分，"
        "在东湖区所辖地区中排名第9位（共10个）。现将有关情况函告如下。"
    )


def test_requirements_fold_a_one_sentence_request_into_the_sentence() -> None:
    from sizhen.reports.letters import requirements

    assert requirements(_content()) == [
        "请贵区会同市发展和改革委员会（该指标牵头部门）分析原因，提出整改措施，"
        "并于2026年12月21日前将整改情况书面反馈市营商环境建设局。"
    ]
    assert requirements(_content(deadline_provisional=True))[0].endswith(
        "并于2026年12月21日（该年度节假日安排未公布，期限暂定）前将整改情况书面反馈市营商环境建设局。"
    )


def test_requirements_set_a_longer_request_as_paragraphs() -> None:
    from sizhen.reports.letters import requirements

    action = "一是梳理报装流程。二是压缩审批时限。"

    assert requirements(_content(requested_action=action)) == [
        "请贵区会同市发展和改革委员会（该指标牵头部门）按以下要求抓紧整改：",
        "一是梳理报装流程。二是压缩审批时限。",
        "请于2026年12月21日前将整改情况书面反馈市营商环境建设局。",
    ]


def test_a_city_wide_letter_goes_to_the_lead_department() -> None:
    from sizhen.reports.letters import requirements, title

    content = _content(is_district=False, region="示范市", honorific="全市")

    assert title(content) == "关于“获得电力”指标情况的提醒函"
    assert requirements(content) == [
        "请贵单位作为该指标牵头部门，分析原因，提出整改措施，"
        "并于2026年12月21日前将整改情况书面反馈市营商环境建设局。"
    ]


def test_regions_are_addressed_by_their_kind() -> None:
    from sizhen.organisations.models import Region
    from sizhen.reports.content import honorific

    assert [honorific(Region(name=n)) for n in ("南湾区", "临江县", "海滨市", "高新园")] == [
        "贵区",
        "贵县",
        "贵市",
        "贵单位",
    ]


def test_a_city_wide_letter_states_the_figure_without_comparing_it_with_itself() -> None:
    from sizhen.reports.letters import opening

    content = _content(is_district=False, honorific="全市", peer_mean_score=None, rank=None)

    assert opening(content) == (
        "经监测，2026年10月全市“获得电力”指标得分62.4分。现将有关情况函告如下。"
    )


def test_a_letter_names_the_departments_behind_the_figure(
    personas: dict[str, Any], lagging: dict[str, Any], today: dt.date, city: dict[str, Any]
) -> None:
    """部门维度 in the letter: the district's departments handling the indicator, with their
    figures and ranks among the city's district departments, as table 3 (table 2 compares the
    districts); another district's department is not named."""
    from sizhen.indicators.catalogue.models import DepartmentIndicatorValue

    for department, value, rank in ((city["a_dept"], 12.5, 2), (city["b_dept"], 8.0, 1)):
        DepartmentIndicatorValue.objects.create(
            indicator=lagging["indicator"], department=department, period=PERIOD,
            frequency="month", value=value, observations=40, rank=rank, rank_total=2,
        )  # fmt: skip
    letter = services.create_letter(
        actor=personas["coordinator"],
        indicator=lagging["indicator"],
        region=lagging["region"],
        period=PERIOD,
        requested_action="请分析开办企业时间偏长的原因，提出整改措施。",
        deadline_days=10,
    )
    assert letter.content["departments"] == [
        {"department": "东湖区市场监督管理局", "value": 12.5, "rank": 2, "rank_total": 2,
         "observations": 40},
    ]  # fmt: skip
    tables = Document(io.BytesIO(letter.docx.read())).tables
    assert [[cell.text for cell in row.cells] for row in tables[-1].rows] == [
        ["部门", "数值（天）", "排名", "样本数"],
        ["东湖区市场监督管理局", "12.5", "2/2", "40"],
    ]
    text = _flat("".join(_pdf_pages(letter)))
    assert _flat("（四）各部门情况") in text
    assert _flat("东湖区承办该指标业务的部门数值及在全市县市区部门中的排名见表3。") in text
    assert "西山区市场监督管理局" not in text
