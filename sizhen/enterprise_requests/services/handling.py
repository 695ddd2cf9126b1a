"""Registration, dispatch (派单/改派), acceptance, return (退单), reply (答复) and its review,
revisit (回访), second assignment (二次交办), referral (转纪委监委), merging (并单), withdrawal
and refusal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from sizhen.accounts.models import User, acting_user
from sizhen.core.access import Actor, role_of
from sizhen.core.notifications import notify
from sizhen.core.permissions import has_capability
from sizhen.core.roles import Role
from sizhen.core.workcalendar import add_working_days
from sizhen.core.workflow import execute_transition, history_of
from sizhen.dispatch import services as dispatch_services
from sizhen.enterprise_requests.choices import (
    DEFAULT_LIMITS,
    UNSATISFIED_AT_MOST,
    Difficulty,
    Kind,
    MessageKind,
    RevisitMethod,
    Satisfaction,
)
from sizhen.enterprise_requests.models import (
    EnterpriseRequest,
    RequestCategory,
    RequestMessage,
    Revisit,
)
from sizhen.enterprise_requests.services.common import (
    MAX_TEXT,
    RequestError,
    actor_label,
    department_users,
    enterprise_users,
    managers,
    review_required,
)
from sizhen.enterprise_requests.services.escalation import (
    first_contact_due,
    mark_contacted_by_reply,
)
from sizhen.enterprise_requests.workflow import (
    MERGEABLE,
    UNSATISFIED,
)
from sizhen.organisations.models import Department

# --- registration and dispatch -----------------------------------------------------------------


def register_request(
    request: EnterpriseRequest,
    *,
    actor: Actor,
    category: RequestCategory,
    kind: str,
    difficulty: str | None = None,
    title: str = "",
) -> EnterpriseRequest:
    """Register and classify (登记分类) a submitted request."""
    if category is None:
        raise RequestError("请选择诉求分类")
    if kind not in Kind.values:
        raise RequestError("诉求类型无效")
    difficulty = difficulty or category.difficulty
    if difficulty not in Difficulty.values:
        raise RequestError("办理难度无效")
    changes: dict[str, Any] = {"category": category, "kind": kind, "difficulty": difficulty}
    if title.strip():
        changes["title"] = title.strip()[:200]
    return execute_transition(request, "register", actor=actor, changes=changes)


def time_limit_for(
    category: RequestCategory | None, difficulty: str, time_limit_days: int | None = None
) -> int:
    if time_limit_days is not None:
        if time_limit_days < 0 or time_limit_days > 365:
            raise RequestError("办理时限应在 0 到 365 个工作日之间")
        return time_limit_days
    if category is not None and category.difficulty == difficulty:
        return category.time_limit_days
    return DEFAULT_LIMITS.get(Difficulty(difficulty), DEFAULT_LIMITS[Difficulty.GENERAL])


def dispatch_request(
    request: EnterpriseRequest,
    *,
    actor: Actor,
    department: Department,
    co_departments: Iterable[Department] = (),
    category: RequestCategory | None = None,
    kind: str | None = None,
    difficulty: str | None = None,
    time_limit_days: int | None = None,
    note: str = "",
    today: dt.date | None = None,
    suggestion: Any = None,
) -> EnterpriseRequest:
    """Dispatch (派单) to a lead unit (主办) with optional co-handlers (协办); the deadline is
    counted in working days from the dispatch date. Dispatching again is re-dispatch (改派)."""
    if department is None:
        raise RequestError("请选择主办单位")
    co = [d for d in co_departments if d.pk != department.pk]
    category = category or request.category
    if category is None:
        raise RequestError("请先选择诉求分类")
    kind = kind or request.kind
    if kind not in Kind.values:
        raise RequestError("诉求类型无效")
    difficulty = difficulty or request.difficulty or category.difficulty
    if difficulty not in Difficulty.values:
        raise RequestError("办理难度无效")
    limit = time_limit_for(category, difficulty, time_limit_days)
    today = today or timezone.localdate()
    due = add_working_days(today, limit)
    redispatch = request.lead_department_id is not None
    now = timezone.now()
    # The first-contact clock runs from each dispatch until the enterprise has been contacted
    # once; a contact made before a re-dispatch still counts.
    contact: dict[str, Any] = {}
    if request.first_contacted_at is None:
        contact["first_contact_due"] = first_contact_due(category, now)
    with transaction.atomic():
        execute_transition(
            request,
            "dispatch",
            actor=actor,
            note=note or ("改派" if redispatch else ""),
            changes={
                **contact,
                "lead_department": department,
                "category": category,
                "kind": kind,
                "difficulty": difficulty,
                "time_limit_days": limit,
                "deadline": due.date,
                "deadline_provisional": due.provisional,
                "dispatched_at": now,
                "accepted_at": None,
                "deadline_notice": "",
                "deadline_notice_on": None,
            },
            context={
                "department": department,
                "history_data": {
                    "lead_department": department.name,
                    "co_departments": [d.name for d in co],
                    "deadline": due.date,
                    "redispatch": redispatch,
                },
            },
        )
        request.co_departments.set(co)
        text, code = request.text, category.code
        transaction.on_commit(
            lambda: _record_dispatch_choice(text, department, code, suggestion, actor)
        )
        transaction.on_commit(
            lambda: notify(
                department_users([department, *co]),
                subject=f"新派单：{request.number} {request.title}",
                body=f"办理期限 {request.deadline_label}",
                link=f"/requests/{request.pk}/",
                category="enterprise_requests",
            )
        )
    return request


def _record_dispatch_choice(
    text: str, department: Department, code: str, suggestion: Any, actor: Actor
) -> None:
    # The suggester learns from confirmed dispatches.
    dispatch_services.record_choice(
        text=text, department=department, category_code=code, suggestion=suggestion, actor=actor
    )


def accept_request(
    request: EnterpriseRequest, *, actor: Actor, note: str = ""
) -> EnterpriseRequest:
    """The lead unit signs for the request (签收) and starts handling. The first acceptance is
    kept (``first_accepted_at``): re-dispatch (改派) and second assignment do not reset it."""
    now = timezone.now()
    changes: dict[str, Any] = {"accepted_at": now}
    if request.first_accepted_at is None:
        changes["first_accepted_at"] = now
    return execute_transition(request, "accept", actor=actor, note=note.strip(), changes=changes)


def return_request(request: EnterpriseRequest, *, actor: Actor, reason: str) -> EnterpriseRequest:
    """Return (退单) to the office with a reason, for re-dispatch (改派)."""
    if not reason.strip():
        raise RequestError("退单须填写理由")
    with transaction.atomic():
        execute_transition(
            request,
            "return",
            actor=actor,
            note=reason.strip(),
            # Counted in the database: a stale copy of the request must not lose a return.
            changes={"return_count": F("return_count") + 1},
        )
        transaction.on_commit(
            lambda: notify(
                managers(),
                subject=f"诉求退单：{request.number}",
                body=reason.strip(),
                link=f"/requests/{request.pk}/",
                category="enterprise_requests",
            )
        )
    return request


def reply_request(request: EnterpriseRequest, *, actor: Actor, text: str) -> EnterpriseRequest:
    """The lead unit replies to the enterprise (答复); complaints (configurable) first go to the
    office for review."""
    text = (text or "").strip()
    if not text:
        raise RequestError("请填写答复内容")
    if len(text) > MAX_TEXT:
        raise RequestError(f"答复内容不能超过 {MAX_TEXT} 字")
    with transaction.atomic():
        if review_required(request.kind):
            # The draft is the step's note: a draft sent back and rewritten stays in the history.
            execute_transition(
                request, "reply_for_review", actor=actor, note=text, changes={"reply_text": text}
            )
        else:
            execute_transition(
                request,
                "reply",
                actor=actor,
                changes={"reply_text": text, "replied_at": timezone.now()},
            )
            _reply_message(request, acting_user(actor), actor_label(actor), text)
    return request


def _reply_message(
    request: EnterpriseRequest, author: User | None, author_label: str, text: str
) -> None:
    RequestMessage.objects.create(
        request=request,
        kind=MessageKind.REPLY,
        text=text,
        author=author,
        author_label=author_label,
        department=request.lead_department,
    )
    mark_contacted_by_reply(request, request.replied_at or timezone.now())
    transaction.on_commit(
        lambda: notify(
            enterprise_users(request),
            subject=f"您的诉求 {request.number} 已答复",
            body="请查看答复并评价办理情况。",
            link=f"/requests/{request.pk}/",
            category="enterprise_requests",
        )
    )


def approve_reply(request: EnterpriseRequest, *, actor: Actor, note: str = "") -> EnterpriseRequest:
    """The office approves a reviewed reply; it then reaches the enterprise. The reply stays
    the unit's: its author is who submitted it for review, the office is the approver."""
    with transaction.atomic():
        execute_transition(
            request,
            "approve_reply",
            actor=actor,
            note=note.strip(),
            changes={"replied_at": timezone.now()},
        )
        submitted = history_of(request).filter(action="reply_for_review").last()
        if submitted is None:  # a state set by hand, without its history
            author, label = None, request.lead_department.name if request.lead_department else ""
        else:
            author, label = submitted.actor, submitted.actor_label
        _reply_message(request, author, label, request.reply_text)
    return request


def send_back_reply(request: EnterpriseRequest, *, actor: Actor, note: str) -> EnterpriseRequest:
    return execute_transition(request, "send_back_reply", actor=actor, note=note.strip())


# --- revisit, second assignment, referral ------------------------------------------------------


def record_revisit(
    request: EnterpriseRequest,
    *,
    actor: Actor,
    method: str,
    satisfaction: int,
    resolved: bool = True,
    note: str = "",
) -> Revisit:
    """Revisit (回访) a replied request: a phone or visit record by the office, or the
    enterprise's own 1-5 rating (好差评). A rating of 2 or less is unsatisfied."""
    if method not in RevisitMethod.values:
        raise RequestError("回访方式无效")
    if role_of(actor) == Role.ENTERPRISE and method != RevisitMethod.RATING:
        raise RequestError("企业只能通过评价方式回访")
    if has_capability(actor, "request.manage") and method == RevisitMethod.RATING:
        raise RequestError("工作人员回访请选择电话回访或上门回访")
    try:
        satisfaction = int(satisfaction)
    except (TypeError, ValueError):
        raise RequestError("请选择满意度（1–5）") from None
    if satisfaction not in Satisfaction.values:
        raise RequestError("请选择满意度（1–5）")
    if method != RevisitMethod.RATING and not note.strip():
        raise RequestError("请填写回访记录")
    unsatisfied = satisfaction <= UNSATISFIED_AT_MOST
    action = "revisit_unsatisfied" if unsatisfied else "revisit_satisfied"
    now = timezone.now()
    with transaction.atomic():
        changes: dict[str, Any] = {"satisfaction": satisfaction, "resolved": bool(resolved)}
        if not unsatisfied:
            changes["closed_at"] = now
        execute_transition(
            request,
            action,
            actor=actor,
            note=note.strip(),
            changes=changes,
            context={"history_data": {"method": method, "satisfaction": satisfaction}},
        )
        revisit = Revisit.objects.create(
            request=request,
            round=request.revisits.count() + 1,
            method=method,
            satisfaction=satisfaction,
            resolved=bool(resolved),
            note=note.strip(),
            by=acting_user(actor),
            by_label=actor_label(actor),
            at=now,
        )
        if unsatisfied:
            transaction.on_commit(
                lambda: notify(
                    department_users([request.lead_department] if request.lead_department else [])
                    + managers(),
                    subject=f"诉求 {request.number} 回访不满意",
                    body="请主办单位提交情况说明，营商办将二次交办。",
                    link=f"/requests/{request.pk}/",
                    category="enterprise_requests",
                )
            )
    return revisit


def _has_explanation_since_revisit(request: EnterpriseRequest) -> bool:
    last = request.revisits.order_by("-at", "-id").first()
    explanations = request.messages.filter(kind=MessageKind.EXPLANATION)
    if last is not None:
        explanations = explanations.filter(created_at__gte=last.at)
    return explanations.exists()


def assign_second_time(
    request: EnterpriseRequest,
    *,
    actor: Actor,
    note: str,
    time_limit_days: int | None = None,
    today: dt.date | None = None,
) -> EnterpriseRequest:
    """Second assignment (二次交办) of an unsatisfied request to its lead unit, after the unit
    explained the dissatisfaction; a new deadline is counted from today."""
    if request.status == UNSATISFIED and not _has_explanation_since_revisit(request):
        raise RequestError("主办单位尚未提交不满意情况说明，不能二次交办")
    limit = time_limit_for(
        request.category, request.difficulty or Difficulty.GENERAL, time_limit_days
    )
    if time_limit_days is None and request.time_limit_days is not None:
        limit = request.time_limit_days
    due = add_working_days(today or timezone.localdate(), limit)
    return execute_transition(
        request,
        "second_assignment",
        actor=actor,
        note=note.strip(),
        changes={
            "second_assignment": True,
            "time_limit_days": limit,
            "deadline": due.date,
            "deadline_provisional": due.provisional,
            "accepted_at": timezone.now(),
            "deadline_notice": "",
            "deadline_notice_on": None,
        },
        context={"history_data": {"deadline": due.date}},
    )


def refer_to_discipline(
    request: EnterpriseRequest, *, actor: Actor, note: str
) -> EnterpriseRequest:
    """Refer to the discipline inspection commission (转纪委监委) a request still unsatisfied
    after the second assignment because of shirking, perfunctory handling or delay."""
    now = timezone.now()
    return execute_transition(
        request,
        "refer_discipline",
        actor=actor,
        note=note.strip(),
        changes={"referred_at": now, "closed_at": now},
    )


def close_unsatisfied(request: EnterpriseRequest, *, actor: Actor, note: str) -> EnterpriseRequest:
    return execute_transition(
        request,
        "close_unsatisfied",
        actor=actor,
        note=note.strip(),
        changes={"closed_at": timezone.now()},
    )


def withdraw_request(request: EnterpriseRequest, *, actor: Actor, reason: str) -> EnterpriseRequest:
    return execute_transition(
        request, "withdraw", actor=actor, note=reason.strip(), changes={"closed_at": timezone.now()}
    )


def reject_request(request: EnterpriseRequest, *, actor: Actor, reason: str) -> EnterpriseRequest:
    """Refuse to accept (不予受理), e.g. a matter outside government competence."""
    return execute_transition(
        request, "reject", actor=actor, note=reason.strip(), changes={"closed_at": timezone.now()}
    )


def merge_requests(
    duplicate: EnterpriseRequest, *, main: EnterpriseRequest, actor: Actor
) -> EnterpriseRequest:
    """Merge (并单) a duplicate into its main request; the duplicate follows the main one."""
    if duplicate.pk == main.pk:
        raise RequestError("不能与自身并单")
    if main.status not in MERGEABLE:
        raise RequestError(f"主单{main.number}当前状态“{main.status_label}”不能再并入其他诉求")
    if main.duplicate_of_id is not None:
        raise RequestError("主单本身已被并单，请选择其主单")
    if duplicate.merged_requests.exists():
        raise RequestError("该诉求已有并入的诉求，不能再并入其他诉求")
    return execute_transition(
        duplicate,
        "merge",
        actor=actor,
        note=f"并入 {main.number}",
        changes={"duplicate_of": main, "closed_at": timezone.now()},
        context={"history_data": {"main": main.number}},
    )
