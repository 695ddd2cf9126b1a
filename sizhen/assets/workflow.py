"""The extract request's transition table (数据调取申请): submitted, approved by the data owner
or the coordinator (or by the system when the asset is not restricted), then run by the job."""

from __future__ import annotations

from typing import Any

from sizhen.core.access import Actor, role_of
from sizhen.core.permissions import capability_roles, has_capability
from sizhen.core.workflow import Transition, Workflow

SUBMITTED = "submitted"
APPROVED = "approved"
REJECTED = "rejected"
RUNNING = "running"
READY = "ready"
FAILED = "failed"

STATES = {
    SUBMITTED: "待审批",
    APPROVED: "已批准",
    REJECTED: "已驳回",
    RUNNING: "生成中",
    READY: "可下载",
    FAILED: "失败",
}


def may_approve(request: Any, actor: Actor | None) -> bool:
    """The coordinator approves any request; a department approves those on the datasets it
    owns (数据责任部门)."""
    if actor is None or not has_capability(actor, "asset.approve"):
        return False
    if has_capability(actor, "asset.manage"):
        return True
    owner_id = request.owner_department_id
    return owner_id is not None and owner_id == getattr(actor, "department_id", None)


def _approver(request: Any, actor: Actor | None, context: dict[str, Any]) -> str | None:
    if not may_approve(request, actor):
        return "只有数据责任部门或营商办可以审批该申请"
    return None


def _unrestricted(request: Any, actor: Actor | None, context: dict[str, Any]) -> str | None:
    # The system approves at submission only what needs no one's approval.
    if actor is not None and role_of(actor) is not None:
        return "自动批准只能由系统执行"
    if request.needs_approval:
        return "该数据资产为受限资产，需经数据责任部门或营商办审批"
    return None


def _system(request: Any, actor: Actor | None, context: dict[str, Any]) -> str | None:
    return None if actor is None else "该步骤由后台任务执行"


EXTRACT_WORKFLOW = Workflow(
    name="asset_extract",
    states=STATES,
    initial=SUBMITTED,
    terminal=frozenset({REJECTED, READY, FAILED}),
    transitions=[
        Transition("auto_approve", (SUBMITTED,), APPROVED, "自动批准", guard=_unrestricted),
        Transition(
            "approve",
            (SUBMITTED,),
            APPROVED,
            "批准",
            roles=capability_roles("asset.approve"),
            guard=_approver,
        ),
        Transition(
            "reject",
            (SUBMITTED,),
            REJECTED,
            "驳回",
            roles=capability_roles("asset.approve"),
            guard=_approver,
            note_required=True,
        ),
        Transition("start", (APPROVED,), RUNNING, "开始生成", guard=_system),
        Transition("finish", (RUNNING,), READY, "生成完成", guard=_system),
        Transition("fail", (RUNNING, APPROVED), FAILED, "生成失败", guard=_system),
    ],
)
