"""The indicator page's open work tasks and rectification items: created through the apps'
services, scoped to the viewer by each app's own rules (a district officer never sees another
district's), narrowed to the selected region, linked to the lists filtered by the indicator,
in a constant number of queries."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sizhen.indicators.catalogue.models import Indicator
from sizhen.rectification import selectors as rectification_selectors
from sizhen.rectification import services as rectification
from sizhen.rectification.choices import Judgement, Source
from sizhen.work_tasks import selectors as task_selectors
from sizhen.work_tasks import services as tasks
from sizhen.work_tasks.tests.support import assignment_for

URL = "/dashboards/indicators/T09.01/"
TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def _issue(personas: dict[str, Any], units: list[Any], title: str, indicator: Any, **kw: Any):
    fields: dict[str, Any] = {"deadline": TODAY + dt.timedelta(days=60)}
    fields.update(kw)
    return tasks.issue_task(
        actor=personas["coordinator"],
        title=title,
        content="任务内容",
        source="annual_plan",
        units=units,
        indicators=[indicator],
        **fields,
    )


def _finish(assignment: Any, unit_actor: Any, coordinator: Any) -> None:
    tasks.receive_assignment(assignment, actor=unit_actor)
    tasks.submit_assignment(assignment, actor=unit_actor)
    tasks.approve_assignment(assignment, actor=coordinator)


def _item(personas: dict[str, Any], title: str, region: Any, lead: Any, indicator: Any, **kw: Any):
    fields: dict[str, Any] = {"deadline": TODAY + dt.timedelta(days=30)}
    fields.update(kw)
    return rectification.create_item(
        actor=personas["coordinator"],
        title=title,
        source=Source.EVALUATION,
        region=region,
        lead_department=lead,
        measures="整改措施",
        indicators=[indicator],
        **fields,
    )


def _close(item: Any, lead: Any, coordinator: Any) -> None:
    rectification.transition_item(item, "accept", actor=lead)
    upload = SimpleUploadedFile("佐证.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    rectification.add_evidence(item, actor=lead, upload=upload)
    rectification.transition_item(item, "submit", actor=lead)
    # The linked indicator has no values here: "有效" is judged on the evidence, with a reason.
    rectification.verify_effect(
        item, actor=coordinator, judgement=Judgement.EFFECTIVE, comment="依据佐证材料核验"
    )
    rectification.transition_item(item, "close", actor=coordinator)


@pytest.fixture
def work(city: dict[str, Any], personas: dict[str, Any]) -> dict[str, Any]:
    """Tasks and ledger items of indicator T09.01 in 东湖区 (A), 西山区 (B) and at city level,
    and some of another indicator that never show."""
    leaf = Indicator.objects.create(code="T09.01", name="开办时间", direction="lower_is_better")
    other = Indicator.objects.create(code="T09.02", name="其他指标", direction="lower_is_better")
    a, b, market = city["district_a"], city["district_b"], city["market"]
    coordinator = personas["coordinator"]
    past = TODAY - dt.timedelta(days=40)
    _issue(personas, [a], "东湖区任务", leaf, deadline=TODAY + dt.timedelta(days=20))
    _issue(personas, [b], "西山区逾期任务", leaf, issued_on=past, deadline=TODAY - dt.timedelta(5))
    _issue(personas, [market], "市级部门任务", leaf, deadline=TODAY + dt.timedelta(days=40))
    _issue(personas, [a, b], "两区联办任务", leaf, deadline=TODAY + dt.timedelta(days=50))
    _issue(personas, [a], "其他指标任务", other)
    done = _issue(personas, [a], "东湖区已完成任务", leaf)
    _finish(assignment_for(done, a), personas["district_a"], coordinator)
    late = _issue(personas, [b], "西山区逾期完成任务", leaf, issued_on=past, deadline=past)
    _finish(assignment_for(late, b), personas["district_b"], coordinator)
    cancelled = _issue(personas, [a], "东湖区已撤销任务", leaf)
    tasks.cancel_assignment(assignment_for(cancelled, a), actor=coordinator, reason="重复下发")

    last_year = _item(
        personas, "东湖区开办环节多（上年）", a, city["a_dept"], leaf, year=TODAY.year - 1
    )
    _close(last_year, personas["district_a"], coordinator)
    _item(personas, "东湖区开办仍然偏慢", a, city["a_dept"], leaf)
    _item(
        personas,
        "西山区开办材料繁琐",
        b,
        city["b_dept"],
        leaf,
        deadline=TODAY + dt.timedelta(days=10),
    )
    _item(personas, "全市开办系统不互通", city["root"], market, leaf)
    _item(personas, "东湖区其他问题", a, city["a_dept"], other)
    return {"leaf": leaf}


def _page(client: Any, query: str = "") -> tuple[Any, str]:
    response = client.get(URL + query)
    assert response.status_code == 200
    return response, response.content.decode()


def _section(text: str, test_id: str) -> str:
    match = re.search(rf'<section [^>]*data-testid="{test_id}">(.*?)</section>', text, re.S)
    assert match is not None, test_id
    return match.group(1)


def _task_titles(response: Any) -> list[str]:
    return [row.task.title for row in response.context["tasks"].rows]


def _item_titles(response: Any) -> list[str]:
    return [item.title for item in response.context["ledger"].rows]


@pytest.mark.django_db
def test_coordinator_sees_every_open_task_and_item_of_the_indicator(work, client_for):
    response, text = _page(client_for("coordinator"))
    assert _task_titles(response) == [
        "西山区逾期任务",
        "东湖区任务",
        "市级部门任务",
        "两区联办任务",
    ]
    t = response.context["tasks"]
    assert (t.open, t.early, t.on_time, t.late) == (4, 1, 0, 1)
    units = {r.task.title: [a.unit_name for a in r.assignments] for r in t.rows}
    assert units["两区联办任务"] == ["东湖区", "西山区"]
    assert units["市级部门任务"] == ["市场监督管理局"]
    assert [r.overdue for r in t.rows] == [True, False, False, False]

    ledger = response.context["ledger"]
    assert _item_titles(response) == [
        "西山区开办材料繁琐",
        "东湖区开办仍然偏慢",
        "全市开办系统不互通",
    ]
    assert (ledger.active, ledger.closed) == (3, 1)
    assert [i.repeated for i in ledger.rows] == [False, True, False]

    section = _section(text, "work-tasks")
    assert "相关工作任务（未完成 4 项）" in section
    assert "已完成承办 2 项（提前 1、按期 0、逾期 1）" in section
    assert "已逾期" in section
    for row in t.rows:
        assert f'href="/tasks/{row.assignments[0].pk}/"' in section
    for hidden in ("其他指标任务", "东湖区已完成任务", "东湖区已撤销任务"):
        assert hidden not in text
    items = _section(text, "ledger")
    assert "相关整改事项（未销号 3 项，已销号 1 项）" in items
    assert items.count("连续两年反复出现") == 1
    assert "东湖区其他问题" not in text and "（上年）" not in items
    for item in ledger.rows:
        assert f'href="/rectification/{item.pk}/"' in items


@pytest.mark.django_db
def test_district_officers_see_only_their_own_district(work, client_for):
    # On the city's page (their default) the apps' scopes alone keep the other district out.
    east, text = _page(client_for("district_a"))
    assert east.context["o"].region.code == "449900"
    assert _task_titles(east) == ["东湖区任务", "两区联办任务"]
    t = east.context["tasks"]
    # The joint task shows their own assignment only, and links to it.
    assert [[a.unit_name for a in r.assignments] for r in t.rows] == [["东湖区"], ["东湖区"]]
    assert (t.open, t.early, t.on_time, t.late) == (2, 1, 0, 0)
    assert _item_titles(east) == ["东湖区开办仍然偏慢"]
    assert (east.context["ledger"].active, east.context["ledger"].closed) == (1, 1)
    for foreign in ("西山区", "市级部门任务", "全市开办系统不互通"):
        assert foreign not in _section(text, "work-tasks") + _section(text, "ledger")

    own, _ = _page(client_for("district_a"), "?region=449901")
    assert (_task_titles(own), _item_titles(own)) == (_task_titles(east), _item_titles(east))

    west, text = _page(client_for("district_b"))
    assert _task_titles(west) == ["西山区逾期任务", "两区联办任务"]
    t = west.context["tasks"]
    assert [[a.unit_name for a in r.assignments] for r in t.rows] == [["西山区"], ["西山区"]]
    assert (t.open, t.early, t.on_time, t.late) == (2, 0, 0, 1)
    assert _item_titles(west) == ["西山区开办材料繁琐"]
    assert (west.context["ledger"].active, west.context["ledger"].closed) == (1, 0)
    for foreign in ("东湖区", "市级部门任务", "全市开办系统不互通"):
        assert foreign not in _section(text, "work-tasks") + _section(text, "ledger")
    # Another district's page stays closed to them.
    assert client_for("district_b").get(URL + "?region=449901").status_code == 404


@pytest.mark.django_db
def test_a_district_selected_narrows_the_lists_and_their_links(work, client_for, city):
    client = client_for("coordinator")
    response, _ = _page(client, "?region=449901")
    assert _task_titles(response) == ["东湖区任务", "两区联办任务"]
    assert [[a.unit_name for a in r.assignments] for r in response.context["tasks"].rows] == [
        ["东湖区"],
        ["东湖区"],
    ]
    assert _item_titles(response) == ["东湖区开办仍然偏慢"]
    a = city["district_a"]
    assert response.context["tasks_url"] == f"/tasks/?indicator=T09.01&district={a.pk}"
    assert response.context["ledger_url"] == f"/rectification/?indicator=T09.01&region={a.pk}"

    # The links lead to the lists filtered by the indicator (every state) and the district.
    listed = client.get(response.context["tasks_url"])
    assert sorted({row[1][0] for row in listed.context["rows"]}) == sorted(
        ["东湖区任务", "两区联办任务", "东湖区已完成任务", "东湖区已撤销任务"]
    )
    ledger = client.get(response.context["ledger_url"])
    assert sorted(row[1][0] for row in ledger.context["rows"]) == sorted(
        ["东湖区开办仍然偏慢", "东湖区开办环节多（上年）"]
    )
    city_page, _ = _page(client)
    listed = client.get(city_page.context["tasks_url"])
    assert city_page.context["tasks_url"] == "/tasks/?indicator=T09.01"
    assert len(listed.context["rows"]) == 8  # the joint task has two assignments
    assert "其他指标任务" not in {row[1][0] for row in listed.context["rows"]}


@pytest.mark.django_db
def test_the_lists_take_three_queries_each_whatever_their_length(
    work, personas, city, django_assert_num_queries
):
    leaf = work["leaf"]
    for name in ("coordinator", "district_a"):
        # whether anything links the indicator, the counts, the rows with their task and units
        with django_assert_num_queries(3):
            shown = task_selectors.for_indicator(personas[name], leaf)
            [(r.url, [a.unit_name for a in r.assignments]) for r in shown.rows]
        with django_assert_num_queries(3):  # ..., the rows with their lead department
            items = rectification_selectors.for_indicator(personas[name], leaf)
            [(i.lead_department.name, i.is_overdue, i.number) for i in items.rows]
        assert shown.open > 0 and items.active > 0
    # An indicator no task or item links (most of them): one plain query each, nothing listed.
    unlinked = Indicator.objects.create(code="ZZ.01", name="未关联任务的指标")
    with django_assert_num_queries(1):
        shown = task_selectors.for_indicator(personas["coordinator"], unlinked)
    with django_assert_num_queries(1):
        items = rectification_selectors.for_indicator(personas["coordinator"], unlinked)
    assert (shown.rows, shown.open, shown.completed) == ([], 0, 0)
    assert (items.rows, items.active, items.closed) == ([], 0, 0)


@pytest.mark.django_db
def test_the_page_costs_the_same_with_many_tasks_and_items(work, personas, city, client_for):
    client = client_for("coordinator")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            _page(client)
        return len(captured.captured_queries)

    queries()  # the first request of a session does some once-only work
    before = queries()
    leaf, a, b = work["leaf"], city["district_a"], city["district_b"]
    for n in range(12):
        _issue(personas, [a, b, city["tax"]], f"新增任务{n}", leaf)
        _item(personas, f"新增问题{n}", b, city["b_dept"], leaf)
    assert queries() == before
    response, text = _page(client)
    t, ledger = response.context["tasks"], response.context["ledger"]
    assert (t.open, len(t.rows)) == (16, task_selectors.INDICATOR_TASK_LIMIT)
    assert (ledger.active, len(ledger.rows)) == (15, rectification_selectors.INDICATOR_ITEM_LIMIT)
    assert "此处列出期限最近的 10 项" in _section(text, "work-tasks")
    assert "此处列出时限最近的 10 项" in _section(text, "ledger")
