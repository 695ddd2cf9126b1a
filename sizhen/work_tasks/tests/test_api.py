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
    approved = post(coordinator, f"{API}/{pk}/approve", {"status": "submitted"}).json()
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
