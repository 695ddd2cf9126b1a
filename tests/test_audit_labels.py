"""The audit log in Chinese: every action the code records has a Chinese name, and the audit
page and its Excel export show names, never the codes (auth.login, access.denied, states)."""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from openpyxl import load_workbook

from sizhen.accounts.services import LOGOUT_REASONS
from sizhen.core.audit import record_event
from sizhen.core.audit_labels import ACTION_LABELS, action_label, all_action_labels
from sizhen.enterprise_requests.choices import MessageKind
from sizhen.indicators.ingestion.choices import LoadStatus

CODE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
#: Calls whose ``action=`` names a permission check, not an audit event.
ACCESS_CHECKS = {"require_capability", "require_role", "has_capability", "visible_to"}


def recorded_actions() -> set[str]:
    """Every action code written literally in the code: the first argument of record_event and
    event_fields, and the ``action=``/``event=`` arguments handed on to them."""
    found: set[str] = set()
    for path in Path(settings.BASE_DIR, "sizhen").rglob("*.py"):
        if "tests" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            values: list[ast.expr] = []
            if name in ("record_event", "event_fields") and node.args:
                values.append(node.args[0])
            if name not in ACCESS_CHECKS:
                values += [k.value for k in node.keywords if k.arg in ("action", "event")]
            for value in values:
                for constant in ast.walk(value):
                    if isinstance(constant, ast.Constant) and CODE.match(str(constant.value)):
                        found.add(constant.value)
    return found


def test_every_recorded_action_has_a_chinese_name() -> None:
    actions = recorded_actions()
    # The scan finds what it should (a broken scan would pass everything).
    assert {"auth.login", "access.denied", "work_task.issue", "filling_round.open"} <= actions
    assert len(actions) > 90
    # Built at run time: a logout's reason, a load's outcome, a request message's kind.
    actions |= {action for action, _message in LOGOUT_REASONS.values()}
    actions |= {
        f"records.{s}" for s in (LoadStatus.VALIDATED, LoadStatus.REJECTED, LoadStatus.FAILED)
    }
    actions |= {f"enterprise_request.message.{kind}" for kind in MessageKind.values}
    unnamed = sorted(a for a in actions if action_label(a) == a)
    assert unnamed == []
    # A registry entry nothing records is a stale name.
    assert sorted(set(ACTION_LABELS) - actions) == []


def test_workflow_transitions_are_named_by_their_workflow() -> None:
    labels = all_action_labels()
    assert labels["alert.convert"] == "预警：转为任务或整改事项"
    assert labels["work_task.receive"] == "承办任务：签收"
    assert labels["enterprise_request.dispatch"] == "企业诉求：派单"
    assert labels["rectification.close"] == "整改事项：审核销号"
    assert labels["filling_task.return"] == "填报任务：退回"
    # A service action of the same prefix keeps the registry's name.
    assert labels["work_task.issue"] == "下发任务"
    assert action_label("no_such.thing") == "no_such.thing"


@pytest.fixture
def events(personas: dict[str, Any]) -> None:
    user = personas["district_a"]
    record_event("auth.login", actor=user, obj=user)
    record_event(
        "access.denied",
        actor=user,
        object_type="work_tasks.taskassignment",
        object_id="7",
        message="对象不在数据范围内",
        after={"action": "view", "roles": ["coordinator", "sysadmin"]},
    )
    record_event(
        "alert.convert",
        actor=personas["coordinator"],
        object_type="monitoring.alert",
        object_id="3",
        before={"status": "open"},
        after={"status": "converted"},
    )


RAW = (
    "auth.login",
    "access.denied",
    "alert.convert",
    "converted",
    "monitoring.alert",
    "work_tasks.taskassignment",
    '"status"',
    "action：",
    "roles：",
)


def test_audit_page_shows_names_not_codes(client_for: Any, events: None) -> None:
    response = client_for("sysadmin").get("/system/audit/")
    assert response.status_code == 200
    rows = [[value for value, _link in r] for r in response.context["rows"]]
    shown = {(r[3], r[4], r[9], r[10]) for r in rows[:3]}
    assert shown == {
        ("登录", "用户", "", ""),
        ("越权访问被拒绝", "承办任务", "", "操作：查看；角色：营商办、系统管理员"),
        ("预警：转为任务或整改事项", "预警", "状态：待处理", "状态：已转任务/整改"),
    }
    body = response.content.decode()
    for code in RAW:
        assert code not in body


def test_audit_export_shows_names_not_codes(client_for: Any, events: None) -> None:
    response = client_for("sysadmin").get("/system/audit/?export=xlsx&action=预警")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    [header, row] = list(sheet.iter_rows(values_only=True))
    assert header[3:5] == ("操作", "对象类型")
    assert row[3:5] == ("预警：转为任务或整改事项", "预警")
    assert row[9:11] == ("状态：待处理", "状态：已转任务/整改")
    cells = " ".join(str(v) for r in sheet.iter_rows(values_only=True) for v in r if v)
    for code in RAW:
        assert code not in cells


def test_audit_filters_take_the_chinese_names(client_for: Any, events: None) -> None:
    client = client_for("sysadmin")

    def actions(query: str) -> list[str]:
        return [r[3][0] for r in client.get(f"/system/audit/?{query}").context["rows"]]

    assert actions("action=越权") == ["越权访问被拒绝"]
    assert actions("action=access.") == ["越权访问被拒绝"]
    assert actions("object_type=承办任务") == ["越权访问被拒绝"]
    assert actions("object_type=monitoring.alert") == ["预警：转为任务或整改事项"]


@pytest.mark.django_db
def test_an_exports_filter_reads_in_chinese(personas: dict[str, Any]) -> None:
    """An export records the list's filter; the audit log shows it by field names, state and
    choice labels and the related rows' names, not as a query string."""
    from sizhen.core.audit_labels import values_text

    department = personas["lead_department"].department
    text = values_text(
        "enterprise_requests.enterpriserequest",
        {
            "query": f"status=handling&lead_department={department.pk}&sort=-submitted_at&q=用电",
            "rows": 3,
        },
    )
    assert text == (
        f"查询条件：状态=办理中，主办单位={department}，排序=提交时间（降序），关键词=用电；行数：3"
    )
    assert "status=" not in text and "lead_department" not in text
