"""Each role's home page is a work queue (待办): on a fixture where every waiting item is known,
each persona's home lists exactly its own queues with exact counts, items of other units and
districts are not counted, every count links to a list filtered to exactly those items, and
the key figures and the leader's link to the cockpit are there."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone

from sizhen.core.models import Job, JobStatus, Notification
from sizhen.core.notifications import notify
from sizhen.enterprise_requests import services as request_services
from sizhen.enterprise_requests.models import EnterpriseRequest
from sizhen.enterprise_requests.tests.factories import portal_request
from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.filling.models import FillingRound, FillingTask
from sizhen.monitoring.models import Alert
from sizhen.rectification.models import RectificationItem
from sizhen.reports.models import ReminderLetter
from sizhen.work_tasks import services as task_services
from sizhen.work_tasks.models import TaskAssignment

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
SOON = TODAY + dt.timedelta(days=5)
LATER = TODAY + dt.timedelta(days=20)
YESTERDAY = TODAY - dt.timedelta(days=1)
PERIOD = dt.date(2026, 1, 1)


def _tasks(personas: dict[str, Any], city: dict[str, Any]) -> dict[str, TaskAssignment]:
    def issue(unit: Any, status: str, deadline: dt.date = SOON) -> TaskAssignment:
        task = task_services.issue_task(
            actor=personas["coordinator"],
            title=f"任务 {unit.name} {status}",
            content="按要求办理",
            source="annual_plan",
            units=[unit],
            deadline=deadline,
            issued_on=TODAY - dt.timedelta(days=10),
        )
        assignment = task.assignments.get()
        TaskAssignment.objects.filter(pk=assignment.pk).update(status=status)
        assignment.refresh_from_db()
        return assignment

    market, overdue = city["market"], issue(city["market"], "received", YESTERDAY)
    TaskAssignment.objects.filter(pk=overdue.pk).update(
        listed=True, listed_leader=personas["leader"]
    )
    # A sub-task the market regulator transferred to the tax bureau, submitted for its review.
    TaskAssignment.objects.create(
        task=overdue.task,
        parent=overdue,
        department=city["tax"],
        unit_path=city["tax"].region.path,
        deadline=LATER,
        status="submitted",
    )
    return {
        "market_issued": issue(market, "issued"),
        "market_received": overdue,
        "market_returned": issue(market, "returned"),
        "market_submitted": issue(market, "submitted"),
        "a_dept_issued": issue(city["a_dept"], "issued", LATER),
        "district_a_received": issue(city["district_a"], "received"),
        "district_a_submitted": issue(city["district_a"], "submitted"),
        # Out of every persona's scope but district B's and the B department's.
        "district_b_issued": issue(city["district_b"], "issued"),
        "b_dept_issued": issue(city["b_dept"], "issued"),
    }


def _filling(personas: dict[str, Any], city: dict[str, Any]) -> None:
    led_by_market = Indicator.objects.create(
        code="H01", name="登记办结率", direction="higher_is_better", lead_department=city["market"]
    )
    led_by_tax = Indicator.objects.create(
        code="H02", name="办税满意度", direction="higher_is_better", lead_department=city["tax"]
    )
    rounds = FillingRound.objects.create(
        title="2026年1月填报", period=PERIOD, working_days=5, deadline=SOON
    )
    district_officer = personas["district_a"]
    for indicator, region, department, status, submitted_by in (
        (led_by_market, city["district_a"], city["a_dept"], "open", None),
        (led_by_market, city["root"], city["market"], "returned", None),
        (led_by_market, city["district_b"], None, "open", None),
        (led_by_tax, city["district_a"], None, "submitted", district_officer),
        (led_by_market, city["park"], None, "submitted", district_officer),
        (led_by_tax, city["park"], None, "open", None),
    ):
        FillingTask.objects.create(
            round=rounds,
            indicator=indicator,
            region=region,
            department=department,
            period=PERIOD,
            deadline=SOON,
            status=status,
            submitted_by=submitted_by,
        )


def _alerts(city: dict[str, Any]) -> None:
    indicator = Indicator.objects.get(code="H01")
    other = Indicator.objects.get(code="H02")
    for code, ind, region, status, department in (
        ("a", indicator, city["district_a"], "open", None),
        ("b", indicator, city["district_b"], "assigned", city["a_dept"]),
        ("c", other, city["district_b"], "assigned", city["b_dept"]),
        ("d", other, city["root"], "open", None),
    ):
        Alert.objects.create(
            indicator=ind,
            region=region,
            kind="cross_sectional_extreme",
            period=PERIOD,
            subject=code,
            status=status,
            assigned_department=department,
            severity="red" if code == "a" else "yellow",
            value=1.0,
            method="modified_z",
            score=5.0,
            explanation="偏离",
        )


def _letters(city: dict[str, Any]) -> None:
    indicator = Indicator.objects.get(code="H01")
    for sequence, status, department, deadline in (
        (1, "draft", city["market"], LATER),
        (2, "sent", city["market"], SOON),
        (3, "sent", city["market"], YESTERDAY),
        (4, "sent", city["a_dept"], SOON),
        (5, "sent", city["b_dept"], SOON),
    ):
        ReminderLetter.objects.create(
            year=2026,
            sequence=sequence,
            number=f"示营商提〔2026〕{sequence}号",
            indicator=indicator,
            region=city["root"],
            department=department,
            period=PERIOD,
            deadline=deadline,
            requested_action="请整改",
            content={},
            status=status,
        )


def _rectification(city: dict[str, Any]) -> None:
    for title, lead, region, status in (
        ("一", city["market"], city["district_a"], "open"),
        ("二", city["market"], city["district_b"], "in_progress"),
        ("三", city["a_dept"], city["district_a"], "reopened"),
        ("四", city["b_dept"], city["district_b"], "submitted"),
    ):
        RectificationItem.objects.create(
            title=title,
            source="evaluation",
            region=region,
            lead_department=lead,
            measures="整改",
            deadline=LATER,
            year=2026,
            status=status,
        )


def _requests(personas: dict[str, Any], city: dict[str, Any]) -> None:
    coordinator = personas["coordinator"]

    def request(enterprise: str, text: str, status: str, department: Any = None) -> None:
        r = portal_request(personas[enterprise], text=text)
        if department is not None:
            r = request_services.dispatch_request(r, actor=coordinator, department=department)
        EnterpriseRequest.objects.filter(pk=r.pk).update(status=status)

    request("enterprise", "开办企业需要重复提交材料", "submitted")
    request("enterprise", "办理用电报装时间过长", "dispatched", city["a_dept"])
    request("enterprise", "食品经营许可证换证慢", "handling", city["market"])
    request("enterprise", "营业执照变更登记跑两次", "replied", city["market"])
    request("enterprise_b", "西山区物流园区道路拥堵", "replied", city["b_dept"])
    request("enterprise", "社保缴费系统经常无法登录", "reply_review", city["market"])
    request("enterprise", "招投标保证金退还迟缓", "unsatisfied", city["market"])
    request("enterprise_b", "西山区市场检查过于频繁", "dispatched", city["b_dept"])


@pytest.fixture
def work(personas: dict[str, Any], city: dict[str, Any]) -> dict[str, Any]:
    assignments = _tasks(personas, city)
    _filling(personas, city)
    _alerts(city)
    _letters(city)
    _rectification(city)
    _requests(personas, city)
    notify([personas["district_a"]], subject="一")
    notify([personas["district_a"]], subject="二")
    [read] = notify([personas["district_a"]], subject="已读")
    Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())
    Job.objects.create(name="indicators.recompute", status=JobStatus.FAILED)
    Job.objects.create(name="indicators.recompute", status=JobStatus.SUCCEEDED)
    return assignments


EXPECTED: dict[str, dict[str, int]] = {
    "leader": {"work_tasks-listed": 1},
    "coordinator": {
        "monitoring-open": 2,
        "reports-send": 1,
        "indicator_filling-review": 2,
        "work_tasks-review": 2,
        "rectification-review": 1,
        "enterprise_requests-dispatch": 1,
        "enterprise_requests-review_reply": 1,
        "enterprise_requests-revisit": 2,
        "enterprise_requests-unsatisfied": 1,
    },
    "lead_department": {
        "indicator_filling-refill": 1,
        "indicator_filling-review": 1,
        "reports-answer": 1,
        "work_tasks-receive": 1,
        "work_tasks-submit": 1,
        "work_tasks-resubmit": 1,
        "work_tasks-review": 1,
        "rectification-accept": 1,
        "rectification-progress": 1,
        "enterprise_requests-reply": 1,
    },
    "responsible_department": {
        "indicator_filling-fill": 1,
        "monitoring-assigned": 1,
        "reports-answer": 1,
        "work_tasks-receive": 1,
        "rectification-accept": 1,
        "enterprise_requests-accept": 1,
    },
    "district_a": {
        "core-unread": 2,
        "indicator_filling-fill": 1,
        "work_tasks-submit": 1,
        "rectification-accept": 2,
    },
    "district_b": {
        "indicator_filling-fill": 1,
        "work_tasks-receive": 1,
        "rectification-progress": 1,
    },
    "enterprise": {"enterprise_requests-rate": 1},
    "enterprise_b": {"enterprise_requests-rate": 1},
    "sysadmin": {"core-failed_jobs": 1},
}

QUEUE_ROW = re.compile(
    r'<li data-testid="queue-([\w-]+)">\s*<a class="count" href="([^"]+)" data-testid="count">'
    r"(\d+)</a>"
)
LIST_TOTAL = re.compile(r"共\s*(\d+)\s*条")


def queue_rows(page: str) -> list[tuple[str, str, int]]:
    return [(ident, url.replace("&amp;", "&"), int(n)) for ident, url, n in QUEUE_ROW.findall(page)]


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_home_lists_exactly_the_waiting_items_of_the_role(
    persona: str, work: dict[str, Any], client_for: Any
) -> None:
    client = client_for(persona)
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    rows = queue_rows(page)
    assert {ident: count for ident, _, count in rows} == EXPECTED[persona]
    assert f"共 {sum(EXPECTED[persona].values())} 项" in page

    # Each count opens the list filtered to exactly the items counted.
    for ident, url, count in rows:
        listed = client.get(url)
        assert listed.status_code == 200, url
        assert listed.context["page"].paginator.count == count, (ident, url)


def test_nearest_deadline_and_overdue(work: dict[str, Any], client_for: Any) -> None:
    page = client_for("lead_department").get("/").content.decode()
    submit = page.split('data-testid="queue-work_tasks-submit"')[1].split("</li>")[0]
    assert '<span class="overdue" data-testid="overdue">其中逾期 1 项</span>' in submit
    assert f"最早期限 {YESTERDAY:%Y-%m-%d}" in submit
    receive = page.split('data-testid="queue-work_tasks-receive"')[1].split("</li>")[0]
    assert f"最早期限 {SOON:%Y-%m-%d}" in receive
    assert "逾期" not in receive


def test_a_unit_sees_its_own_list_rows_behind_the_link(
    work: dict[str, Any], client_for: Any
) -> None:
    listed = client_for("lead_department").get("/tasks/mine/?queue=submit")
    assert [a.pk for a in listed.context["page"].object_list] == [work["market_received"].pk]
    # The same link opened by another unit shows that unit's own (none), never the market's.
    other = client_for("responsible_department").get("/tasks/mine/?queue=submit")
    assert other.context["page"].paginator.count == 0


def test_nothing_waiting_says_so(personas: dict[str, Any], client_for: Any) -> None:
    page = client_for("responsible_department").get("/").content.decode()
    assert queue_rows(page) == []
    assert "当前没有等待您处理的事项。" in page


def figures(page: str) -> dict[str, str]:
    return dict(
        re.findall(
            r'data-testid="figure-([\w.]+)">.*?<strong data-testid="figure-value">([^<]*)</strong>',
            page,
            re.S,
        )
    )


def test_key_figures_of_each_role(work: dict[str, Any], client_for: Any) -> None:
    coordinator = figures(client_for("coordinator").get("/").content.decode())
    # No catalogue root (BE) in this fixture: no index figure.
    assert coordinator == {
        "filling.overdue": "0",
        "alerts.undisposed": "4",
        "tasks.overdue": "1",
        "tasks.on_time_rate": "0.0",
        "rectification.rate": "0.0",
        "requests.open": "8",
        "requests.overdue": "0",
    }
    department = figures(client_for("lead_department").get("/").content.decode())
    # The market regulator leads H01: alerts a and b; H02's are the tax bureau's.
    assert department["alerts.undisposed"] == "2"
    assert department["tasks.overdue"] == "1"
    district_b = figures(client_for("district_b").get("/").content.decode())
    assert (district_b["tasks.overdue"], district_b["requests.open"]) == ("0", "2")
    assert figures(client_for("enterprise").get("/").content.decode()) == {
        "requests.open": "6",
        "requests.closed": "0",
    }
    assert figures(client_for("sysadmin").get("/").content.decode()) == {
        # The delivery of the three messages above waits in the queue.
        "jobs.queued": "1",
        "accounts.active": "9",
        "accounts.tokens": "0",
    }


def test_the_leader_home_links_the_cockpit(personas: dict[str, Any], client_for: Any) -> None:
    page = client_for("leader").get("/").content.decode()
    links = page.split('data-testid="cockpit-links"')[1].split("</p>")[0]
    assert 'href="/dashboards/cockpit/"' in links
    assert 'href="/dashboards/bigscreen/"' in links
    assert "上线后提供" not in page
    for persona in ("lead_department", "responsible_department", "enterprise"):
        assert 'data-testid="cockpit-links"' not in client_for(persona).get("/").content.decode()


def test_the_list_filter_offers_the_role_s_queues_and_accepts_any(
    work: dict[str, Any], client_for: Any
) -> None:
    page = client_for("lead_department").get("/tasks/mine/").content.decode()
    select = page.split('name="queue"')[1].split("</select>")[0]
    assert re.findall(r'<option value="(\w*)"', select) == [
        "",
        "receive",
        "submit",
        "resubmit",
        "review",
    ]
    # A link meant for a unit, opened by the coordinator, filters (to nothing) without an error.
    response = client_for("coordinator").get("/tasks/mine/?queue=receive")
    assert response.status_code == 200
    assert response.context["filterset"].is_valid()
    assert response.context["page"].paginator.count == 0
