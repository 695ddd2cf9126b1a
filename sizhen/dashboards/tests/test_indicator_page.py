"""The one-indicator page (一指标一页面): exact figures, chart payloads, XLSX exports and the
authorisation matrix, on a small hand-built tree."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from typing import Any

import pytest
from openpyxl import load_workbook

from sizhen.core.models import AuditEvent
from sizhen.indicators.catalogue.choices import SourceKind
from sizhen.indicators.catalogue.models import (
    Benchmark,
    EvaluationCycle,
    Goalpost,
    Indicator,
    IndicatorValue,
)
from sizhen.indicators.filling import services as filling_services
from sizhen.organisations import services as org
from sizhen.organisations.choices import RegionLevel

MAR_2025 = dt.date(2025, 3, 1)
JAN, FEB, MAR = dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1)
APR = dt.date(2026, 4, 1)
URL = "/dashboards/indicators/T01.01/"


def _value(indicator, region, period, value, kind=SourceKind.RECORDS, **scores):
    return IndicatorValue.objects.create(
        indicator=indicator,
        region=region,
        period=period,
        frequency="month",
        source_kind=kind,
        value=value,
        **scores,
    )


@pytest.fixture
def tree(city: dict[str, Any], personas: dict[str, Any]) -> dict[str, Any]:
    """T -> T01 -> T01.01 (monthly %, target 92) and T01.02 (no values). Seven districts ranked
    in March 2026: 东湖区 1st ... 西山区 7th; the city has values from three source kinds."""
    root = city["root"]
    districts = {"449901": city["district_a"], "449902": city["district_b"]}
    for code, name in (
        ("449903", "南湖区"),
        ("449904", "北山区"),
        ("449905", "中洲区"),
        ("449906", "青溪县"),
        ("449907", "白石县"),
    ):
        districts[code] = org.create_region(
            actor=None, code=code, name=name, level=RegionLevel.DISTRICT, parent=root
        )
    top = Indicator.objects.create(code="T", name="测试总指数", direction="higher_is_better")
    parent = Indicator.objects.create(
        code="T01", name="政务服务", parent=top, level=1, direction="higher_is_better"
    )
    leaf = Indicator.objects.create(
        code="T01.01",
        name="按时办结率",
        parent=parent,
        level=2,
        unit="%",
        direction="higher_is_better",
        sort_order=1,
    )
    # Reported once a year: without a value yet, it does not hold the monthly parent back.
    Indicator.objects.create(
        code="T01.02",
        name="办理时长",
        parent=parent,
        level=2,
        unit="天",
        direction="lower_is_better",
        frequency="year",
        sort_order=2,
    )
    cycle = EvaluationCycle.objects.create(
        code="2026",
        name="2026年度",
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 12, 31),
        is_current=True,
    )
    Goalpost.objects.create(indicator=leaf, cycle=cycle, best=100, worst=50, target=92)
    Benchmark.objects.create(indicator=leaf, city="深圳", period=FEB, value=95)
    Benchmark.objects.create(indicator=leaf, city="深圳", period=MAR, value=96)
    Benchmark.objects.create(indicator=leaf, city="杭州", period=MAR, value=93)
    # The city: records 80 (March 2025), 88, 90; a filling 91 and a survey 70 beside them.
    _value(leaf, root, MAR_2025, 80)
    _value(leaf, root, FEB, 88)
    _value(leaf, root, MAR, 90, score=80.0)
    _value(leaf, root, MAR, 91, kind=SourceKind.FILLING)
    _value(leaf, root, JAN, 70, kind=SourceKind.SURVEY)
    for rank, (code, value) in enumerate(
        (
            ("449901", 95),
            ("449903", 92),
            ("449904", 90.5),
            ("449905", 85),
            ("449906", 80),
            ("449907", 70),
            ("449902", 60),
        ),
        start=1,
    ):
        _value(leaf, districts[code], MAR, value, score=2.0 * (value - 50), rank=rank, rank_total=7)
    _value(leaf, districts["449901"], FEB, 100)
    _value(parent, root, MAR, 80, kind=SourceKind.COMPOSITE, score=80.0)
    return {"leaf": leaf, "parent": parent, "districts": districts, **city}


def _payload(response, element_id: str) -> Any:
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match is not None
    return json.loads(match.group(1))


def _sheet(response) -> list[list[Any]]:
    workbook = load_workbook(io.BytesIO(response.content))
    return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]


# -- figures --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_city_at_a_glance(tree, client_for):
    response = client_for("coordinator").get(URL)
    assert response.status_code == 200
    o = response.context["o"]
    assert o.region == tree["root"]
    # Records are preferred over the filling (91) of the same period.
    assert (o.current.period, o.current.value, o.current.source_kind) == (MAR, 90, "records")
    assert o.current.score == 80.0
    assert o.current_label == "2026-03"
    assert o.direction_label == "正向（越高越好）"
    assert (o.month_on_month.label, o.month_on_month.previous_value) == ("2026-02", 88)
    assert o.month_on_month.change == 2.0
    assert o.month_on_month.change_percent == pytest.approx(2 / 88 * 100, abs=1e-12)
    assert o.month_on_month.improved is True
    assert (o.year_on_year.label, o.year_on_year.previous_value) == ("2025-03", 80)
    assert (o.year_on_year.change, o.year_on_year.change_percent) == (10.0, 12.5)
    assert o.target == 92
    text = response.content.decode()
    assert 'data-testid="current-value">90.00%</div>' in text
    assert "+2.00" in text and "+12.5%" in text


@pytest.mark.django_db
def test_districts_ranked_with_leaders_and_laggards(tree, client_for):
    o = client_for("coordinator").get(URL).context["o"]
    assert [(r.region.code, r.value, r.rank, r.rank_total, r.flag) for r in o.districts] == [
        ("449901", 95, 1, 7, "leader"),
        ("449903", 92, 2, 7, "leader"),
        ("449904", 90.5, 3, 7, "leader"),
        ("449905", 85, 4, 7, ""),
        ("449906", 80, 5, 7, "laggard"),
        ("449907", 70, 6, 7, "laggard"),
        ("449902", 60, 7, 7, "laggard"),
    ]


@pytest.mark.django_db
def test_district_page_and_its_links(tree, client_for):
    response = client_for("coordinator").get(URL + "?region=449901")
    o = response.context["o"]
    assert o.region.code == "449901"
    assert (o.current.value, o.current.rank, o.current.rank_total) == (95, 1, 7)
    assert (o.month_on_month.previous_value, o.month_on_month.change) == (100, -5.0)
    assert o.month_on_month.improved is False
    assert o.year_on_year.previous_value is None and o.year_on_year.change is None
    assert o.sources_by_period == []
    assert '<a href="?region=449902">西山区</a>' in response.content.decode()


@pytest.mark.django_db
def test_chart_payloads(tree, client_for):
    response = client_for("coordinator").get(URL)
    assert _payload(response, "series-chart") == {
        "type": "line",
        "unit": "%",
        "categories": ["2025-03", "2026-01", "2026-02", "2026-03"],
        "series": [
            {"name": "示范市", "data": [80.0, 70.0, 88.0, 90.0]},
            {"name": "目标值", "data": [92.0] * 4, "dashed": True},
            {"name": "标杆：杭州", "data": [None, None, None, 93.0]},
            {"name": "标杆：深圳", "data": [None, None, 95.0, 96.0]},
        ],
    }
    districts = _payload(response, "districts-chart")
    assert districts["categories"] == [
        "东湖区",
        "南湖区",
        "北山区",
        "中洲区",
        "青溪县",
        "白石县",
        "西山区",
    ]
    assert districts["series"][0]["data"][0] == {"value": 95.0, "flag": "leader"}
    assert districts["series"][0]["data"][3] == {"value": 85.0, "flag": ""}
    assert districts["series"][0]["data"][6] == {"value": 60.0, "flag": "laggard"}


@pytest.mark.django_db
def test_multi_source_comparison(tree, client_for):
    o = client_for("coordinator").get(URL).context["o"]
    assert o.source_kinds == ["系统数据计算", "部门填报", "问卷调查"]
    assert [(r["label"], r["values"]) for r in o.sources_by_period] == [
        ("2026-03", [90.0, 91.0, None]),
        ("2026-02", [88.0, None, None]),
        ("2026-01", [None, None, 70.0]),
        ("2025-03", [80.0, None, None]),
    ]


@pytest.mark.django_db
def test_sub_indicators_of_a_parent(tree, client_for):
    response = client_for("coordinator").get("/dashboards/indicators/T01/")
    o = response.context["o"]
    assert (o.current.value, o.current.source_kind) == (80, "composite")
    rows = [(c["indicator"].code, c["label"], c["value"]) for c in o.children]
    assert rows[0][:2] == ("T01.01", "2026-03")
    assert (rows[0][2].value, rows[0][2].score) == (90, 80.0)
    assert rows[1] == ("T01.02", "", None)


@pytest.mark.django_db
def test_sub_indicators_latest_values_in_a_constant_number_of_queries(
    city, personas, django_assert_num_queries
):
    """Each child's own latest period (not the parent's), the preferred source kind within it,
    values of other regions and empty values ignored; a constant number of queries for all
    children (the children; the indicator tree, their periods, the leaves with a source
    connected and the completeness checks of their filled-in leaves; the values shown)."""
    from sizhen.dashboards.selectors import _children

    root, east = city["root"], city["district_a"]
    parent = Indicator.objects.create(code="P01", name="上级", direction="higher_is_better")

    def child(n):
        return Indicator.objects.create(
            code=f"P01.{n:02d}", name=f"下级{n}", parent=parent, level=1, sort_order=n
        )

    c1, c2, _no_values, c4 = child(1), child(2), child(3), child(4)
    _value(c1, root, FEB, 10.0)
    _value(c1, root, MAR, 12.0, SourceKind.SURVEY)
    _value(c1, root, MAR, 11.0)  # records before survey
    _value(c1, east, dt.date(2026, 4, 1), 99.0)  # another region's later period
    _value(c2, root, JAN, 20.0, SourceKind.SURVEY)
    _value(c2, root, FEB, 21.0, SourceKind.COMPOSITE)
    _value(c2, root, FEB, 22.0, SourceKind.FILLING)
    _value(c4, root, FEB, 40.0)
    _value(c4, root, MAR, None)  # no value this month: February stays the latest
    leader = personas["leader"]

    def shown():
        return [
            (
                r["indicator"].code,
                r["label"],
                r["value"] and (r["value"].value, r["value"].source_kind),
            )
            for r in _children(parent, root, leader)
        ]

    with django_assert_num_queries(7):
        assert shown() == [
            ("P01.01", "2026-03", (11.0, "records")),
            ("P01.02", "2026-02", (22.0, "filling")),
            ("P01.03", "", None),
            ("P01.04", "2026-02", (40.0, "records")),
        ]
    for n in range(5, 12):
        _value(child(n), root, JAN, float(n))
    with django_assert_num_queries(7):
        assert len(shown()) == 11


@pytest.mark.django_db
def test_index_lists_first_level_with_city_scores(tree, client_for):
    response = client_for("leader").get("/dashboards/")
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [(r["indicator"].code, r["label"], r["value"].score) for r in rows] == [
        ("T01", "2026-03", 80.0)
    ]
    assert 'href="/dashboards/indicators/T01/"' in response.content.decode()


@pytest.mark.django_db
def test_pages_lead_with_the_newest_complete_period_and_mark_the_newer_one(
    tree, personas, client_for
):
    """April's round is not fully approved: April is provisional (暂定) on the leaf's page, on
    its parent's (with the parent's coverage) and on the board; March stays the headline."""
    from sizhen.indicators.filling.models import FillingRound, FillingTask

    apr = dt.date(2026, 4, 1)
    leaf, parent, root = tree["leaf"], tree["parent"], tree["root"]
    filling_round = FillingRound.objects.create(
        title="2026年4月定期填报", period=apr, working_days=5, deadline=dt.date(2026, 5, 12)
    )
    for region, status in ((root, "approved"), (tree["districts"]["449901"], "submitted")):
        FillingTask.objects.create(
            round=filling_round, indicator=leaf, region=region, period=apr,
            deadline=dt.date(2026, 5, 12), status=status, value=93,
        )  # fmt: skip
    _value(leaf, root, apr, 93, kind=SourceKind.FILLING)
    _value(parent, root, apr, 55, kind=SourceKind.COMPOSITE, score=55.0, observations=1)

    page = client_for("coordinator").get(URL)
    o = page.context["o"]
    assert (o.current.period, o.current.value) == (MAR, 90)
    assert [p.text for p in o.provisional] == ["2026-04 暂定 93.00"]
    text = page.content.decode()
    assert 'data-testid="current-value">90.00%</div>' in text
    assert "2026-04 暂定 93.00%：数据来源尚未全部报送，不作为当前值。" in text
    assert [row["label"] for row in o.series_rows()][-2:] == ["2026-03", "2026-04（暂定）"]

    o = client_for("coordinator").get("/dashboards/indicators/T01/").context["o"]
    assert (o.current.period, o.current.value) == (MAR, 80)
    assert [p.text for p in o.provisional] == ["2026-04 暂定 55.00，覆盖 1/2"]
    assert [(c["indicator"].code, c["label"]) for c in o.children] == [
        ("T01.01", "2026-03"),
        ("T01.02", ""),
    ]
    assert [p.text for p in o.children[0]["provisional"]] == ["2026-04 暂定 93.00"]

    board = client_for("leader").get("/dashboards/")
    (row,) = board.context["rows"]
    assert (row["label"], row["value"].score) == ("2026-03", 80.0)
    assert '<td data-testid="provisional">2026-04 暂定 55.00，覆盖 1/2</td>' in (
        board.content.decode()
    )

    # Approved everywhere (through the service, which records the change of figures that the
    # page's cache is keyed on): April is complete and leads.
    submitted = FillingTask.objects.get(period=apr, status="submitted")
    filling_services.approve_filling(submitted, actor=personas["coordinator"])
    o = client_for("coordinator").get(URL).context["o"]
    assert (o.current.period, o.provisional) == (apr, [])


# -- the versioned cache of the page's figures (sizhen/core/versions.py) -----------------------


@pytest.fixture
def builds(monkeypatch) -> list[tuple[str, str]]:
    """Every time the page's figures are computed rather than taken from the cache."""
    from sizhen.dashboards import selectors as dashboard_selectors

    seen: list[tuple[str, str]] = []
    real = dashboard_selectors.get_indicator_overview

    def counted(indicator, region, *, actor):
        seen.append((indicator.code, region.code))
        return real(indicator, region, actor=actor)

    monkeypatch.setattr(dashboard_selectors, "get_indicator_overview", counted)
    return seen


@pytest.mark.django_db
def test_figures_are_computed_once_until_they_change(tree, personas, client_for, builds):
    """The figures are computed once per viewer scope (role, scope path, department,
    enterprise), region and indicator; a value, a region's name or a benchmark written by
    anyone is seen at the next request."""
    first = client_for("coordinator").get(URL)
    again = client_for("coordinator").get(URL)
    assert builds == [("T01.01", "449900")]
    assert again.context["o"] is first.context["o"]  # the entry itself, not a recomputation
    client_for("leader").get(URL)  # another role: its own entry
    client_for("district_a").get(URL + "?region=449901")
    client_for("coordinator").get(URL + "?region=449901")
    assert builds[1:] == [("T01.01", "449900"), ("T01.01", "449901"), ("T01.01", "449901")]

    org.update_region(tree["districts"]["449902"], actor=personas["coordinator"], name="西岭区")
    text = client_for("coordinator").get(URL).content.decode()
    assert "西岭区" in text and "西山区" not in text
    Benchmark.objects.create(indicator=tree["leaf"], city="成都", period=MAR, value=94)
    assert "成都" in client_for("coordinator").get(URL).content.decode()
    _value(tree["leaf"], tree["root"], APR, 97)  # a value saved: April leads now
    page = client_for("coordinator").get(URL)
    assert 'data-testid="current-value">97.00%</div>' in page.content.decode()
    assert len(builds) == 7


@pytest.mark.django_db
def test_work_parts_of_the_page_are_read_on_every_request(tree, personas, client_for, builds):
    """A task issued after the figures were cached shows at once: only the figures are cached."""
    from sizhen.work_tasks import services as task_services

    client_for("coordinator").get(URL)
    task_services.issue_task(
        actor=personas["coordinator"],
        title="提升按时办结率专项任务",
        content="请牵头部门制定整改方案",
        source="annual_plan",
        units=[tree["market"]],
        deadline_working_days=10,
        indicators=[tree["leaf"]],
    )
    page = client_for("coordinator").get(URL)
    assert builds == [("T01.01", "449900")]
    assert "提升按时办结率专项任务" in page.content.decode()


# -- exports --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_series_export_content_and_audit(tree, client_for):
    response = client_for("coordinator").get(URL + "?export=series")
    assert response.status_code == 200
    assert _sheet(response) == [
        ["期间", "示范市数值", "数据来源", "目标值", "标杆：杭州", "标杆：深圳"],
        ["2025-03", 80, "系统数据计算", 92, None, None],
        ["2026-01", 70, "问卷调查", 92, None, None],
        ["2026-02", 88, "系统数据计算", 92, None, 95],
        ["2026-03", 90, "系统数据计算", 92, 93, 96],
    ]
    event = AuditEvent.objects.get(action="export.xlsx")
    assert (event.object_type, event.object_id) == ("indicators.indicator", str(tree["leaf"].pk))
    assert event.actor.username == "coordinator"
    assert event.after == {"export": "series", "region": "449900", "rows": 4}


@pytest.mark.django_db
def test_districts_export_content_and_audit(tree, client_for):
    response = client_for("district_a").get(URL + "?region=449901&export=districts")
    assert response.status_code == 200
    # A district officer sees only their own district's value, never the others'.
    assert _sheet(response) == [
        ["排名", "参与排名数", "区划代码", "区划名称", "数值", "得分", "标记"],
        [1, 7, "449901", "东湖区", 95, 90, "领先"],
    ]
    event = AuditEvent.objects.get(action="export.xlsx")
    assert event.after == {"export": "districts", "region": "449901", "rows": 1}

    full = _sheet(client_for("coordinator").get(URL + "?export=districts"))
    assert [row[2] for row in full[1:]] == [
        "449901",
        "449903",
        "449904",
        "449905",
        "449906",
        "449907",
        "449902",
    ]
    assert full[4] == [4, 7, "449905", "中洲区", 85, 70, None]
    assert full[7] == [7, 7, "449902", "西山区", 60, 20, "落后"]


@pytest.mark.django_db
def test_exports_round_as_the_page_shows(tree, client_for):
    """Values with two decimals and scores with one, rounded half away from zero as the
    page's table: 2.675 shows as 2.68 (the float is 2.67499…), never 2.675 or 2.67."""
    leaf, city, district = tree["leaf"], tree["root"], tree["districts"]["449901"]
    IndicatorValue.objects.filter(indicator=leaf, region=district, period=MAR).update(
        value=96.675, score=93.35
    )
    IndicatorValue.objects.filter(
        indicator=leaf, region=city, period=MAR, source_kind=SourceKind.RECORDS
    ).update(value=90.125)
    Goalpost.objects.filter(indicator=leaf).update(target=92.005)
    Benchmark.objects.filter(indicator=leaf, city="杭州").update(value=93.3349)
    client = client_for("coordinator")

    page = client.get(URL).content.decode()
    assert "<td>96.68</td><td>93.4</td>" in page
    districts = _sheet(client.get(URL + "?export=districts"))
    assert districts[1] == [1, 7, "449901", "东湖区", 96.68, 93.4, "领先"]

    series = _sheet(client.get(URL + "?export=series"))
    assert series[-1] == ["2026-03", 90.13, "系统数据计算", 92.01, 93.33, 96]
    assert series[1][3] == 92.01


# -- authorisation --------------------------------------------------------------------------


@pytest.mark.django_db
def test_authorisation_matrix(tree, client_for):
    assert client_for("coordinator").get(URL).status_code == 200
    own = client_for("district_a").get(URL + "?region=449901")
    assert own.status_code == 200
    assert [r.region.code for r in own.context["o"].districts] == ["449901"]
    # The default region of a district officer is the city, which they may see.
    assert client_for("district_a").get(URL).context["o"].region.code == "449900"

    before = AuditEvent.objects.filter(action="access.denied").count()
    assert client_for("district_a").get(URL + "?region=449902").status_code == 404
    denied = AuditEvent.objects.filter(action="access.denied").order_by("-pk").first()
    assert AuditEvent.objects.filter(action="access.denied").count() == before + 1
    assert (denied.object_type, denied.object_id) == ("organisations.region", "449902")

    assert client_for("district_a").get(URL + "?region=449902&export=series").status_code == 404
    assert client_for("enterprise").get(URL).status_code == 404
    assert client_for("enterprise").get("/dashboards/").status_code == 404
    assert AuditEvent.objects.filter(action="access.denied").count() == before + 4
    assert not AuditEvent.objects.filter(action="export.xlsx").exists()

    anonymous = client_for(None).get(URL)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")
    assert client_for("coordinator").get("/dashboards/indicators/NOPE/").status_code == 404
    assert client_for("coordinator").get(URL + "?export=pdf").status_code == 404
    assert client_for("coordinator").get(URL + "?region=999999").status_code == 404
    assert not AuditEvent.objects.filter(action="export.xlsx").exists()
