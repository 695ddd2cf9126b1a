"""The alert lifecycle (预警处置流程): open → acknowledged → assigned (to a department with a
note) or converted (into a work task or a rectification item, by the service that creates it)
→ resolved, or dismissed with a reason. A finding that recurs after resolution re-opens the alert ("reopen",
taken only by the scan), so only ``dismissed`` is terminal. Alerts whose condition can clear
(stale source, overdue filling, overdue cases, goalpost, benchmark) are resolved by the scan
when it no longer sees them ("auto_resolve", also taken only by the scan)."""

from __future__ import annotations

from typing import Any

from sizhen.core.access import Actor
from sizhen.core.permissions import capability_roles, has_capability
from sizhen.core.workflow import Transition, Workflow

OPEN = "open"
ACKNOWLEDGED = "acknowledged"
ASSIGNED = "assigned"
CONVERTED = "converted"
RESOLVED = "resolved"
DISMISSED = "dismissed"

STATES = {
    OPEN: "待处理",
    ACKNOWLEDGED: "已确认",
    ASSIGNED: "已交办",
    CONVERTED: "已转任务/整改",
    RESOLVED: "已解决",
    DISMISSED: "已忽略",
}
#: States in which the alert still needs attention; the scan updates these in place.
ACTIVE_STATES = frozenset({OPEN, ACKNOWLEDGED, ASSIGNED, CONVERTED})
#: Transitions only the scan takes; pages never offer them as buttons.
SYSTEM_ACTIONS = frozenset({"reopen", "auto_resolve"})
#: The note the scan records when it resolves an alert whose condition cleared.
CONDITION_CLEARED = "条件已消除"


def _manager_or_assigned_department(
    alert: Any, actor: Actor | None, context: dict[str, Any]
) -> str | None:
    if has_capability(actor, "alert.manage"):
        return None
    department_id = getattr(actor, "department_id", None)
    if department_id is not None and department_id == alert.assigned_department_id:
        return None
    return "只有营商办或被指派的部门可以确认该预警"


def _department_given(alert: Any, actor: Actor | None, context: dict[str, Any]) -> str | None:
    return None if context.get("department") is not None else "请选择承办部门"


def _target_given(alert: Any, actor: Actor | None, context: dict[str, Any]) -> str | None:
    return None if context.get("target_kind") else "请指明转成的工作任务或整改事项"


def _by_scan(alert: Any, actor: Actor | None, context: dict[str, Any]) -> str | None:
    # Only the scan re-opens, when the finding is seen again: a person closes or dismisses.
    return None if context.get("recurrence") else "预警只能在异常再次出现时由系统重新打开"


def _condition_cleared(alert: Any, actor: Actor | None, context: dict[str, Any]) -> str | None:
    # A person resolves with "resolve"; only the scan knows the condition is gone.
    if context.get("condition_cleared"):
        return None
    return "只有系统在预警条件消除后才能自动解决预警"


ALERT_WORKFLOW = Workflow(
    name="alert",
    states=STATES,
    initial=OPEN,
    terminal=frozenset({DISMISSED}),
    transitions=[
        Transition(
            "acknowledge", (OPEN,), ACKNOWLEDGED, "确认", guard=_manager_or_assigned_department
        ),
        Transition(
            "assign",
            (OPEN, ACKNOWLEDGED),
            ASSIGNED,
            "交办部门",
            roles=capability_roles("alert.manage"),
            guard=_department_given,
            note_required=True,
        ),
        Transition(
            "convert",
            (OPEN, ACKNOWLEDGED, ASSIGNED),
            CONVERTED,
            "转为任务或整改事项",
            roles=capability_roles("alert.manage"),
            guard=_target_given,
        ),
        Transition(
            "resolve",
            (ACKNOWLEDGED, ASSIGNED, CONVERTED),
            RESOLVED,
            "标记已解决",
            roles=capability_roles("alert.manage"),
        ),
        Transition(
            "dismiss",
            (OPEN, ACKNOWLEDGED, ASSIGNED, CONVERTED),
            DISMISSED,
            "忽略",
            roles=capability_roles("alert.manage"),
            note_required=True,
        ),
        Transition("reopen", (RESOLVED,), OPEN, "重新打开", guard=_by_scan),
        Transition(
            "auto_resolve",
            (OPEN, ACKNOWLEDGED, ASSIGNED, CONVERTED),
            RESOLVED,
            "条件消除自动解决",
            guard=_condition_cleared,
        ),
    ],
)
