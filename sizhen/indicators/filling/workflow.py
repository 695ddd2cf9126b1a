"""The filling task workflow (填报任务): open → submitted → approved | returned → submitted …
Approval (审核通过) is terminal and locks the value. Who may fill a task and who may review it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sizhen.core.access import Actor, role_of
from sizhen.core.permissions import capability_roles
from sizhen.core.roles import Role
from sizhen.core.workflow import Transition, Workflow
from sizhen.indicators.filling.choices import FillingStatus

if TYPE_CHECKING:
    from sizhen.indicators.filling.models import FillingTask


def can_fill(actor: Actor | None, task: FillingTask) -> bool:
    """Who fills a task: the department it is addressed to, or for a district task the district
    officer whose region holds it."""
    role = role_of(actor)
    if task.department_id is not None:
        return role in (Role.RESPONSIBLE_DEPARTMENT, Role.LEAD_DEPARTMENT) and (
            getattr(actor, "department_id", None) == task.department_id
        )
    if role != Role.DISTRICT_OFFICER:
        return False
    path = getattr(actor, "scope_path", None)
    return isinstance(path, str) and bool(path) and task.region.path.startswith(path)


def can_review(actor: Actor | None, task: FillingTask) -> bool:
    """Who approves or returns: the indicator's lead department (牵头部门) or the coordinating
    office (营商办)."""
    role = role_of(actor)
    if role == Role.COORDINATOR:
        return True
    return role == Role.LEAD_DEPARTMENT and (
        getattr(actor, "department_id", None) is not None
        and getattr(actor, "department_id", None) == task.indicator.lead_department_id
    )


def _fill_guard(task: Any, actor: Actor | None, context: dict[str, Any]) -> str | None:
    return None if can_fill(actor, task) else "您无权填报该任务"


def _review_guard(task: Any, actor: Actor | None, context: dict[str, Any]) -> str | None:
    if not can_review(actor, task):
        return "只有该指标的牵头部门或营商办可以审核"
    # Four eyes: whoever submitted the figure does not also approve or return it.
    if task.submitted_by_id is not None and task.submitted_by_id == getattr(actor, "pk", None):
        return "不能审核本人提交的数据"
    return None


FILLING_TASK_WORKFLOW = Workflow(
    name="filling_task",
    states=dict(FillingStatus.choices),
    initial=FillingStatus.OPEN,
    terminal=frozenset({FillingStatus.APPROVED}),
    transitions=[
        Transition(
            "submit",
            (FillingStatus.OPEN, FillingStatus.RETURNED),
            FillingStatus.SUBMITTED,
            "提交",
            roles=capability_roles("filling.fill"),
            guard=_fill_guard,
        ),
        Transition(
            "approve",
            (FillingStatus.SUBMITTED,),
            FillingStatus.APPROVED,
            "审核通过",
            roles=capability_roles("filling.review"),
            guard=_review_guard,
        ),
        Transition(
            "return",
            (FillingStatus.SUBMITTED,),
            FillingStatus.RETURNED,
            "退回",
            roles=capability_roles("filling.review"),
            guard=_review_guard,
            note_required=True,
        ),
    ],
)
