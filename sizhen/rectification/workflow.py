"""The rectification lifecycle (整改流程): open (待接收) → in_progress (整改中, the lead unit
accepted) → submitted (销号申请, with evidence) → closed (已销号, after the coordinator's review
and effect verification) or back to in_progress with a reason; a closed item whose problem
recurs is reopened (重新整改) and accepted again. No state is terminal: a closed problem may come
back, and its history stays on the same item."""

from __future__ import annotations

from typing import Any

from sizhen.core.access import Actor, role_of
from sizhen.core.permissions import capability_roles, has_capability
from sizhen.core.roles import Role
from sizhen.core.workflow import Transition, Workflow

OPEN = "open"
IN_PROGRESS = "in_progress"
SUBMITTED = "submitted"
CLOSED = "closed"
REOPENED = "reopened"

STATES = {
    OPEN: "待接收",
    IN_PROGRESS: "整改中",
    SUBMITTED: "待销号审核",
    CLOSED: "已销号",
    REOPENED: "重新整改",
}
#: States in which the item still counts against its deadline.
ACTIVE_STATES = frozenset({OPEN, IN_PROGRESS, SUBMITTED, REOPENED})


def is_lead_unit(item: Any, actor: Actor | None) -> bool:
    """The lead unit (牵头单位): the lead department's people and tokens, or the officers of the
    district the problem is in (they organise the district's own rectification)."""
    role = role_of(actor)
    if role is None:
        return False
    department_id = getattr(actor, "department_id", None)
    if department_id is not None and department_id == item.lead_department_id:
        return True
    if role == Role.DISTRICT_OFFICER:
        path = getattr(actor, "scope_path", None)
        return bool(path) and item.region.path.startswith(path)
    return False


def _lead_unit_or_manager(item: Any, actor: Actor | None, context: dict[str, Any]) -> str | None:
    if has_capability(actor, "rectification.manage") or is_lead_unit(item, actor):
        return None
    return "只有牵头单位或营商办可以办理该整改事项"


def _submission_ready(item: Any, actor: Actor | None, context: dict[str, Any]) -> str | None:
    reason = _lead_unit_or_manager(item, actor, context)
    if reason:
        return reason
    if not item.evidence.filter(round=item.round).exists():
        return "申请销号前请先上传整改佐证材料"
    return None


def close_refusal(item: Any, actor: Actor | None, context: dict[str, Any]) -> str | None:
    from sizhen.rectification.choices import Judgement

    if not item.evidence.filter(round=item.round).exists():
        return "没有整改佐证材料，不能销号"
    review = item.reviews.filter(round=item.round).order_by("-at", "-id").first()
    if review is None:
        if item.indicators.exists():
            return "尚未进行整改效果核验（关联指标整改前后对比），不能销号"
        return "尚未审核整改效果，不能销号"
    if review.judgement == Judgement.INEFFECTIVE:
        return "效果核验结论为“无效”，不能销号，请退回整改"
    return None


def _manager_or_recurrence(item: Any, actor: Actor | None, context: dict[str, Any]) -> str | None:
    # The coordinator reopens by hand; the system reopens when a linked alert recurs.
    if has_capability(actor, "rectification.review") or context.get("recurrence"):
        return None
    return "只有营商办可以重新打开已销号的事项"


RECTIFICATION_WORKFLOW = Workflow(
    name="rectification",
    states=STATES,
    initial=OPEN,
    terminal=frozenset(),
    transitions=[
        Transition(
            "accept", (OPEN, REOPENED), IN_PROGRESS, "接收整改", guard=_lead_unit_or_manager
        ),
        Transition("submit", (IN_PROGRESS,), SUBMITTED, "申请销号", guard=_submission_ready),
        Transition(
            "return",
            (SUBMITTED,),
            IN_PROGRESS,
            "退回整改",
            roles=capability_roles("rectification.review"),
            note_required=True,
        ),
        Transition(
            "close",
            (SUBMITTED,),
            CLOSED,
            "审核销号",
            roles=capability_roles("rectification.review"),
            guard=close_refusal,
        ),
        Transition(
            "reopen",
            (CLOSED,),
            REOPENED,
            "重新打开",
            guard=_manager_or_recurrence,
            note_required=True,
        ),
    ],
)
