"""Reads of enterprise requests (企业诉求), always through the scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from sizhen.core.access import VIEW, Actor, role_of
from sizhen.core.refcache import ReferenceCache
from sizhen.core.roles import DEPARTMENT_STAFF_ROLES, STAFF_ROLES, Role
from sizhen.core.workcalendar import add_working_days
from sizhen.core.workqueue import KeyFigure, Queue
from sizhen.enterprise_requests.models import EnterpriseRequest, RequestCategory
from sizhen.enterprise_requests.workflow import (
    CLOSED,
    DISPATCHED,
    HANDLING,
    ON_THE_CLOCK,
    REGISTERED,
    REPLIED,
    REPLY_REVIEW,
    RETURNED,
    SUBMITTED,
    TERMINAL,
    UNSATISFIED,
)

#: A request on the clock is "soon due" within this many working days of its deadline.
SOON_DUE_WORKING_DAYS = 2


def requests_visible_to(actor: Actor, action: str = VIEW) -> QuerySet[EnterpriseRequest]:
    qs = EnterpriseRequest.objects.visible_to(actor, action)
    return qs.select_related("category", "enterprise", "region", "lead_department")


def request_base() -> QuerySet[EnterpriseRequest]:
    """The unscoped queryset to hand to ``get_visible_or_404`` (it applies the scope itself
    and audits a denied look-up of an existing request)."""
    return EnterpriseRequest.objects.select_related(
        "category", "enterprise", "region", "lead_department", "duplicate_of"
    )


def soon_due_limit(today: dt.date | None = None) -> dt.date:
    today = today or timezone.localdate()
    return add_working_days(today, SOON_DUE_WORKING_DAYS).date


def overdue(qs: QuerySet[EnterpriseRequest], today: dt.date | None = None) -> QuerySet[Any]:
    today = today or timezone.localdate()
    return qs.filter(status__in=ON_THE_CLOCK, deadline__lt=today)


def soon_due(qs: QuerySet[EnterpriseRequest], today: dt.date | None = None) -> QuerySet[Any]:
    today = today or timezone.localdate()
    return qs.filter(
        status__in=ON_THE_CLOCK, deadline__gte=today, deadline__lte=soon_due_limit(today)
    )


def active_categories() -> QuerySet[RequestCategory]:
    return RequestCategory.objects.filter(active=True).select_related("parent")


def leaf_categories() -> QuerySet[RequestCategory]:
    return (
        active_categories()
        .filter(parent__isnull=False)
        .order_by("parent__sort_order", "sort_order", "code")
    )


def mask_phone(phone: str) -> str:
    """13800001111 -> 138****1111; short numbers keep only their last two digits."""
    digits = phone.strip()
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 2:
        return "*" * (len(digits) - 2) + digits[-2:]
    return digits


def mask_name(name: str) -> str:
    """An enterprise or a person, for public pages: 东湖示范科技有限公司 -> 东湖****公司."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) <= 3:
        return name[0] + "*" * (len(name) - 1)
    return name[:2] + "*" * 4 + name[-2:]


#: Active categories by code for the intake path (sizhen/core/refcache.py: per process, 60 s;
#: a category deactivated in another process may be accepted for that long).
ACTIVE_CATEGORIES = ReferenceCache(
    RequestCategory,
    lambda code: RequestCategory.objects.filter(code=code, active=True).first(),
    name="enterprise_requests.category",
)


def active_category(code: str) -> RequestCategory | None:
    """The active category with this code, cached per process for a short while."""
    return ACTIVE_CATEGORIES.get(code)


# --- the home page's work queue and key figures (sizhen/core/workqueue.py) -------------------

MODULE = "企业诉求"
OFFICE = frozenset({Role.COORDINATOR})


def _in(*states: str) -> Callable[[Any], QuerySet[EnterpriseRequest]]:
    return lambda actor: EnterpriseRequest.objects.visible_to(actor).filter(status__in=states)


def _led_in(state: str) -> Callable[[Any], QuerySet[EnterpriseRequest]]:
    """The requests the actor's department leads (主办) in ``state``; co-handled ones aside."""
    return lambda actor: EnterpriseRequest.objects.visible_to(actor).filter(
        status=state, lead_department_id=getattr(actor, "department_id", None)
    )


LEDGER = "enterprise_requests:ledger"
#: The handling deadline runs only while a lead unit holds the request (ON_THE_CLOCK): the
#: office's queues show counts without it.
WORK_QUEUES = (
    Queue(
        "dispatch",
        "待受理、派单的诉求",
        MODULE,
        OFFICE,
        _in(SUBMITTED, REGISTERED, RETURNED),
        LEDGER,
        deadline="",
    ),
    Queue(
        "review_reply", "答复待审核的诉求", MODULE, OFFICE, _in(REPLY_REVIEW), LEDGER, deadline=""
    ),
    Queue("revisit", "已答复待回访的诉求", MODULE, OFFICE, _in(REPLIED), LEDGER, deadline=""),
    Queue(
        "unsatisfied",
        "回访不满意待处理的诉求",
        MODULE,
        OFFICE,
        _in(UNSATISFIED),
        LEDGER,
        deadline="",
    ),
    Queue("accept", "待签收的诉求", MODULE, DEPARTMENT_STAFF_ROLES, _led_in(DISPATCHED), LEDGER),
    Queue("reply", "办理中待答复的诉求", MODULE, DEPARTMENT_STAFF_ROLES, _led_in(HANDLING), LEDGER),
    # An enterprise sees only its own requests: these wait for its rating (回访评价).
    Queue(
        "rate",
        "待评价的诉求",
        MODULE,
        frozenset({Role.ENTERPRISE}),
        _in(REPLIED),
        "enterprise_requests:mine",
        deadline="",
    ),
)


#: Not on anyone's home page as waiting work: the list filter behind the "在办" key figure.
OPEN_REQUESTS = Queue(
    "open",
    "在办的诉求",
    MODULE,
    frozenset(),
    lambda actor: EnterpriseRequest.objects.visible_to(actor).exclude(status__in=TERMINAL),
    LEDGER,
    deadline="",
)
FILTER_QUEUES = (*WORK_QUEUES, OPEN_REQUESTS)


def key_figures(actor: Actor, today: dt.date) -> list[KeyFigure]:
    """Requests still being handled and those past their deadline, as far as the actor may
    see (an enterprise: its own)."""
    role = role_of(actor)
    if role not in (STAFF_ROLES - {Role.SYSADMIN}) | {Role.ENTERPRISE}:
        return []
    visible = EnterpriseRequest.objects.visible_to(actor).order_by()
    counts = visible.aggregate(
        open=Count("pk", filter=~Q(status__in=TERMINAL)),
        overdue=Count("pk", filter=Q(status__in=ON_THE_CLOCK, deadline__lt=today)),
        closed=Count("pk", filter=Q(status=CLOSED)),
    )
    if role == Role.ENTERPRISE:
        mine = reverse("enterprise_requests:mine")
        return [
            KeyFigure(
                "requests.open", "办理中的诉求", str(counts["open"]), "件", url=f"{mine}?queue=open"
            ),
            KeyFigure(
                "requests.closed",
                "已办结的诉求",
                str(counts["closed"]),
                "件",
                url=f"{mine}?status={CLOSED}",
            ),
        ]
    ledger = reverse(LEDGER)
    return [
        KeyFigure("requests.open", "在办诉求", str(counts["open"]), "件", url=OPEN_REQUESTS.url()),
        KeyFigure(
            "requests.overdue",
            "超期未办结诉求",
            str(counts["overdue"]),
            "件",
            url=f"{ledger}?overdue=overdue",
            tone="bad" if counts["overdue"] else "",
        ),
    ]
