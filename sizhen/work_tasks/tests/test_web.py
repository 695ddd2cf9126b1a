"""Pages, imports, exports, reminders, statistics, the monthly report and alert conversion."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from docx import Document
from openpyxl import Workbook, load_workbook

from sizhen.core.models import AuditEvent, Notification, TransitionHistory
from sizhen.core.periods import Period
from sizhen.core.tests.files import csv_file, xlsx_file
from sizhen.work_tasks import services
from sizhen.work_tasks.jobs import send_deadline_reminders
from sizhen.work_tasks.models import ReminderLog, TaskAssignment, TaskFile, WorkTask
from sizhen.work_tasks.report import build_monthly_report
from sizhen.work_tasks.selectors import completion_summary, statistics
from sizhen.work_tasks.tests.support import (
    NATIONAL_DAY_DEADLINE,
    NATIONAL_DAY_ISSUE,
    assignment_for,
    audit_count,
    issue,
    make_alert,
    state,
)

pytestmark = pytest.mark.django_db
D = dt.date


def _finish(
    assignment: TaskAssignment, personas: Any, actor: str, clock: Any, day: dt.date
) -> None:
    services.receive_assignment(assignment, actor=personas[actor])
    clock(day)
    services.submit_assignment(assignment, actor=personas[actor])
    services.approve_assignment(assignment, actor=personas["coordinator"])


@pytest.fixture
def portfolio(city: Any, personas: Any, clock: Any) -> dict[str, TaskAssignment]:
    """Four assignments issued 26 Sep 2025, due 10 Oct: early, on time, late, open."""
    clock(NATIONAL_DAY_ISSUE)
    early = assignment_for(issue(personas, [city["market"]], title="提前任务"), city["market"])
    on_time = assignment_for(
        issue(personas, [city["district_a"]], title="按期任务", source="alert"), city["district_a"]
    )
    late = assignment_for(issue(personas, [city["market"]], title="逾期任务"), city["market"])
    still_open = assignment_for(
        issue(personas, [city["district_b"]], title="在办任务"), city["district_b"]
    )
    _finish(early, personas, "lead_department", clock, D(2025, 9, 30))
    _finish(on_time, personas, "district_a", clock, NATIONAL_DAY_DEADLINE)
    _finish(late, personas, "lead_department", clock, D(2025, 10, 14))
    clock(D(2025, 10, 20))
    return {"early": early, "on_time": on_time, "late": late, "open": still_open}


def test_completion_summary_is_scoped(personas: Any, portfolio: Any) -> None:
    today = D(2025, 10, 20)
    assert completion_summary(personas["leader"], today) == {
        "early": 1,
        "on_time": 1,
        "late": 1,
        "open": 1,
        "overdue_open": 1,
    }
    assert completion_summary(personas["district_a"], today) == {
        "early": 0,
        "on_time": 1,
        "late": 0,
        "open": 0,
        "overdue_open": 0,
    }
    assert completion_summary(personas["enterprise"], today) == {
        "early": 0,
        "on_time": 0,
        "late": 0,
        "open": 0,
        "overdue_open": 0,
    }


def test_statistics_by_department_district_and_source(personas: Any, portfolio: Any) -> None:
    stats = statistics(personas["coordinator"], today=D(2025, 10, 20))
    total = stats.total
    assert (total.total, total.early, total.on_time, total.late, total.overdue_open) == (
        4,
        1,
        1,
        1,
        1,
    )
    assert total.on_time_rate == 50.0  # (1 + 1) / (3 completed + 1 overdue)
    assert total.average_delay == 3.0  # 11 (make-up Saturday), 13 and 14 October
    assert [(r.label, r.total, r.on_time_rate) for r in stats.by_department] == [
        ("市场监督管理局", 2, 50.0),
        ("东湖区", 1, 100.0),
        ("西山区", 1, 0.0),
    ]
    assert [(r.label, r.total) for r in stats.by_district] == [
        ("市直部门", 2),
        ("东湖区", 1),
        ("西山区", 1),
    ]
    assert [(r.label, r.total, r.late) for r in stats.by_source] == [
        ("年度工作计划", 3, 1),
        ("监测预警", 1, 0),
    ]


def test_monthly_report_docx_reads_back(personas: Any, portfolio: Any) -> None:
    content = build_monthly_report(
        personas["coordinator"], Period(D(2025, 10, 1)), today=D(2025, 10, 20)
    )
    document = Document(io.BytesIO(content))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "工作任务督办月报（2025年10月）" in text
    assert (
        "共下发任务 4 项，已完成 3 项（提前 1 项、按期 1 项、逾期完成 1 项），在办 1 项，其中逾期未完成 1 项；按期完成率 50.0%，逾期完成的平均逾期 3.0 个工作日"
        in text
    )
    assert len(document.inline_shapes) == 1  # the chart
    district_table = document.tables[0]
    assert [c.text for c in district_table.rows[1].cells] == [
        "市直部门",
        "2",
        "1",
        "0",
        "1",
        "0",
        "0",
        "50.0%",
    ]
    overdue = document.tables[3]
    assert [c.text for c in overdue.rows[1].cells][1:4] == ["在办任务", "西山区", "2025-10-10"]


def test_monthly_report_download_page(client_for: Any, portfolio: Any) -> None:
    response = client_for("leader").get("/tasks/report/?month=2025-10")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "工作任务督办月报" in Document(io.BytesIO(response.content)).paragraphs[0].text
    bad = client_for("leader").get("/tasks/report/?month=2025-13")
    assert bad.status_code == 302
    assert client_for("enterprise").get("/tasks/report/?month=2025-10").status_code == 404


def test_reminders_before_and_after_deadline_are_sent_once(
    city: Any, personas: Any, clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    clock(NATIONAL_DAY_ISSUE)
    market = assignment_for(issue(personas, [city["market"]]), city["market"])
    lead = personas["lead_department"]
    # 30 Sep: 9 and 10 Oct are the only working days left (the holiday sits between).
    with django_capture_on_commit_callbacks(execute=True):
        assert send_deadline_reminders(D(2025, 9, 26)) == {"before_deadline": 0, "overdue": 0}
        assert send_deadline_reminders(D(2025, 9, 30)) == {"before_deadline": 1, "overdue": 0}
        assert send_deadline_reminders(D(2025, 9, 30)) == {"before_deadline": 0, "overdue": 0}
        assert send_deadline_reminders(D(2025, 10, 9)) == {"before_deadline": 0, "overdue": 0}
        assert send_deadline_reminders(D(2025, 10, 10)) == {"before_deadline": 0, "overdue": 0}
        assert send_deadline_reminders(D(2025, 10, 11)) == {"before_deadline": 0, "overdue": 1}
        assert send_deadline_reminders(D(2025, 10, 12)) == {"before_deadline": 0, "overdue": 0}
    subjects = list(
        Notification.objects.filter(recipient=lead, category="work_task_reminder")
        .order_by("id")
        .values_list("subject", flat=True)
    )
    assert subjects == [
        "任务即将到期：压缩企业开办时间（期限 2025-10-10，剩余 2 个工作日）",
        "任务已逾期：压缩企业开办时间（期限 2025-10-10）",
    ]
    assert (
        Notification.objects.filter(
            recipient=personas["coordinator"], category="work_task_reminder"
        ).count()
        == 1
    )
    assert list(
        ReminderLog.objects.values_list("assignment_id", "kind", "sent_on").order_by("id")
    ) == [
        (market.pk, "before_deadline", D(2025, 9, 30)),
        (market.pk, "overdue", D(2025, 10, 11)),
    ]


PAGES = ["/tasks/", "/tasks/mine/", "/tasks/board/", "/tasks/statistics/"]


@pytest.mark.parametrize("url", PAGES)
def test_pages_refuse_enterprise_and_anonymous(
    city: Any, personas: Any, client_for: Any, url: str
) -> None:
    assert client_for("enterprise").get(url).status_code == 404
    assert client_for(None).get(url).status_code == 302


def test_list_and_board_are_scoped(personas: Any, portfolio: Any, client_for: Any) -> None:
    page = client_for("district_a").get("/tasks/").content.decode()
    assert "按期任务" in page
    assert "在办任务" not in page
    board = client_for("district_b").get("/tasks/board/").content.decode()
    assert "在办任务" in board
    assert "按期任务" not in board
    mine = client_for("lead_department").get("/tasks/mine/").content.decode()
    assert "提前任务" in mine and "逾期任务" in mine and "在办任务" not in mine
    overdue = client_for("coordinator").get("/tasks/?overdue=1").content.decode()
    assert "在办任务" in overdue and "提前任务" not in overdue


def test_list_exports_xlsx_within_scope(personas: Any, portfolio: Any, client_for: Any) -> None:
    response = client_for("district_b").get("/tasks/?export=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("任务编号", "任务名称", "承办单位")
    assert [r[1] for r in rows[1:]] == ["在办任务"]
    assert AuditEvent.objects.filter(action="export.xlsx").count() == 1


def test_detail_page_timeline_and_other_district_404(
    personas: Any, portfolio: Any, client_for: Any
) -> None:
    on_time = portfolio["on_time"]
    page = client_for("district_a").get(f"/tasks/{on_time.pk}/").content.decode()
    assert "按期完成" in page
    assert page.count("timeline-transition") == 3
    before = audit_count()
    assert client_for("district_b").get(f"/tasks/{on_time.pk}/").status_code == 404
    assert AuditEvent.objects.order_by("-id").first().action == "access.denied"  # type: ignore[union-attr]
    assert audit_count() == before + 1


def test_steps_through_pages(city: Any, personas: Any, client_for: Any, clock: Any) -> None:
    clock(NATIONAL_DAY_ISSUE)
    market = assignment_for(issue(personas, [city["market"]]), city["market"])
    url = f"/tasks/{market.pk}"
    # The other district is refused without a trace on the assignment.
    assert client_for("district_b").post(f"{url}/receive/", {"status": "issued"}).status_code == 404
    assert state(market) == ("issued", 1)
    lead = client_for("lead_department")
    assert lead.post(f"{url}/receive/", {"status": "issued"}).status_code == 302
    upload = SimpleUploadedFile("佐证.pdf", b"%PDF-1.4 evidence", content_type="application/pdf")
    lead.post(f"{url}/progress/", {"content": "已完成 50%", "percent": "50", "files": [upload]})
    evidence = TaskFile.objects.get()
    assert evidence.report is not None and evidence.name == "佐证.pdf"
    assert lead.get(f"/tasks/files/{evidence.pk}/").status_code == 200
    assert (
        b"".join(lead.get(f"/tasks/files/{evidence.pk}/").streaming_content) == b"%PDF-1.4 evidence"
    )  # type: ignore[attr-defined]
    assert client_for("district_b").get(f"/tasks/files/{evidence.pk}/").status_code == 404
    bad = lead.post(f"{url}/progress/", {"content": "x", "percent": "120"})
    assert bad.status_code == 200
    assert "确保该值小于或等于100" in bad.content.decode()
    assert market.reports.count() == 1
    lead.post(f"{url}/submit/", {"status": "received"})
    coordinator = client_for("coordinator")
    response = coordinator.post(f"{url}/return/", {"status": "submitted", "note": ""}, follow=True)
    assert "“退回”需要填写理由" in response.content.decode()
    assert state(market)[0] == "submitted"
    coordinator.post(f"{url}/approve/", {"status": "submitted", "note": "余下工作纳入下季度"})
    assert state(market)[0] == "approved"
    assert list(
        TransitionHistory.objects.filter(object_id=str(market.pk)).values_list("action", flat=True)
    ) == ["receive", "submit", "approve"]


def test_refused_evidence_keeps_the_progress_form(
    city: Any, personas: Any, client_for: Any, clock: Any
) -> None:
    clock(NATIONAL_DAY_ISSUE)
    task = issue(personas, [city["market"]], milestones=[("印发方案", D(2025, 9, 30))])
    market = assignment_for(task, city["market"])
    milestone = task.milestones.get()
    services.receive_assignment(market, actor=personas["lead_department"])
    lead = client_for("lead_department")
    renamed = SimpleUploadedFile("方案.pdf", b"MZ\x90\x00 not a pdf")
    response = lead.post(
        f"/tasks/{market.pk}/progress/",
        {
            "content": "方案已起草，待审定",
            "percent": "40",
            "milestone": str(milestone.pk),
            "milestone_done": "on",
            "files": [renamed],
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        '<div data-testid="progress-files-errors"><ul class="errorlist" id="id_files_error">'
        "<li>文件“方案.pdf”的内容不是 PDF 文件，类型不允许上传</li></ul></div>"
    ) in page
    assert ">方案已起草，待审定</textarea>" in page
    assert 'value="40"' in page
    assert f'<option value="{milestone.pk}" selected>' in page
    assert 'name="milestone_done" value="on" checked>' in page
    assert (market.reports.count(), TaskFile.objects.count()) == (0, 0)


@pytest.mark.parametrize("upload", [csv_file("台账.csv"), xlsx_file("台账.xlsx")])
def test_csv_and_xlsx_evidence_is_accepted(
    city: Any, personas: Any, client_for: Any, clock: Any, upload: Any
) -> None:
    clock(NATIONAL_DAY_ISSUE)
    market = assignment_for(issue(personas, [city["market"]]), city["market"])
    services.receive_assignment(market, actor=personas["lead_department"])
    response = client_for("lead_department").post(
        f"/tasks/{market.pk}/progress/",
        {"content": "数据已整理", "percent": "70", "files": [upload]},
    )
    assert response.status_code == 302
    assert list(TaskFile.objects.values_list("name", "report__content")) == [
        (upload.name, "数据已整理")
    ]


def test_issue_page(city: Any, personas: Any, client_for: Any) -> None:
    assert client_for("lead_department").get("/tasks/issue/").status_code == 404
    coordinator = client_for("coordinator")
    refused = coordinator.post(
        "/tasks/issue/", {"title": "x", "content": "y", "source": "annual_plan"}
    )
    assert "请至少选择一个承办部门或县市区" in refused.content.decode()
    assert WorkTask.objects.count() == 0
    response = coordinator.post(
        "/tasks/issue/",
        {
            "title": "优化水电气报装",
            "content": "报装时间压缩至 5 个工作日",
            "source": "evaluation_feedback",
            "departments": [city["market"].pk],
            "regions": [city["district_a"].pk, city["district_b"].pk],
            "deadline": "2030-06-28",
            "milestones-title": "制定方案",
            "milestones-deadline": "2030-03-31",
        },
    )
    assert response.status_code == 302
    task = WorkTask.objects.get()
    assert (task.title, task.deadline, task.assignments.count(), task.milestones.count()) == (
        "优化水电气报装",
        D(2030, 6, 28),
        3,
        1,
    )


def test_from_alert_converts_in_one_transaction(
    city: Any, personas: Any, client_for: Any, clock: Any
) -> None:
    alert = make_alert(city)
    page = client_for("coordinator").get(f"/monitoring/alerts/{alert.pk}/").content.decode()
    assert f"/tasks/from-alert/{alert.pk}/" in page
    assert (
        f"/tasks/from-alert/{alert.pk}/"
        not in client_for("leader").get(f"/monitoring/alerts/{alert.pk}/").content.decode()
    )
    assert client_for("district_a").get(f"/tasks/from-alert/{alert.pk}/").status_code == 404
    clock(NATIONAL_DAY_ISSUE)
    task = services.create_task_from_alert(
        alert,
        actor=personas["coordinator"],
        title="新设企业数异常整改",
        content="核查原因",
        units=[city["market"]],
        deadline_working_days=5,
    )
    alert.refresh_from_db()
    assert (
        alert.status,
        alert.converted_kind,
        alert.converted_id,
        alert.assigned_department_id,
    ) == (
        "converted",
        "work_task",
        task.pk,
        city["market"].pk,
    )
    assert (task.source, task.alert_id, list(task.indicators.values_list("code", flat=True))) == (
        "alert",
        alert.pk,
        ["T01"],
    )
    # A second conversion fails as a whole: no second task is left behind.
    with pytest.raises(Exception, match="不能执行该操作"):
        services.create_task_from_alert(
            alert,
            actor=personas["coordinator"],
            title="再次转办",
            content="x",
            units=[city["market"]],
            deadline_working_days=5,
        )
    assert WorkTask.objects.count() == 1


def _plan(rows: list[list[Any]]) -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    ws.append(["任务名称", "任务内容", "任务来源", "承办单位", "完成期限", "工作日数", "阶段节点"])
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile("plan.xlsx", buffer.getvalue())


def test_plan_import_all_or_nothing(city: Any, personas: Any, client_for: Any, clock: Any) -> None:
    clock(NATIONAL_DAY_ISSUE)
    coordinator = client_for("coordinator")
    bad = coordinator.post(
        "/tasks/import/",
        {
            "file": _plan(
                [
                    ["任务一", "内容", "年度工作计划", "SZ-SCJG", "2025-12-31", None, None],
                    ["任务二", "内容", "传闻", "NOPE", None, None, None],
                    ["任务三", "内容", None, "449901", "2025-12-31", 5, None],
                ]
            )
        },
    )
    page = bad.content.decode()
    assert "校验未通过：3 处错误" in page
    assert "任务来源“传闻”无效" in page and "找不到部门编码或区划代码“NOPE”" in page
    assert "二选一" in page
    assert WorkTask.objects.count() == 0
    good = coordinator.post(
        "/tasks/import/",
        {
            "file": _plan(
                [
                    [
                        "任务一",
                        "内容",
                        "年度工作计划",
                        "SZ-SCJG、449901",
                        None,
                        5,
                        "方案:2025-09-30",
                    ],
                    ["任务二", "内容", "领导批示", "SZ-SW", "2025-12-31", None, None],
                ]
            )
        },
    )
    assert "导入完成" in good.content.decode()
    assert list(
        WorkTask.objects.order_by("number").values_list("title", "deadline", "plan_year")
    ) == [
        ("任务一", NATIONAL_DAY_DEADLINE, 2025),
        ("任务二", D(2025, 12, 31), 2025),
    ]
    assert TaskAssignment.objects.count() == 3
    assert AuditEvent.objects.filter(action="work_task.import_plan").count() == 1
    assert (
        client_for("lead_department").post("/tasks/import/", {"file": _plan([])}).status_code == 404
    )
    template = coordinator.get("/tasks/import/?template=1")
    assert load_workbook(io.BytesIO(template.content)).active["A1"].value == "任务名称"


def test_from_alert_page_issues_the_task(city: Any, personas: Any, client_for: Any) -> None:
    alert = make_alert(city)
    coordinator = client_for("coordinator")
    form = coordinator.get(f"/tasks/from-alert/{alert.pk}/").content.decode()
    assert "新设企业数（东湖区）预警整改" in form
    refused = coordinator.post(f"/tasks/from-alert/{alert.pk}/", {"title": "x", "content": "y"})
    assert "请至少选择一个承办部门或县市区" in refused.content.decode()
    alert.refresh_from_db()
    assert (alert.status, WorkTask.objects.count()) == ("open", 0)
    response = coordinator.post(
        f"/tasks/from-alert/{alert.pk}/",
        {
            "title": "新设企业数异常整改",
            "content": "核查原因并提出措施",
            "regions": [city["district_a"].pk],
            "working_days": "10",
        },
    )
    task = WorkTask.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/tasks/{task.assignments.get().pk}/"
    alert.refresh_from_db()
    assert (alert.status, alert.converted_id, task.source) == ("converted", task.pk, "alert")


def test_supervision_through_pages(city: Any, personas: Any, client_for: Any, clock: Any) -> None:
    clock(NATIONAL_DAY_ISSUE)
    market = assignment_for(issue(personas, [city["market"]]), city["market"])
    url = f"/tasks/{market.pk}"
    leader, lead, coordinator = (
        client_for("leader"),
        client_for("lead_department"),
        client_for("coordinator"),
    )
    # Leaders read but do not act; a unit does not supervise itself.
    assert leader.post(f"{url}/cancel/", {"status": "issued", "note": "x"}).status_code == 404
    assert (
        leader.post(f"{url}/list/", {"leader": personas["leader"].pk, "reason": "x"}).status_code
        == 404
    )
    lead.post(f"{url}/urge/", {"content": "自己催自己"})
    assert market.urges.count() == 0
    coordinator.post(f"{url}/urge/", {"content": "请于国庆节前签收"})
    coordinator.post(f"{url}/list/", {"leader": personas["leader"].pk, "reason": "重点任务"})
    coordinator.post(
        f"{url}/meeting/",
        {"held_on": "2025-09-26", "attendees": "营商办、市场监管局", "minutes": "明确分工"},
    )
    page = leader.get(f"{url}/").content.decode()
    assert "请于国庆节前签收" in page and "重点任务" in page and "明确分工" in page
    assert (market.urges.count(), market.meetings.count()) == (1, 1)
    market.refresh_from_db()
    assert (market.listed, market.listed_leader_id) == (True, personas["leader"].pk)
    coordinator.post(f"{url}/cancel/", {"status": "issued", "note": "任务调整"})
    assert state(market) == ("cancelled", 2)


def _exported(client: Any, url: str, query: dict[str, Any]) -> list[tuple[Any, ...]]:
    response = client.get(url, {**query, "export": "xlsx"})
    assert response.status_code == 200
    return list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))


def test_list_filters_by_department_district_overdue_and_listed(
    city: Any, personas: Any, portfolio: Any, client_for: Any
) -> None:
    from sizhen.work_tasks import supervision

    # Issued on 20 October: due 27 October, not overdue.
    issue(personas, [city["a_dept"]], title="区局任务")
    supervision.list_for_supervision(
        portfolio["open"], actor=personas["coordinator"], leader=personas["leader"], reason="滞后"
    )
    client = client_for("coordinator")

    def titles(query: dict[str, Any], url: str = "/tasks/") -> list[str]:
        return sorted(row[1] for row in _exported(client, url, query)[1:])

    everything = ["区局任务", "在办任务", "提前任务", "按期任务", "逾期任务"]
    assert titles({}) == sorted(everything)
    assert titles({"department": city["market"].pk}) == ["提前任务", "逾期任务"]
    # A district is its own office and every unit located in it.
    assert titles({"district": city["district_a"].pk}) == ["区局任务", "按期任务"]
    assert titles({"district": city["district_b"].pk}) == ["在办任务"]
    assert titles({"overdue": "1"}) == ["在办任务"]
    assert titles({"overdue": "0"}) == sorted(set(everything) - {"在办任务"})
    assert titles({"listed": "1"}) == ["在办任务"]
    assert titles({"source": "alert", "status": "approved"}) == ["按期任务"]
    assert titles({"overdue": "1", "district": city["district_a"].pk}) == []
    # A district officer is offered only its own district, and a foreign one filters nothing in.
    page = client_for("district_a").get("/tasks/").content.decode()
    assert f'<option value="{city["district_a"].pk}">东湖区</option>' in page
    assert f'<option value="{city["park"].pk}">高新区</option>' in page
    assert "西山区</option>" not in page
    assert "东湖区市场监督管理局</option>" in page
    assert "西山区市场监督管理局</option>" not in page
    district_a = client_for("district_a")
    assert _exported(district_a, "/tasks/", {"district": city["district_b"].pk})[1:] == []
    # The overdue tab is marked as the page shown.
    overdue_page = client.get("/tasks/?overdue=1").content.decode()
    assert '<a href="?overdue=1" class="active">逾期未完成</a>' in overdue_page


def test_my_tasks_export_holds_only_my_units_assignments(
    personas: Any, portfolio: Any, client_for: Any
) -> None:
    rows = _exported(client_for("lead_department"), "/tasks/mine/", {})
    assert sorted(r[1] for r in rows[1:]) == ["提前任务", "逾期任务"]
    assert {r[2] for r in rows[1:]} == {"市场监督管理局"}


def test_overdue_selector_for_the_cockpit(city: Any, personas: Any, portfolio: Any) -> None:
    from sizhen.work_tasks.selectors import overdue_assignments

    def overdue(persona: str, day: dt.date) -> list[str]:
        return sorted(
            a.task.title for a in overdue_assignments(personas[persona], day).select_related("task")
        )

    # Open on its deadline day is not overdue yet; the next day it is. Completed ones never are.
    assert overdue("leader", NATIONAL_DAY_DEADLINE) == []
    assert overdue("leader", D(2025, 10, 11)) == ["在办任务"]
    assert overdue("district_b", D(2025, 10, 11)) == ["在办任务"]
    assert overdue("district_a", D(2025, 10, 11)) == []
    assert overdue("enterprise", D(2025, 10, 11)) == []
    services.cancel_assignment(portfolio["open"], actor=personas["coordinator"], reason="撤回")
    assert overdue("leader", D(2025, 10, 11)) == []


def test_statistics_export_xlsx(personas: Any, portfolio: Any, client_for: Any) -> None:
    response = client_for("leader").get("/tasks/statistics/", {"export": "xlsx"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["按承办单位", "按县市区", "按任务来源"]
    rows = list(book["按任务来源"].iter_rows(values_only=True))
    assert rows[0] == (
        "名称",
        "任务数",
        "提前",
        "按期",
        "逾期完成",
        "在办",
        "逾期未完成",
        "按期完成率（%）",
        "平均逾期（工作日）",
    )
    assert rows[1:] == [
        ("年度工作计划", 3, 1, 0, 1, 1, 1, 33.3, 3),
        ("监测预警", 1, 0, 1, 0, 0, 0, 100, None),
        ("合计", 4, 1, 1, 1, 1, 1, 50, 3),
    ]
    districts = list(book["按县市区"].iter_rows(values_only=True))
    assert [r[:2] for r in districts[1:]] == [
        ("市直部门", 2),
        ("东湖区", 1),
        ("西山区", 1),
        ("合计", 4),
    ]
    assert AuditEvent.objects.filter(action="export.xlsx").count() == 1
    # A district officer's export holds its own district only.
    own = load_workbook(
        io.BytesIO(client_for("district_a").get("/tasks/statistics/?export=xlsx").content)
    )
    assert [r[0] for r in own["按承办单位"].iter_rows(values_only=True)][1:] == ["东湖区", "合计"]
    assert client_for("enterprise").get("/tasks/statistics/?export=xlsx").status_code == 404


def test_board_groups_by_state_and_caps_finished_work(
    personas: Any, portfolio: Any, client_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sizhen.work_tasks import views

    monkeypatch.setattr(views, "BOARD_DONE_CARDS", 2)
    response = client_for("coordinator").get("/tasks/board/")
    columns = {c["state"]: c for c in response.context["columns"]}
    assert list(columns) == ["issued", "received", "submitted", "returned", "approved", "cancelled"]
    assert [a.task.title for a in columns["issued"]["items"]] == ["在办任务"]
    # Three finished, the latest two shown (same deadline: the last issued first), and a link.
    assert columns["approved"]["count"] == 3
    assert [a.task.title for a in columns["approved"]["items"]] == ["逾期任务", "按期任务"]
    page = response.content.decode()
    assert (
        '<a href="/tasks/?status=approved" data-testid="board-more-approved">查看全部 3 项</a>'
        in (page)
    )
    assert "已逾期" in page  # the open one is past its deadline on 20 October
    mine = client_for("lead_department").get("/tasks/board/?mine=1")
    counts = {c["state"]: c["count"] for c in mine.context["columns"]}
    assert counts == {
        "issued": 0,
        "received": 0,
        "submitted": 0,
        "returned": 0,
        "approved": 2,
        "cancelled": 0,
    }
