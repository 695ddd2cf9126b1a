"""部门维度 on the indicator page, the cockpit and the task form: each department's figure and
rank within its tier, the city department's line, export, and nobody seeing another
department's figures."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook

from sizhen.indicators.catalogue.choices import SourceKind
from sizhen.indicators.catalogue.models import DepartmentIndicatorValue, Indicator, IndicatorValue
from sizhen.organisations.models import Department

FEB, MAR = dt.date(2026, 2, 1), dt.date(2026, 3, 1)

pytestmark = pytest.mark.django_db


@pytest.fixture
def figures(city: dict[str, Any]) -> dict[str, Any]:
    top = Indicator.objects.create(code="T", name="测试一级指标", direction="higher_is_better")
    rate = Indicator.objects.create(
        code="T01", name="按时办结率", parent=top, level=1, unit="%", weight=1,
        direction="higher_is_better", sort_order=1,
    )  # fmt: skip
    days = Indicator.objects.create(
        code="T02", name="平均办理时长", parent=top, level=1, unit="个工作日", weight=1,
        direction="lower_is_better", sort_order=2,
    )  # fmt: skip
    Indicator.objects.create(
        code="T03", name="营商满意度", parent=top, level=1, unit="分", weight=1,
        direction="higher_is_better", sort_order=3,
    )  # fmt: skip
    Department.objects.filter(code__in=["DH-SCJG", "XS-SCJG"]).update(superior=city["market"])
    for indicator, period in ((rate, MAR), (top, MAR)):
        IndicatorValue.objects.create(
            indicator=indicator, region=city["root"], period=period, frequency="month",
            source_kind="records", value=90.0,
        )  # fmt: skip
    rows = [
        # (indicator, department, period, value, observations, rank, total)
        (rate, "SZ-SCJG", MAR, 90.0, 200, 1, 1),
        (rate, "DH-SCJG", MAR, 95.0, 120, 1, 2),
        (rate, "XS-SCJG", MAR, 82.5, 80, 2, 2),
        (rate, "DH-SCJG", FEB, 91.0, 110, 1, 2),
        (days, "DH-SCJG", MAR, 4.2, 120, 2, 2),
        (days, "XS-SCJG", MAR, 3.1, 80, 1, 2),
    ]
    for indicator, code, period, value, observations, rank, total in rows:
        DepartmentIndicatorValue.objects.create(
            indicator=indicator, department=Department.objects.get(code=code), period=period,
            frequency="month", value=value, observations=observations, rank=rank,
            rank_total=total,
        )  # fmt: skip
    return {"top": top, "rate": rate, "days": days}


def _section(page: str) -> str:
    match = re.search(r'<section id="departments".*?</section>', page, re.S)
    assert match, "no departments section"
    return match.group(0)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_leaf_shows_every_department_by_tier_with_rank_and_change(figures, client_for):
    page = client_for("coordinator").get("/dashboards/indicators/T01/").content.decode()
    text = _text(_section(page))
    assert "各部门排名（2026-03）" in text
    assert (
        "市级部门（全市条线）（1 个） 部门 按时办结率 数值 · 排名 操作 市场监督管理局 90% · 1/1"
        in text
    )
    assert "东湖区市场监督管理局 95% · 1/2 较上期 +4 下发任务" in text
    assert "西山区市场监督管理局 82.5% · 2/2" in text
    # District departments after the city's line.
    assert text.index("县市区部门") > text.index("市场监督管理局 90%")
    assert "?indicator=T01&amp;department=XS-SCJG&amp;period=2026-03" in page


def test_a_first_level_indicator_shows_its_leaves_side_by_side(figures, client_for):
    page = client_for("leader").get("/dashboards/indicators/T/").content.decode()
    text = _text(_section(page))
    # Only the leaves with department figures are columns; lower is better for 时长.
    assert "按时办结率 数值 · 排名 平均办理时长 数值 · 排名" in text
    # A leaf whose sources record no department is listed with whom it answers to (the
    # leader has no task link, so no 操作 column).
    assert "营商满意度 数值" not in text
    assert "其他指标的责任部门" in text
    assert "T03 营商满意度 — 部门填报 — — —" in text
    assert "西山区市场监督管理局 82.5% · 2/2 3.1个工作日 · 1/2" in text
    assert "东湖区市场监督管理局 95% · 1/2 较上期 +4 4.2个工作日 · 2/2" in text
    assert "市场监督管理局 90% · 1/1 —" in text


def test_without_department_data_the_page_says_why(figures, client_for, city):
    leaf = Indicator.objects.get(code="T03")
    leaf.lead_department = city["market"]
    leaf.save()
    IndicatorValue.objects.create(
        indicator=leaf, region=city["root"], period=MAR, frequency="month",
        source_kind=SourceKind.FILLING, value=88.0,
    )  # fmt: skip
    page = client_for("coordinator").get("/dashboards/indicators/T03/").content.decode()
    text = _text(_section(page))
    assert (
        "该指标的数据来源未记录办理部门，暂无分部门排名；各项由下列部门负责报送"
        "（牵头部门：市场监督管理局）" in text
    )
    assert "T03 营商满意度 市场监督管理局 部门填报 2026-03 88分 已报送" in text
    assert (
        client_for("coordinator").get("/dashboards/indicators/T03/?export=departments").status_code
        == 404
    )


@pytest.mark.parametrize(
    ("persona", "seen", "unseen"),
    [
        ("lead_department", ["东湖区市场监督管理局", "西山区市场监督管理局"], []),
        ("responsible_department", ["东湖区市场监督管理局 95% · 1/2"], ["西山区"]),
        (
            "district_b",
            ["西山区市场监督管理局 82.5% · 2/2"],
            ["东湖区", "市级部门（全市条线） 部门"],
        ),
    ],
)
def test_each_department_and_district_sees_its_own_figures(
    figures, client_for, persona, seen, unseen
):
    response = client_for(persona).get("/dashboards/indicators/T01/")
    assert response.status_code == 200
    text = _text(_section(response.content.decode()))
    for name in seen:
        assert name in text
    for name in unseen:
        assert name not in text
    # Not the coordinator's task link.
    assert "下发任务" not in text


def test_the_departments_export(figures, client_for):
    response = client_for("coordinator").get("/dashboards/indicators/T/?export=departments")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "层级",
        "部门编码",
        "部门",
        "指标",
        "数值",
        "单位",
        "样本数",
        "排名",
        "参与排名数",
    )
    assert rows[1:] == [
        (
            "市级部门（全市条线）",
            "SZ-SCJG",
            "市场监督管理局",
            "T01 按时办结率",
            90.0,
            "%",
            200,
            1,
            1,
        ),
        ("县市区部门", "DH-SCJG", "东湖区市场监督管理局", "T01 按时办结率", 95.0, "%", 120, 1, 2),
        (
            "县市区部门",
            "DH-SCJG",
            "东湖区市场监督管理局",
            "T02 平均办理时长",
            4.2,
            "个工作日",
            120,
            2,
            2,
        ),
        ("县市区部门", "XS-SCJG", "西山区市场监督管理局", "T01 按时办结率", 82.5, "%", 80, 2, 2),
        (
            "县市区部门",
            "XS-SCJG",
            "西山区市场监督管理局",
            "T02 平均办理时长",
            3.1,
            "个工作日",
            80,
            1,
            2,
        ),
    ]
    # The district sees its own department only in the export too.
    response = client_for("district_b").get("/dashboards/indicators/T/?export=departments")
    rows = list(
        load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True)
    )
    assert [r[1] for r in rows[1:]] == ["XS-SCJG", "XS-SCJG"]


def test_a_task_to_a_department_starts_from_its_figure(figures, client_for):
    page = (
        client_for("coordinator")
        .get("/tasks/issue/?indicator=T01&department=XS-SCJG&period=2026-03")
        .content.decode()
    )
    assert "西山区市场监督管理局“按时办结率”提升整改" in page
    assert (
        "2026-03 西山区市场监督管理局 按时办结率 82.50%（样本 80 件），在 2 个县市区部门中排第 2 名。"
        in page
    )
    # A figure that does not exist prefills nothing.
    page = (
        client_for("coordinator")
        .get("/tasks/issue/?indicator=T01&department=XS-SCJG&period=2025-01")
        .content.decode()
    )
    assert "提升整改" not in page


def test_the_api_answers_each_caller_its_own_departments(figures, client_for):
    url = "/api/v1/indicators/T01/departments?from=2026-03&to=2026-03"
    items = client_for("coordinator").get(url).json()["items"]
    assert [
        (i["department_code"], i["tier"], i["value"], i["rank"], i["rank_total"]) for i in items
    ] == [
        ("SZ-SCJG", "city", 90.0, 1, 1),
        ("DH-SCJG", "district", 95.0, 1, 2),
        ("XS-SCJG", "district", 82.5, 2, 2),
    ]
    items = client_for("responsible_department").get(url).json()["items"]
    assert [i["department_code"] for i in items] == ["DH-SCJG"]
    # Another department by name is not found for them; an enterprise gets nothing at all.
    other = client_for("responsible_department").get(url + "&department=XS-SCJG")
    assert other.status_code == 404
    assert client_for("enterprise").get(url).status_code == 404
    assert client_for("coordinator").get(url.replace("2026-03&", "2026-13&")).status_code == 400
