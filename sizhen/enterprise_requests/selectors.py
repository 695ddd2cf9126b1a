"""Reads of enterprise requests (企业诉求), always through the scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db.models import CharField, Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast, Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone

from sizhen.core.access import VIEW, Actor, role_of
from sizhen.core.models import TransitionHistory
from sizhen.core.refcache import ReferenceCache
from sizhen.core.roles import DEPARTMENT_STAFF_ROLES, STAFF_ROLES, Role
from sizhen.core.workcalendar import add_working_days
from sizhen.core.workqueue import KeyFigure, Queue
from sizhen.enterprise_requests.choices import (
    PROGRESS_MESSAGES,
    EscalationTier,
    FirstContact,
    MessageKind,
)
from sizhen.enterprise_requests.models import (
    EnterpriseRequest,
    RequestCategory,
    RequestMessage,
    first_contact_q,
)
from sizhen.enterprise_requests.workflow import (
    CLOSED,
    DISPATCHED,
    HANDLING,
    ON_THE_CLOCK,
    PROGRESS_ACTIONS,
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


def with_last_progress(qs: QuerySet[EnterpriseRequest]) -> QuerySet[Any]:
    """Annotate ``progress_at``: the last handling progress (办理进展) of each request, the
    latest of its progress steps in the history (``PROGRESS_ACTIONS``: dispatch, acceptance,
    second assignment, a reply sent back) and its progress entries in the timeline
    (``PROGRESS_MESSAGES``: progress reports, contacts, questions for material); the dispatch
    (else the submission) when it has none. Two correlated subqueries, each read off an index."""
    history = (
        TransitionHistory.objects.filter(
            object_type=EnterpriseRequest._meta.label_lower,
            object_id=Cast(OuterRef("pk"), CharField()),
            action__in=PROGRESS_ACTIONS,
        )
        .order_by("-at")
        .values("at")[:1]
    )
    entries = (
        RequestMessage.objects.filter(request=OuterRef("pk"), kind__in=PROGRESS_MESSAGES)
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    start = Coalesce("dispatched_at", "submitted_at")
    # Each side is coalesced: SQLite's MAX() of several arguments is NULL if one is.
    return qs.annotate(
        progress_at=Greatest(Coalesce(Subquery(history), start), Coalesce(Subquery(entries), start))
    )


def last_progress(request: EnterpriseRequest) -> dt.datetime:
    """The request's last handling progress (see ``with_last_progress``)."""
    at: dt.datetime = (
        with_last_progress(EnterpriseRequest.objects.filter(pk=request.pk))
        .values_list("progress_at", flat=True)
        .get()
    )
    return at


def escalation_steps(request: EnterpriseRequest) -> list[tuple[str, dt.datetime]]:
    """Each tier the request reached (its label) and when, from its escalation entries: the
    job writes one entry a tier, in order, and never a tier twice."""
    entries = request.messages.filter(kind=MessageKind.ESCALATION).order_by("created_at", "id")
    return [
        (EscalationTier(tier).label, at)
        for tier, at in enumerate(entries.values_list("created_at", flat=True), start=1)
        if tier in EscalationTier.values
    ]


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


def _first_contact_overdue(actor: Any) -> QuerySet[EnterpriseRequest]:
    return EnterpriseRequest.objects.visible_to(actor).filter(
        first_contact_q(FirstContact.OVERDUE, timezone.now())
    )


def _escalated_to_city(actor: Any) -> QuerySet[EnterpriseRequest]:
    """Still on the clock after reaching the city's special team (市级专班) or listing."""
    return EnterpriseRequest.objects.visible_to(actor).filter(
        status__in=ON_THE_CLOCK, escalation_tier__gte=EscalationTier.CITY_TEAM
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
    Queue(
        "first_contact",
        "派单后超时未联系企业的诉求",
        MODULE,
        OFFICE,
        _first_contact_overdue,
        LEDGER,
        deadline="",
        query=f"first_contact={FirstContact.OVERDUE}",
    ),
    Queue(
        "escalated",
        "提级市级专班、挂牌督办的在办诉求",
        MODULE,
        OFFICE,
        _escalated_to_city,
        LEDGER,
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
