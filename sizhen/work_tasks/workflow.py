"""The assignment lifecycle (任务办理流程).

issued (待签收) → receive → received (办理中) → submit → submitted (待审核) → approve → approved
(已完成, terminal); the reviewer may return (退回, with a reason) → returned (已退回) → resubmit →
submitted. The coordinator may cancel (撤销, with a reason) any open assignment. Transfers (转办)
and progress reports (进展反馈) do not change the state.

Who may act: the unit the assignment is addressed to (its department's staff, or the district
officer of its region) receives and submits; the reviewer approves and returns: the coordinator
(营商办) for a unit's assignment, the transferring unit for a sub-task it handed on.
"""

from __future__ import annotations

from typing import Any

from sizhen.core.access import Actor, role_of
from sizhen.core.permissions import capability_roles, has_capability
from sizhen.core.roles import DEPARTMENT_ROLES, Role
from sizhen.core.workflow import Transition, Workflow

ISSUED = "issued"
RECEIVED = "received"
SUBMITTED = "submitted"
RETURNED = "returned"
APPROVED = "approved"
CANCELLED = "cancelled"

STATES = {
    ISSUED: "待签收",
    RECEIVED: "办理中",
    SUBMITTED: "待审核",
    RETURNED: "已退回",
    APPROVED: "已完成",
    CANCELLED: "已撤销",
}
OPEN_STATES = frozenset({ISSUED, RECEIVED, SUBMITTED, RETURNED})
#: States in which the unit is still working (the deadline runs against it).
WORKING_STATES = frozenset({ISSUED, RECEIVED, RETURNED})


def is_unit_member(actor: Actor | None, department_id: int | None, region_id: int | None) -> bool:
    """Whether the actor acts for the unit (a department, or a district's office)."""
    role = role_of(actor)
    if department_id is not None:
        return role in DEPARTMENT_ROLES and getattr(actor, "department_id", None) == department_id
    if region_id is not None:
        return role == Role.DISTRICT_OFFICER and getattr(actor, "region_id", None) == region_id
    return False


def acts_for_unit(assignment: Any, actor: Actor | None) -> bool:
    return is_unit_member(actor, assignment.department_id, assignment.region_id)


def _unit(assignment: Any, actor: Actor | None, context: dict[str, Any]) -> str | None:
    if acts_for_unit(assignment, actor):
        return None
    return "只有承办单位可以办理该任务"


def _unit_with_subtasks_done(
    assignment: Any, actor: Actor | None, context: dict[str, Any]
) -> str | None:
    reason = _unit(assignment, actor, context)
    if reason:
        return reason
    pending = assignment.children.exclude(status__in=[APPROVED, CANCELLED]).count()
    if pending:
        return f"还有 {pending} 项转办子任务未完成，完成后才能提交审核"
    return None


def is_reviewer(assignment: Any, actor: Actor | None) -> bool:
    if assignment.parent_id is None:
        return has_capability(actor, "task.review")
    parent = assignment.parent
    return is_unit_member(actor, parent.department_id, parent.region_id)


def _reviewer(assignment: Any, actor: Actor | None, context: dict[str, Any]) -> str | None:
    if is_reviewer(assignment, actor):
        return None
    return "只有营商办（或转办的牵头单位）可以审核该任务"


ASSIGNMENT_WORKFLOW = Workflow(
    name="work_task",
    states=STATES,
    initial=ISSUED,
    terminal=frozenset({APPROVED, CANCELLED}),
    transitions=[
        Transition("receive", (ISSUED,), RECEIVED, "签收", guard=_unit),
        Transition("submit", (RECEIVED,), SUBMITTED, "提交审核", guard=_unit_with_subtasks_done),
        Transition("resubmit", (RETURNED,), SUBMITTED, "重新提交", guard=_unit_with_subtasks_done),
        Transition("approve", (SUBMITTED,), APPROVED, "审核通过", guard=_reviewer),
        Transition("return", (SUBMITTED,), RETURNED, "退回", guard=_reviewer, note_required=True),
        Transition(
            "cancel",
            (ISSUED, RECEIVED, SUBMITTED, RETURNED),
            CANCELLED,
            "撤销",
            roles=capability_roles("task.issue"),
            note_required=True,
        ),
    ],
)
