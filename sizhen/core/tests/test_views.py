"""Authorisation matrix and behaviour of the core pages."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from sizhen.core import jobs
from sizhen.core.audit import record_event
from sizhen.core.models import AuditEvent, CalendarDay, CalendarYear, Job
from sizhen.core.navigation import MODULES, MODULES_BY_SLUG, modules_for
from sizhen.core.roles import Role
from sizhen.core.xlsx import XLSX_CONTENT_TYPE

pytestmark = pytest.mark.django_db

PERSONAS = [
    "leader",
    "coordinator",
    "lead_department",
    "responsible_department",
    "district_a",
    "district_b",
    "enterprise",
    "enterprise_b",
    "sysadmin",
]
ROLE_OF = {
    "leader": Role.LEADER,
    "coordinator": Role.COORDINATOR,
    "lead_department": Role.LEAD_DEPARTMENT,
    "responsible_department": Role.RESPONSIBLE_DEPARTMENT,
    "district_a": Role.DISTRICT_OFFICER,
    "district_b": Role.DISTRICT_OFFICER,
    "enterprise": Role.ENTERPRISE,
    "enterprise_b": Role.ENTERPRISE,
    "sysadmin": Role.SYSADMIN,
}
SYSTEM_ROLES = {"sysadmin", "coordinator"}
#: Who reaches the system index follows the navigation table (owned with the menu).
SYSTEM_INDEX = {p for p in PERSONAS if ROLE_OF[p] in MODULES_BY_SLUG["system"].roles}


def denied_events() -> int:
    return AuditEvent.objects.filter(action="access.denied").count()


def assert_login_redirect(response: Any) -> None:
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("/system/", SYSTEM_INDEX),
        ("/system/audit/", {"sysadmin"}),
        ("/system/jobs/", SYSTEM_ROLES),
        ("/system/calendar/", SYSTEM_ROLES),
        ("/inbox/", set(PERSONAS)),
        ("/", set(PERSONAS)),
    ],
)
@pytest.mark.parametrize("persona", [*PERSONAS, None])
def test_page_matrix(client_for: Any, url: str, allowed: set[str], persona: str | None) -> None:
    before = denied_events()
    response = client_for(persona).get(url)
    if persona is None:
        assert_login_redirect(response)
        assert denied_events() == before
    elif persona in allowed:
        assert response.status_code == 200
        assert denied_events() == before
    else:
        assert response.status_code == 404
        # The refusal is audited, against the persona who tried.
        event = AuditEvent.objects.filter(action="access.denied").latest("id")
        assert denied_events() == before + 1
        assert event.actor_role == ROLE_OF[persona]


@pytest.mark.parametrize("persona", [*PERSONAS, None])
def test_module_placeholders(client_for: Any, persona: str | None) -> None:
    client = client_for(persona)
    for module in MODULES:
        response = client.get(f"/m/{module.slug}/")
        if persona is None:
            assert_login_redirect(response)
        elif ROLE_OF[persona] not in module.roles:
            assert response.status_code == 404, module.slug
        elif module.url_name:
            assert response.status_code == 302
            assert response.headers["Location"] == "/system/"
        elif module.items:
            # A module with pages lists those the role may open, and says what is still planned.
            assert response.status_code == 200, module.slug
            body = response.content.decode()
            for item in module.items:
                assert (f'href="{reverse(item.url_name)}"' in body) == (
                    ROLE_OF[persona] in item.roles
                )
            assert "本模块尚未上线" not in body
        else:
            assert response.status_code == 200, module.slug
            assert response.context["module"] is module
            assert "本模块尚未上线" in response.content.decode()
    response = client.get("/m/no-such-module/")
    assert response.status_code == (302 if persona is None else 404)


def test_module_visibility_per_role() -> None:
    slugs = {role: [m.slug for m in modules_for(role)] for role in Role}
    assert slugs[Role.ENTERPRISE] == ["requests", "surveys", "knowledge"]
    assert slugs[Role.MACHINE] == []
    assert modules_for(None) == []
    for role in Role:
        if role in (Role.ENTERPRISE, Role.MACHINE):
            continue
        # Every member of staff works in the four diagnoses.
        assert {"monitoring", "requests", "tasks", "rectification"} <= set(slugs[role])
    assert "system" in slugs[Role.SYSADMIN]
    assert "system" in slugs[Role.COORDINATOR]
    assert "system" not in slugs[Role.LEADER]


@pytest.mark.parametrize(
    ("persona", "hint"),
    [
        ("leader", "领导驾驶舱"),
        ("coordinator", "营商办工作台"),
        ("lead_department", "牵头部门工作台"),
        ("responsible_department", "责任部门工作台"),
        ("district_a", "县市区/园区工作台"),
        ("enterprise", "企业服务"),
        ("sysadmin", "系统管理：维护区划"),
    ],
)
def test_home_per_role(client_for: Any, persona: str, hint: str) -> None:
    response = client_for(persona).get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert hint in body
    assert response.context["home_role"] == ROLE_OF[persona]
    tiles = [m.slug for m in response.context["modules"]]
    assert tiles == [m.slug for m in modules_for(ROLE_OF[persona])]
    for module in MODULES:
        assert (f'data-testid="tile-{module.slug}"' in body) is (module.slug in tiles)


def test_system_index_lists_items_per_role(client_for: Any) -> None:
    items = MODULES_BY_SLUG["system"].items
    for persona, role in (("sysadmin", Role.SYSADMIN), ("coordinator", Role.COORDINATOR)):
        response = client_for(persona).get("/system/")
        expected = [i.label for i in items if role in i.roles]
        assert [i.label for i in response.context["items"]] == expected
        assert ("审计日志" in expected) is (role == Role.SYSADMIN)
        body = response.content.decode()
        for item in items:
            assert (f"<h2>{item.label}</h2>" in body) is (item.label in expected)


#: The actions as the audit page shows them: the test workflow's own transition names
#: (tests/workflow_testapp, model "ticket") and the registry's name of the calendar action.
CANCEL, ACCEPT, SET_DAY = "ticket：撤销", "ticket：受理", "设置工作日历调整"


class TestAuditPage:
    @pytest.fixture
    def events(self, personas: dict[str, Any]) -> None:
        record_event("calendar.set_day", actor=personas["sysadmin"], object_type="core.calendarday")
        record_event("ticket.accept", actor=personas["coordinator"], message='=HYPERLINK("x")')
        record_event("ticket.cancel", actor=personas["district_a"], message="企业撤回")

    def rows(self, response: Any) -> list[str]:
        assert response.status_code == 200
        return [row[3][0] for row in response.context["rows"]]

    def test_lists_and_filters(self, client_for: Any, events: None) -> None:
        client = client_for("sysadmin")
        everything = self.rows(client.get("/system/audit/"))
        # Newest first; the persona fixtures wrote their own events before these.
        assert everything[:3] == [CANCEL, ACCEPT, SET_DAY]
        assert len(everything) == min(AuditEvent.objects.count(), 25)
        assert self.rows(client.get("/system/audit/?action=ticket.")) == [
            CANCEL,
            ACCEPT,
        ]
        assert self.rows(client.get("/system/audit/?action=ticket.&actor_label=district")) == [
            CANCEL
        ]
        assert self.rows(client.get("/system/audit/?object_type=core.calendarday")) == [SET_DAY]
        assert self.rows(client.get("/system/audit/?q=撤回")) == [CANCEL]
        # The role is shown by its Chinese name, not its code.
        roles = [row[2][0] for row in client.get("/system/audit/?action=ticket.").context["rows"]]
        assert roles == [Role.DISTRICT_OFFICER.label, Role.COORDINATOR.label]
        assert self.rows(client.get("/system/audit/?action=ticket.&sort=action")) == [
            ACCEPT,
            CANCEL,
        ]
        assert self.rows(client.get("/system/audit/?action=ticket.&sort=-action")) == [
            CANCEL,
            ACCEPT,
        ]
        later = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
        assert self.rows(client.get(f"/system/audit/?since={later}")) == []
        assert self.rows(client.get(f"/system/audit/?action=ticket.&until={later}")) == [
            CANCEL,
            ACCEPT,
        ]

    def test_bad_filter_input_shows_an_error_not_a_crash(
        self, client_for: Any, events: None
    ) -> None:
        client = client_for("sysadmin")
        for query in ("client_address=unknown", "since=2025-13-45"):
            response = client.get(f"/system/audit/?{query}")
            assert response.status_code == 200
            assert response.context["rows"] == []
            assert response.context["filterset"].errors

    def test_export_is_xlsx_and_audited(self, client_for: Any, events: None) -> None:
        response = client_for("sysadmin").get("/system/audit/?action=ticket.&export=xlsx")
        assert response.status_code == 200
        assert response["Content-Type"] == XLSX_CONTENT_TYPE
        assert "attachment; filename*=UTF-8''" in response["Content-Disposition"]
        sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
        values = list(sheet.iter_rows(values_only=True))
        assert sheet.title == "审计日志"
        assert values[0][:4] == ("时间", "操作人", "角色", "操作")
        assert [row[3] for row in values[1:]] == [CANCEL, ACCEPT]
        # A formula in the data comes out as text.
        assert values[2][7] == '\'=HYPERLINK("x")'
        assert sheet.cell(row=3, column=8).data_type == "s"
        export = AuditEvent.objects.get(action="export.xlsx")
        assert export.object_type == "core.auditevent"
        assert export.after == {"query": "action=ticket.&export=xlsx", "rows": 2}
        assert export.message == "导出“审计日志” 2 行"

    @pytest.mark.parametrize("persona", ["coordinator", "leader", "district_a", "enterprise"])
    def test_export_refused_to_others(self, client_for: Any, events: None, persona: str) -> None:
        response = client_for(persona).get("/system/audit/?export=xlsx")
        assert response.status_code == 404
        assert AuditEvent.objects.filter(action="export.xlsx").count() == 0


class TestJobPages:
    @pytest.fixture
    def job(self, personas: dict[str, Any]) -> Job:
        import sizhen.core.notifications  # noqa: F401  registers core.deliver_notifications

        job = jobs.enqueue("core.deliver_notifications", created_by=personas["district_a"])
        Job.objects.filter(pk=job.pk).update(
            progress_done=3, progress_total=4, progress_message="发送中"
        )
        return job

    @pytest.mark.parametrize(
        ("persona", "status"),
        [
            ("sysadmin", 200),
            ("coordinator", 200),
            ("district_a", 200),  # the job's creator
            ("district_b", 404),
            ("leader", 404),
            ("enterprise", 404),
            (None, 302),
        ],
    )
    def test_progress_fragment(
        self, client_for: Any, job: Job, persona: str | None, status: int
    ) -> None:
        response = client_for(persona).get(f"/jobs/{job.pk}/progress/")
        assert response.status_code == status
        if status == 200:
            body = response.content.decode()
            assert 'data-status="queued"' in body
            assert "75%" in body
            assert "发送中" in body

    def test_missing_job_is_404(self, client_for: Any) -> None:
        assert client_for("sysadmin").get("/jobs/999999/progress/").status_code == 404

    def test_job_list_and_export(self, client_for: Any, job: Job) -> None:
        response = client_for("coordinator").get("/system/jobs/")
        assert [row[0][0] for row in response.context["rows"]] == [job.pk]
        assert response.context["rows"][0][3][0] == "75% 发送中"
        export = client_for("coordinator").get("/system/jobs/?export=xlsx")
        values = list(load_workbook(io.BytesIO(export.content)).worksheets[0].values)
        # The office reads the job's Chinese name, never its internal one.
        assert values[0][:3] == ("编号", "任务", "状态")
        assert values[1][:3] == (job.pk, "发送通知", "排队中")
        assert "core.deliver_notifications" not in str(values)
        # Filtering by the Chinese name finds it; by a name no job has, nothing.
        found = client_for("coordinator").get("/system/jobs/?name=通知")
        assert [row[0][0] for row in found.context["rows"]] == [job.pk]
        none = client_for("coordinator").get("/system/jobs/?name=提醒函")
        assert list(none.context["rows"]) == []
        assert AuditEvent.objects.filter(action="export.xlsx", object_type="core.job").count() == 1


class TestCalendarPage:
    def answer(self, client: Any, query: str) -> Any:
        response = client.get(f"/system/calendar/?{query}")
        assert response.status_code == 200
        return response.context["answer"]

    def test_queries(self, client_for: Any) -> None:
        client = client_for("coordinator")
        answer = self.answer(client, "start=2025-09-28&days=5")
        assert answer["text"] == (
            "2025-09-28 起 5 个工作日后为 2025-10-11（星期六，工作日，国庆节调休上班）"
        )
        assert answer["provisional"] is False
        answer = self.answer(client, "start=2025-09-28&end=2025-10-10")
        assert answer["text"] == "2025-09-28 至 2025-10-10 之间（不含起始日）共 4 个工作日"
        answer = self.answer(client, "start=2026-12-25&days=10")
        assert (answer["provisional"], answer["years"]) == (True, (2027,))
        page = client.get("/system/calendar/?start=2026-12-25&days=10").content.decode()
        assert "暂定：2027 年尚无官方放假安排" in page

    @pytest.mark.parametrize(
        ("query", "message"),
        [
            ("start=2025-09-28", "请填写工作日数或截止日期"),
            ("start=9999-12-30&days=1", "超出可计算范围"),
            ("start=2025-09-28&days=-1", ""),
            ("start=notadate&days=1", ""),
        ],
    )
    def test_bad_queries(self, client_for: Any, query: str, message: str) -> None:
        response = client_for("sysadmin").get(f"/system/calendar/?{query}")
        assert response.status_code == 200
        assert response.context["answer"] is None
        assert response.context["query"].errors
        assert message in response.content.decode()

    def test_only_sysadmin_sees_the_edit_forms(self, client_for: Any) -> None:
        assert client_for("sysadmin").get("/system/calendar/").context["can_edit"] is True
        assert client_for("coordinator").get("/system/calendar/").context["can_edit"] is False

    def test_sysadmin_sets_and_deletes_a_day(self, client_for: Any) -> None:
        client = client_for("sysadmin")
        response = client.post(
            "/system/calendar/day/",
            {"date": "2025-10-09", "kind": "holiday", "name": "本地假日", "note": "市政府通知"},
        )
        assert response.status_code == 302
        day = CalendarDay.objects.get()
        assert (day.date, day.kind, day.name, day.note) == (
            dt.date(2025, 10, 9),
            "holiday",
            "本地假日",
            "市政府通知",
        )
        answer = self.answer(client, "start=2025-09-28&days=5")
        assert answer["text"].endswith("2025-10-13（星期一，工作日）")
        response = client.post(f"/system/calendar/day/{day.pk}/delete/")
        assert response.status_code == 302
        assert CalendarDay.objects.count() == 0
        assert list(
            AuditEvent.objects.filter(action__startswith="calendar.").values_list(
                "action", flat=True
            )
        ) == ["calendar.delete_day", "calendar.set_day"]

    def test_invalid_day_changes_nothing(self, client_for: Any) -> None:
        client = client_for("sysadmin")
        for data, expected in (
            ({"date": "1999-10-09", "kind": "holiday"}, "日期：日期超出范围（2000–2100 年）"),
            (
                {"date": "2025-10-09", "kind": "maybe"},
                "类型：选择一个有效的选项。 maybe 不在可用的选项中。",
            ),
            ({"date": "", "kind": "holiday"}, "日期：这个字段是必填项。"),
        ):
            response = client.post("/system/calendar/day/", data, follow=True)
            assert response.status_code == 200
            assert [str(m) for m in response.context["messages"]] == [expected]
        assert CalendarDay.objects.count() == 0
        assert AuditEvent.objects.filter(action__startswith="calendar.").count() == 0
        assert client.post("/system/calendar/day/999/delete/").status_code == 404
        assert client.get("/system/calendar/day/").status_code == 405

    def test_sysadmin_confirms_a_year(self, client_for: Any) -> None:
        client = client_for("sysadmin")
        response = client.post(
            "/system/calendar/year/", {"year": "2027", "source": ""}, follow=True
        )
        assert [str(m) for m in response.context["messages"]] == [
            "依据（通知文号）：这个字段是必填项。"
        ]
        assert CalendarYear.objects.count() == 0
        client.post("/system/calendar/year/", {"year": "2027", "source": "国办发明电〔2026〕7号"})
        assert list(CalendarYear.objects.values_list("year", "source")) == [
            (2027, "国办发明电〔2026〕7号")
        ]
        assert self.answer(client, "start=2026-12-25&days=10")["provisional"] is False

    @pytest.mark.parametrize("persona", [p for p in PERSONAS if p != "sysadmin"] + [None])
    def test_post_endpoints_are_sysadmin_only(
        self, client_for: Any, personas: dict[str, Any], persona: str | None
    ) -> None:
        from sizhen.core import services

        day = services.set_calendar_day(
            actor=personas["sysadmin"], date=dt.date(2025, 10, 9), kind="holiday"
        )
        client = client_for(persona)
        responses = [
            client.post("/system/calendar/day/", {"date": "2025-10-10", "kind": "holiday"}),
            client.post(f"/system/calendar/day/{day.pk}/delete/"),
            client.post("/system/calendar/year/", {"year": "2027", "source": "伪造"}),
        ]
        for response in responses:
            if persona is None:
                assert_login_redirect(response)
            else:
                assert response.status_code == 404
        assert list(CalendarDay.objects.values_list("date", "kind")) == [
            (dt.date(2025, 10, 9), "holiday")
        ]
        assert CalendarYear.objects.count() == 0
        assert AuditEvent.objects.filter(action__startswith="calendar.").count() == 1
        if persona is not None:
            assert denied_events() == 3
