"""Timeline messages (补充材料, 协办意见, 情况说明), urging (催办), extensions (延期), listed
supervision (挂牌督办), publication (公开), forums (座谈会) and the taxonomy (诉求词条库)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from sizhen.accounts.models import acting_user
from sizhen.core.access import Actor, role_of
from sizhen.core.audit import record_event, snapshot
from sizhen.core.notifications import notify
from sizhen.core.permissions import has_capability
from sizhen.core.roles import Role
from sizhen.core.workcalendar import add_working_days
from sizhen.enterprise_requests.choices import (
    MessageKind,
)
from sizhen.enterprise_requests.models import (
    EnterpriseRequest,
    Forum,
    RequestCategory,
    RequestMessage,
)
from sizhen.enterprise_requests.services.common import (
    MAX_TEXT,
    RequestError,
    actor_label,
    check_file,
    department_users,
    enterprise_users,
    managers,
    store_file,
)
from sizhen.enterprise_requests.workflow import (
    UNSATISFIED,
)
from sizhen.organisations.models import Enterprise, Region

# --- messages, urging, extensions, supervision -------------------------------------------------

_MESSAGE_ROLES: dict[str, str] = {
    MessageKind.SUPPLEMENT_QUESTION: "handler",
    MessageKind.SUPPLEMENT_ANSWER: "enterprise",
    MessageKind.NOTE: "handler",
    MessageKind.CO_OPINION: "co",
    MessageKind.EXPLANATION: "lead",
    MessageKind.COORDINATION: "manager",
    MessageKind.PROGRESS: "handler",
}


def add_message(
    request: EnterpriseRequest, *, actor: Actor, kind: str, text: str, files: Iterable[Any] = ()
) -> RequestMessage:
    """Add a timeline entry: a question for more material (补充材料) and the enterprise's answer,
    a handling note, a co-handler's opinion (协办意见), the lead unit's explanation of a
    dissatisfaction, a coordination meeting record or a progress report (listed supervision)."""
    text = (text or "").strip()
    if not text:
        raise RequestError("请填写内容")
    if len(text) > MAX_TEXT:
        raise RequestError(f"内容不能超过 {MAX_TEXT} 字")
    who = _MESSAGE_ROLES.get(kind)
    if who is None:
        raise RequestError("记录类型无效")
    role = role_of(actor)
    department_id = getattr(actor, "department_id", None)
    is_lead = department_id is not None and department_id == request.lead_department_id
    is_co = department_id is not None and request.co_departments.filter(pk=department_id).exists()
    allowed = {
        "handler": has_capability(actor, "request.manage") or is_lead or is_co,
        "enterprise": role == Role.ENTERPRISE
        and getattr(actor, "enterprise_id", None) == request.enterprise_id,
        "co": is_co,
        "lead": is_lead,
        "manager": has_capability(actor, "request.manage"),
    }[who]
    if not allowed:
        raise RequestError("您不能在该诉求上添加此类记录")
    if request.is_closed:
        raise RequestError("该诉求已办结，不能再添加记录")
    if kind == MessageKind.EXPLANATION and request.status != UNSATISFIED:
        raise RequestError("只有回访不满意的诉求需要情况说明")
    if kind == MessageKind.COORDINATION and not request.supervised:
        raise RequestError("协调会记录用于挂牌督办的诉求")
    files = list(files)
    for f in files:
        check_file(f)
    with transaction.atomic():
        for f in files:
            store_file(request, f, actor)
        message = RequestMessage.objects.create(
            request=request,
            kind=kind,
            text=text,
            author=acting_user(actor),
            author_label=actor_label(actor),
            department_id=department_id if role != Role.ENTERPRISE else None,
        )
        record_event(
            f"enterprise_request.message.{kind}",
            actor=actor,
            obj=request,
            after={"text": text, "files": [getattr(f, "name", "") for f in files]},
        )
        if kind == MessageKind.SUPPLEMENT_QUESTION:
            transaction.on_commit(
                lambda: notify(
                    enterprise_users(request),
                    subject=f"诉求 {request.number} 需要补充材料",
                    body=text,
                    link=f"/requests/{request.pk}/",
                    category="enterprise_requests",
                )
            )
    return message


def urge_request(request: EnterpriseRequest, *, actor: Actor, note: str) -> RequestMessage:
    """Urge (催办) the lead unit; recorded and sent to its users."""
    if not has_capability(actor, "request.urge"):
        raise RequestError("只有营商办或市领导可以催办")
    if request.is_closed or request.lead_department_id is None:
        raise RequestError("该诉求当前没有在办的主办单位，无需催办")
    note = note.strip() or "请抓紧办理并按期答复。"
    with transaction.atomic():
        message = RequestMessage.objects.create(
            request=request,
            kind=MessageKind.URGE,
            text=note,
            author=acting_user(actor),
            author_label=actor_label(actor),
        )
        record_event("enterprise_request.urge", actor=actor, obj=request, after={"note": note})
        lead = request.lead_department
        transaction.on_commit(
            lambda: notify(
                department_users([lead] if lead else []),
                subject=f"催办：{request.number} {request.title}",
                body=note,
                link=f"/requests/{request.pk}/",
                category="enterprise_requests",
            )
        )
    return message


def list_for_supervision(
    request: EnterpriseRequest, *, actor: Actor, note: str
) -> EnterpriseRequest:
    """Listed supervision (挂牌督办) of a hard cross-department request."""
    if not has_capability(actor, "request.manage"):
        raise RequestError("只有营商办可以挂牌督办")
    if request.is_closed:
        raise RequestError("该诉求已办结，不能挂牌督办")
    if request.supervised:
        raise RequestError("该诉求已挂牌督办")
    if not note.strip():
        raise RequestError("请填写督办事由")
    with transaction.atomic():
        EnterpriseRequest.objects.filter(pk=request.pk).update(
            supervised=True, supervised_at=timezone.now(), supervision_note=note.strip()
        )
        request.refresh_from_db()
        record_event(
            "enterprise_request.supervise",
            actor=actor,
            obj=request,
            before={"supervised": False},
            after={"supervised": True, "note": note.strip()},
        )
    return request


def request_extension(request: EnterpriseRequest, *, actor: Actor, days: int, reason: str) -> Any:
    """The lead unit asks for more time (延期申请); the office decides."""
    from sizhen.enterprise_requests.models import DeadlineExtension

    department_id = getattr(actor, "department_id", None)
    if department_id is None or department_id != request.lead_department_id:
        raise RequestError("只有主办单位可以申请延期")
    if request.status not in ("dispatched", "handling") or request.deadline is None:
        raise RequestError("只有在办的诉求可以申请延期")
    if not 1 <= int(days) <= 60:
        raise RequestError("延长天数应在 1 到 60 个工作日之间")
    if not reason.strip():
        raise RequestError("请填写延期理由")
    if request.extensions.filter(status="pending").exists():
        raise RequestError("已有待审批的延期申请")
    with transaction.atomic():
        extension = DeadlineExtension.objects.create(
            request=request,
            days=int(days),
            reason=reason.strip(),
            old_deadline=request.deadline,
            requested_by=acting_user(actor),
        )
        record_event(
            "enterprise_request.extension_request",
            actor=actor,
            obj=request,
            after={"days": int(days), "reason": reason.strip()},
        )
        transaction.on_commit(
            lambda: notify(
                managers(),
                subject=f"延期申请：{request.number}",
                body=reason.strip(),
                link=f"/requests/{request.pk}/",
                category="enterprise_requests",
            )
        )
    return extension


def decide_extension(extension: Any, *, actor: Actor, approve: bool, note: str = "") -> Any:
    """Approve (extend the deadline by the working days asked) or refuse an extension."""
    from sizhen.enterprise_requests.models import DeadlineExtension

    if not has_capability(actor, "request.manage"):
        raise RequestError("只有营商办可以审批延期")
    with transaction.atomic():
        extension = DeadlineExtension.objects.select_for_update().get(pk=extension.pk)
        if extension.status != "pending":
            raise RequestError("该延期申请已审批")
        request = EnterpriseRequest.objects.select_for_update().get(pk=extension.request_id)
        before = snapshot(request, ["deadline", "deadline_provisional"])
        extension.status = "approved" if approve else "rejected"
        extension.decided_by = acting_user(actor)
        extension.decided_at = timezone.now()
        extension.decision_note = note.strip()
        if approve:
            base = request.deadline or timezone.localdate()
            due = add_working_days(base, extension.days)
            extension.new_deadline = due.date
            EnterpriseRequest.objects.filter(pk=request.pk).update(
                deadline=due.date,
                deadline_provisional=due.provisional or request.deadline_provisional,
                deadline_notice="",
                deadline_notice_on=None,
            )
        extension.save()
        request.refresh_from_db()
        record_event(
            "enterprise_request.extension_decide",
            actor=actor,
            obj=request,
            before=before,
            after={
                **snapshot(request, ["deadline", "deadline_provisional"]),
                "approved": approve,
                "note": note.strip(),
            },
        )
    return extension


def set_published(
    request: EnterpriseRequest, *, actor: Actor, published: bool
) -> EnterpriseRequest:
    """Publish (公开) the masked result of a closed request the enterprise agreed to publish."""
    if not has_capability(actor, "request.manage"):
        raise RequestError("只有营商办可以公开办理结果")
    if published and not request.publishable:
        raise RequestError("企业未同意公开该诉求，不能公开")
    if published and request.status != "closed":
        raise RequestError("只有已办结的诉求可以公开")
    with transaction.atomic():
        EnterpriseRequest.objects.filter(pk=request.pk).update(published=published)
        record_event(
            "enterprise_request.publish",
            actor=actor,
            obj=request,
            before={"published": request.published},
            after={"published": published},
        )
        request.published = published
    return request


# --- forums and the taxonomy -------------------------------------------------------------------


def create_forum(
    *,
    actor: Actor,
    held_on: dt.date,
    topic: str,
    region: Region,
    leaders: str = "",
    location: str = "",
    note: str = "",
    enterprises: Iterable[Enterprise] = (),
) -> Forum:
    """Record a face-to-face forum (面对面座谈会)."""
    role = role_of(actor)
    if not has_capability(actor, "request.intake"):
        raise RequestError("只有营商办或县市区可以登记座谈会")
    if role == Role.DISTRICT_OFFICER and not region.path.startswith(
        getattr(actor, "scope_path", None) or "-"
    ):
        raise RequestError("只能登记本辖区的座谈会")
    if not topic.strip():
        raise RequestError("请填写座谈会主题")
    with transaction.atomic():
        forum = Forum.objects.create(
            held_on=held_on,
            topic=topic.strip()[:200],
            region=region,
            leaders=leaders.strip()[:300],
            location=location.strip()[:200],
            note=note.strip(),
            created_by=acting_user(actor),
        )
        forum.enterprises.set(list(enterprises))
        record_event(
            "enterprise_request.forum_create", actor=actor, obj=forum, after=snapshot(forum)
        )
    return forum


CATEGORY_FIELDS = [
    "code",
    "name",
    "parent",
    "default_kind",
    "difficulty",
    "time_limit_days",
    "first_contact_hours",
    "active",
    "description",
    "sort_order",
]


def save_category(
    *, actor: Actor, category: RequestCategory | None = None, **values: Any
) -> RequestCategory:
    """Create or edit an entry of the taxonomy (诉求词条库); codes never change once issued."""
    if not has_capability(actor, "request.manage"):
        raise RequestError("只有营商办可以维护诉求分类")
    unknown = set(values) - set(CATEGORY_FIELDS)
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}")
    with transaction.atomic():
        if category is None:
            category = RequestCategory(**values)
            before = None
        else:
            category = RequestCategory.objects.select_for_update().get(pk=category.pk)
            if "code" in values and values["code"] != category.code:
                raise RequestError("分类编码一经启用不能修改")
            before = snapshot(category, CATEGORY_FIELDS)
            for name, value in values.items():
                setattr(category, name, value)
            category.version += 1
        parent = category.parent
        if parent is not None and (parent.parent_id is not None or parent.pk == category.pk):
            raise RequestError("诉求分类只有两级，上级分类必须是一级分类")
        category.save()
        record_event(
            "enterprise_request.category_save",
            actor=actor,
            obj=category,
            before=before,
            after=snapshot(category, CATEGORY_FIELDS),
        )
    return category
