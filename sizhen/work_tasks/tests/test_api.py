"""The task lifecycle over the API (/api/v1/tasks): the full path with a deadline in working
days across National Day 2025, scoping (another district gets 404), and a department token
that reports progress."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.test import Client

from sizhen.accounts.services import create_api_token
from sizhen.core.models import TransitionHistory
from sizhen.work_tasks.models import ProgressReport, TaskAssignment, WorkTask
from sizhen.work_tasks.tests.support import NATIONAL_DAY_ISSUE, issue, state

pytestmark = pytest.mark.django_db

API = "/api/v1/tasks"
D = dt.date


def post(client: Client, url: str, data: dict[str, Any], **headers: Any) -> Any:
    return client.post(url, json.dumps(data), content_type="application/json", **headers)


def test_full_path_over_the_api(city: Any, personas: Any, client_for: Any, clock: Any) -> None:
    coordinator, lead, resp = (
        client_for("coordinator"),
        client_for("lead_department"),
        client_for("responsible_department"),
    )
    clock(NATIONAL_DAY_ISSUE)
    created = post(
        coordinator,
        API,
        {
            "title": "推进“一网通办”",
            "content": "完成市场主体登记全程网办",
            "source": "leader_instruction",
            "department_codes": ["SZ-SCJG"],
            "deadline_working_days": 5,
            "milestones": [{"title": "上线试运行", "deadline": "2025-09-30"}],
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["number"], body["deadline"], body["deadline_provisional"]) == (
        "RW2025-0001",
        "2025-10-10",
        False,
    )
    (pk,) = body["assignment_ids"]

    clock(D(2025, 9, 29))
    assert post(lead, f"{API}/{pk}/receive", {"status": "issued"}).json()["status"] == "received"
    children = post(
        lead, f"{API}/{pk}/transfer", {"note": "窗口改造", "department_codes": ["DH-SCJG"]}
    )
    assert children.status_code == 201
    (child,) = children.json()
    assert (child["parent_id"], child["unit"], child["status"]) == (
        pk,
        "东湖区市场监督管理局",
        "issued",
    )
    assert post(resp, f"{API}/{child['id']}/receive", {}).status_code == 200
    assert post(resp, f"{API}/{child['id']}/submit", {}).status_code == 200
    approved_child = post(lead, f"{API}/{child['id']}/approve", {})
    assert (approved_child.json()["status"], approved_child.json()["timeliness"]) == (
        "approved",
        "early",
    )

    milestone_id = WorkTask.objects.get().milestones.get().pk
    progressed = post(
        lead,
        f"{API}/{pk}/progress",
        {
            "content": "试运行上线",
            "percent": 70,
            "milestone_id": milestone_id,
            "milestone_done": True,
        },
    )
    assert progressed.status_code == 201
    assert progressed.json()["milestone_id"] == milestone_id

    clock(D(2025, 10, 10))
    assert post(lead, f"{API}/{pk}/submit", {"status": "received"}).json()["status"] == "submitted"
    refused = post(coordinator, f"{API}/{pk}/return", {"note": ""})
    assert refused.status_code == 400
    assert "需要填写理由" in refused.json()["detail"]
    assert state(TaskAssignment.objects.get(pk=pk))[0] == "submitted"
    returned = post(coordinator, f"{API}/{pk}/return", {"note": "缺少佐证材料"})
    assert returned.json()["status"] == "returned"
    clock(D(2025, 10, 13))
    assert post(lead, f"{API}/{pk}/submit", {}).json()["status"] == "submitted"
    stale = post(coordinator, f"{API}/{pk}/approve", {"status": "returned"})
    assert stale.status_code == 409
    unfinished = post(coordinator, f"{API}/{pk}/approve", {"status": "submitted"})
    assert unfinished.status_code == 400
    assert unfinished.json()["detail"].startswith(
        "任务尚未全部完成（最近一次进展反馈的完成进度为 70%）"
    )
    approved = post(
        coordinator, f"{API}/{pk}/approve", {"status": "submitted", "note": "试运行即视为完成"}
    ).json()
    assert (
        approved["status"],
        approved["finished_on"],
        approved["timeliness"],
        approved["delay_working_days"],
    ) == ("approved", "2025-10-13", "late", 2)

    detail = coordinator.get(f"{API}/{pk}").json()
    assert [h["action"] for h in detail["history"]] == [
        "receive",
        "submit",
        "return",
        "resubmit",
        "approve",
    ]
    assert [p["content"] for p in detail["progress"]] == ["试运行上线"]
    summary = coordinator.get(f"{API}/summary").json()
    assert summary == {"early": 1, "on_time": 0, "late": 1, "open": 0, "overdue_open": 0}


def test_other_district_gets_404_and_nothing_changes(
    city: Any, personas: Any, client_for: Any, clock: Any
) -> None:
    clock(NATIONAL_DAY_ISSUE)
    task = issue(personas, [city["district_a"]])
    pk = task.assignments.get().pk
    other = client_for("district_b")
    assert other.get(f"{API}/{pk}").status_code == 404
    assert other.get(API).json()["meta"]["count"] == 0
    for action in ("receive", "submit", "approve", "return", "progress", "transfer"):
        response = post(other, f"{API}/{pk}/{action}", {"note": "x", "content": "x", "percent": 1})
        assert response.status_code == 404, action
    assert state(TaskAssignment.objects.get(pk=pk)) == ("issued", 1)
    assert TransitionHistory.objects.count() == 0
    own = client_for("district_a")
    assert own.get(API).json()["meta"]["count"] == 1
    assert post(own, f"{API}/{pk}/receive", {}).json()["status"] == "received"


@pytest.mark.parametrize("persona", ["enterprise", None])
def test_enterprise_and_anonymous_are_refused(
    city: Any, personas: Any, client_for: Any, persona: str | None
) -> None:
    task = issue(personas, [city["market"]])
    pk = task.assignments.get().pk
    client = client_for(persona)
    assert client.get(API).status_code in (401, 404)
    assert client.get(f"{API}/{pk}").status_code in (401, 404)
    assert post(client, API, {"title": "x", "content": "x", "source": "alert"}).status_code in (
        401,
        404,
    )
    assert WorkTask.objects.count() == 1


def test_only_the_coordinator_issues(city: Any, personas: Any, client_for: Any) -> None:
    payload = {
        "title": "任务",
        "content": "内容",
        "source": "annual_plan",
        "department_codes": ["SZ-SCJG"],
        "deadline": "2030-01-31",
    }
    for persona in ("leader", "lead_department", "district_a"):
        assert post(client_for(persona), API, payload).status_code == 404
    bad = post(client_for("coordinator"), API, {**payload, "department_codes": ["NOPE"]})
    assert (bad.status_code, bad.json()["detail"]) == (400, "找不到承办单位：NOPE")
    unknown = post(client_for("coordinator"), API, {**payload, "indicator_codes": ["X99"]})
    assert (unknown.status_code, unknown.json()["detail"]) == (400, "找不到指标：X99")
    assert WorkTask.objects.count() == 0


def test_department_token_reports_progress(city: Any, personas: Any, clock: Any) -> None:
    clock(NATIONAL_DAY_ISSUE)
    task = issue(personas, [city["market"], city["tax"]])
    market = task.assignments.get(department=city["market"])
    tax = task.assignments.get(department=city["tax"])
    from sizhen.work_tasks import services

    services.receive_assignment(market, actor=personas["lead_department"])
    _row, secret = create_api_token(
        actor=personas["sysadmin"],
        name="市场监管系统",
        department=city["market"],
        scopes=["tasks:write", "read"],
    )
    _row, reader = create_api_token(
        actor=personas["sysadmin"], name="只读", department=city["market"], scopes=["read"]
    )
    auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    body = {"content": "系统自动同步：完成率 80%", "percent": 80, "client_key": "sync-1"}
    first = post(Client(), f"{API}/{market.pk}/progress", body, **auth)
    again = post(Client(), f"{API}/{market.pk}/progress", body, **auth)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["author"].endswith("（市场监督管理局）")
    assert ProgressReport.objects.count() == 1
    # Another department's assignment: not visible to this token.
    assert post(Client(), f"{API}/{tax.pk}/progress", body, **auth).status_code == 404
    # A read-only token may list but not report.
    refused = post(
        Client(),
        f"{API}/{market.pk}/progress",
        {**body, "client_key": "x"},
        HTTP_AUTHORIZATION=f"Bearer {reader}",
    )
    assert refused.status_code == 404
    listed = Client().get(API, HTTP_AUTHORIZATION=f"Bearer {reader}").json()
    assert [i["id"] for i in listed["items"]] == [market.pk]
    # Tokens take no workflow steps.
    assert post(Client(), f"{API}/{market.pk}/submit", {}, **auth).status_code == 404
    assert ProgressReport.objects.count() == 1
    assert state(market) == ("received", 2)


def test_boundaries_across_national_day_2026_over_the_api(
    city: Any, personas: Any, client_for: Any, clock: Any
) -> None:
    """Issued Wednesday 30 September 2026 with 5 working days: 1–7 October are off and
    Saturday 10 October is worked, so the deadline is Tuesday 13 October. Finished on the
    deadline day is on time, one working day before is early, one working day after is late;
    the finish date is the (re)submission that was approved, not the review date."""
    from sizhen.indicators.catalogue.models import Indicator

    Indicator.objects.create(code="T07", name="涉企事项办结率", direction="higher_is_better")
    coordinator = client_for("coordinator")
    units = {
        "market": client_for("lead_department"),
        "a_dept": client_for("responsible_department"),
        "district_a": client_for("district_a"),
    }
    clock(D(2026, 9, 30))
    created = post(
        coordinator,
        API,
        {
            "title": "国庆节后集中攻坚",
            "content": "完成涉企事项清单梳理",
            "source": "evaluation_feedback",
            "department_codes": ["SZ-SCJG", "DH-SCJG"],
            "region_codes": ["449901"],
            "deadline_working_days": 5,
            "indicator_codes": ["T07"],
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["deadline"], body["deadline_provisional"]) == ("2026-10-13", False)
    ids = {
        a.department.code if a.department else a.region.code: a.pk
        for a in TaskAssignment.objects.filter(task_id=body["task_id"]).select_related(
            "department", "region"
        )
    }
    pk = {"market": ids["SZ-SCJG"], "a_dept": ids["DH-SCJG"], "district_a": ids["449901"]}
    for name, client in units.items():
        assert post(client, f"{API}/{pk[name]}/receive", {}).json()["status"] == "received"

    # Market: submitted before the holiday's end, returned, resubmitted on the deadline day
    # and approved that same day: on time.
    clock(D(2026, 10, 9))
    post(units["market"], f"{API}/{pk['market']}/submit", {})
    assert (
        post(coordinator, f"{API}/{pk['market']}/return", {"note": "请补充佐证"}).json()["status"]
        == "returned"
    )
    clock(D(2026, 10, 13))
    assert post(units["market"], f"{API}/{pk['market']}/submit", {}).json()["status"] == "submitted"
    market = post(coordinator, f"{API}/{pk['market']}/approve", {"status": "submitted"}).json()
    assert (market["submitted_on"], market["finished_on"]) == ("2026-10-13", "2026-10-13")
    assert (market["timeliness"], market["delay_working_days"]) == ("on_time", 0)

    # 东湖区市场监管局: submitted Monday 12 October, one working day ahead; approved only on the
    # 14th, which is not held against it: early.
    clock(D(2026, 10, 12))
    post(units["a_dept"], f"{API}/{pk['a_dept']}/submit", {})
    clock(D(2026, 10, 14))
    a_dept = post(coordinator, f"{API}/{pk['a_dept']}/approve", {}).json()
    assert (a_dept["finished_on"], a_dept["timeliness"], a_dept["delay_working_days"]) == (
        "2026-10-12",
        "early",
        0,
    )

    # 东湖区: submitted Wednesday 14 October, one working day after the deadline: late by 1.
    post(units["district_a"], f"{API}/{pk['district_a']}/submit", {})
    late = post(coordinator, f"{API}/{pk['district_a']}/approve", {}).json()
    assert (late["finished_on"], late["timeliness"], late["delay_working_days"]) == (
        "2026-10-14",
        "late",
        1,
    )
    detail = units["market"].get(f"{API}/{pk['market']}").json()
    assert detail["indicators"] == ["T07"]
    history = detail["history"]
    assert [h["action"] for h in history] == ["receive", "submit", "return", "resubmit", "approve"]
    assert coordinator.get(f"{API}/summary").json() == {
        "early": 1,
        "on_time": 1,
        "late": 1,
        "open": 0,
        "overdue_open": 0,
    }


def test_deadline_into_a_year_without_official_calendar_is_provisional(
    city: Any, personas: Any, client_for: Any, clock: Any
) -> None:
    """Spring Festival 2027 is not yet in the shipped calendar: the deadline is counted
    Monday–Friday and flagged provisional (暂定), never silently trusted."""
    clock(D(2027, 2, 1))
    created = post(
        client_for("coordinator"),
        API,
        {
            "title": "春节前后企业用工保障",
            "content": "保障重点企业节后复工",
            "source": "leader_instruction",
            "department_codes": ["SZ-SCJG"],
            "deadline_working_days": 10,
        },
    ).json()
    assert (created["deadline"], created["deadline_provisional"]) == ("2027-02-15", True)
    (pk,) = created["assignment_ids"]
    detail = client_for("lead_department").get(f"{API}/{pk}").json()
    assert (detail["deadline_working_days"], detail["deadline_provisional"]) == (10, True)
