"""The request lifecycle (诉求办理流程).

submitted (待受理) → registered (已登记, classified) → dispatched (已派单) to a lead unit
→ handling (办理中) once accepted, or returned (已退单) with a reason and dispatched again
(改派) → the reply goes to review (答复待审核) or straight to the enterprise (已答复) →
revisit (回访): satisfied → closed (已办结); unsatisfied (回访不满意) → second assignment
(二次交办, back to handling) or referral to the discipline inspection commission
(转纪委监委). A duplicate is merged (已并单) into its main request; the enterprise may withdraw
before handling starts; the office may refuse to accept (不予受理)."""

from __future__ import annotations

from typing import Any

from sizhen.core.access import Actor, role_of
from sizhen.core.permissions import capability_roles, has_capability
from sizhen.core.roles import Role
from sizhen.core.workflow import Transition, Workflow

SUBMITTED = "submitted"
REGISTERED = "registered"
DISPATCHED = "dispatched"
HANDLING = "handling"
RETURNED = "returned"
REPLY_REVIEW = "reply_review"
REPLIED = "replied"
UNSATISFIED = "unsatisfied"
CLOSED = "closed"
REFERRED = "referred"
MERGED = "merged"
WITHDRAWN = "withdrawn"
REJECTED = "rejected"

STATES = {
    SUBMITTED: "待受理",
    REGISTERED: "已登记",
    DISPATCHED: "已派单",
    HANDLING: "办理中",
    RETURNED: "已退单",
    REPLY_REVIEW: "答复待审核",
    REPLIED: "已答复待回访",
    UNSATISFIED: "回访不满意",
    CLOSED: "已办结",
    REFERRED: "已转纪委监委",
    MERGED: "已并单",
    WITHDRAWN: "已撤回",
    REJECTED: "不予受理",
}
TERMINAL = frozenset({CLOSED, REFERRED, MERGED, WITHDRAWN, REJECTED})
#: States in which a lead unit holds the request against its deadline.
ON_THE_CLOCK = frozenset({DISPATCHED, HANDLING})
#: States in which a lead unit holds the request or its reply waits on the office: the unit
#: records its contacts with the enterprise, and the first-contact clock (首次联系) runs
#: until the first one.
CONTACT_STATES = frozenset({DISPATCHED, HANDLING, REPLY_REVIEW, UNSATISFIED})
#: The steps of the history that are handling progress (办理进展) of the lead unit: each
#: restarts the count of working days without progress (升级督办).
PROGRESS_ACTIONS = frozenset({"dispatch", "accept", "second_assignment", "send_back_reply"})
#: States in which a duplicate may be merged into another request, or serve as the main one.
MERGEABLE = frozenset({SUBMITTED, REGISTERED, DISPATCHED, HANDLING, RETURNED})


def is_closed(status: str) -> bool:
    """Whether the request has left handling for good (办结, merged, withdrawn…)."""
    return status in TERMINAL


def _lead_unit(request: Any, actor: Actor | None, context: dict[str, Any]) -> str | None:
    if has_capability(actor, "request.manage"):
        return None
    department_id = getattr(actor, "department_id", None)
    if department_id is not None and department_id == request.lead_department_id:
        return None
    return "只有主办单位可以办理该诉求"


def _department_given(request: Any, actor: Actor | None, context: dict[str, Any]) -> str | None:
    return None if context.get("department") is not None else "请选择主办单位"


def _own_enterprise(request: Any, actor: Actor | None, context: dict[str, Any]) -> str | None:
    if has_capability(actor, "request.manage"):
        return None
    enterprise_id = getattr(actor, "enterprise_id", None)
    if enterprise_id is not None and enterprise_id == request.enterprise_id:
        return None
    return "只能撤回本企业的诉求"


def _after_second_assignment(
    request: Any, actor: Actor | None, context: dict[str, Any]
) -> str | None:
    # Referral is for a request still unsatisfied after it was assigned a second time.
    return None if request.second_assignment else "请先二次交办；二次交办后仍不满意方可转纪委监委"


def _revisitor(request: Any, actor: Actor | None, context: dict[str, Any]) -> str | None:
    if has_capability(actor, "request.manage"):
        return None
    if role_of(actor) == Role.ENTERPRISE and getattr(actor, "enterprise_id", None) == (
        request.enterprise_id
    ):
        return None
    return "只有营商办或提出诉求的企业可以回访评价"


REQUEST_WORKFLOW = Workflow(
    name="enterprise_request",
    states=STATES,
    initial=SUBMITTED,
    terminal=TERMINAL,
    transitions=[
        Transition(
            "register",
            (SUBMITTED,),
            REGISTERED,
            "登记分类",
            roles=capability_roles("request.manage"),
        ),
        Transition(
            "dispatch",
            (SUBMITTED, REGISTERED, RETURNED, DISPATCHED, HANDLING),
            DISPATCHED,
            "派单",
            roles=capability_roles("request.manage"),
            guard=_department_given,
        ),
        Transition(
            "accept",
            (DISPATCHED,),
            HANDLING,
            "签收",
            roles=capability_roles("request.handle"),
            guard=_lead_unit,
        ),
        Transition(
            "return",
            (DISPATCHED, HANDLING),
            RETURNED,
            "退单",
            roles=capability_roles("request.handle"),
            guard=_lead_unit,
            note_required=True,
        ),
        Transition(
            "reply",
            (HANDLING,),
            REPLIED,
            "答复企业",
            roles=capability_roles("request.handle"),
            guard=_lead_unit,
        ),
        Transition(
            "reply_for_review",
            (HANDLING,),
            REPLY_REVIEW,
            "提交答复审核",
            roles=capability_roles("request.handle"),
            guard=_lead_unit,
        ),
        Transition(
            "approve_reply",
            (REPLY_REVIEW,),
            REPLIED,
            "审核通过",
            roles=capability_roles("request.manage"),
        ),
        Transition(
            "send_back_reply",
            (REPLY_REVIEW,),
            HANDLING,
            "退回修改答复",
            roles=capability_roles("request.manage"),
            note_required=True,
        ),
        Transition("revisit_satisfied", (REPLIED,), CLOSED, "回访（满意）", guard=_revisitor),
        Transition(
            "revisit_unsatisfied", (REPLIED,), UNSATISFIED, "回访（不满意）", guard=_revisitor
        ),
        Transition(
            "second_assignment",
            (UNSATISFIED,),
            HANDLING,
            "二次交办",
            roles=capability_roles("request.manage"),
            note_required=True,
        ),
        Transition(
            "refer_discipline",
            (UNSATISFIED,),
            REFERRED,
            "转纪委监委",
            roles=capability_roles("request.manage"),
            guard=_after_second_assignment,
            note_required=True,
        ),
        Transition(
            "close_unsatisfied",
            (UNSATISFIED,),
            CLOSED,
            "办结存档",
            roles=capability_roles("request.manage"),
            note_required=True,
        ),
        Transition(
            "merge",
            (SUBMITTED, REGISTERED, DISPATCHED, HANDLING, RETURNED),
            MERGED,
            "并单",
            roles=capability_roles("request.manage"),
        ),
        Transition(
            "withdraw",
            (SUBMITTED, REGISTERED, DISPATCHED),
            WITHDRAWN,
            "撤回",
            guard=_own_enterprise,
            note_required=True,
        ),
        Transition(
            "reject",
            (SUBMITTED, REGISTERED, RETURNED),
            REJECTED,
            "不予受理",
            roles=capability_roles("request.manage"),
            note_required=True,
        ),
    ],
)
