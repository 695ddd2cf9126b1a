"""The first-contact clock (首次联系) and the automatic escalation (升级督办) of requests their
lead unit leaves without progress: after 3, 7 and 15 working days (configurable) to the unit's
head (单位负责人), to the city's special team (市级专班, the coordinating office) and to listed
supervision (挂牌督办). Why these rules: docs/decisions/0011-request-escalation.md."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sizhen.accounts.models import acting_user
from sizhen.core.access import Actor
from sizhen.core.audit import record_event
from sizhen.core.notifications import city_leaders, coordinators, notify_after_commit, unit_leaders
from sizhen.core.permissions import has_capability
from sizhen.core.workcalendar import get_calendar, working_days_between
from sizhen.enterprise_requests.choices import ContactMethod, EscalationTier, MessageKind
from sizhen.enterprise_requests.models import EnterpriseRequest, RequestCategory, RequestMessage
from sizhen.enterprise_requests.selectors import last_progress, with_last_progress
from sizhen.enterprise_requests.services.common import MAX_TEXT, RequestError, actor_label
from sizhen.enterprise_requests.workflow import CONTACT_STATES, ON_THE_CLOCK

# --- first contact -------------------------------------------------------------------------------


def first_contact_hours(category: RequestCategory | None) -> int:
    """The category's own first-contact limit, else ``SIZHEN_REQUEST_FIRST_CONTACT_HOURS``."""
    if category is not None and category.first_contact_hours is not None:
        return category.first_contact_hours
    return int(settings.SIZHEN_REQUEST_FIRST_CONTACT_HOURS)


def first_contact_due(category: RequestCategory | None, dispatched_at: dt.datetime) -> dt.datetime:
    """Clock hours, nights and holidays included: the seed practice (12 小时内对接联系) is a
    phone call, not an office procedure."""
    return dispatched_at + dt.timedelta(hours=first_contact_hours(category))


def record_contact(
    request: EnterpriseRequest, *, actor: Actor, method: str, note: str
) -> RequestMessage:
    """The lead unit records that it reached the enterprise (联系企业: by phone, visit, meeting
    or online) with what was said. The first such record stops the first-contact clock; every
    record is handling progress."""
    if method not in ContactMethod.values:
        raise RequestError("请选择联系方式")
    note = (note or "").strip()
    if not note:
        raise RequestError("请填写联系情况（联系了谁、沟通了什么）")
    if len(note) > MAX_TEXT:
        raise RequestError(f"联系情况不能超过 {MAX_TEXT} 字")
    department_id = getattr(actor, "department_id", None)
    lead = department_id is not None and department_id == request.lead_department_id
    if not has_capability(actor, "request.manage") and not (
        lead and has_capability(actor, "request.handle")
    ):
        raise RequestError("只有主办单位可以记录联系企业")
    with transaction.atomic():
        locked = EnterpriseRequest.objects.select_for_update().get(pk=request.pk)
        if locked.status not in CONTACT_STATES:
            raise RequestError(f"诉求当前状态“{locked.status_label}”下不能记录联系企业")
        now = timezone.now()
        first = locked.first_contacted_at is None
        if first:
            EnterpriseRequest.objects.filter(pk=locked.pk).update(first_contacted_at=now)
        text = f"{ContactMethod(method).label}：{note}"
        message = RequestMessage.objects.create(
            request=locked,
            kind=MessageKind.CONTACT,
            text=text,
            author=acting_user(actor),
            author_label=actor_label(actor),
            department_id=department_id,
            created_at=now,
        )
        record_event(
            "enterprise_request.contact",
            actor=actor,
            obj=locked,
            after={"method": method, "note": note, "first_contact": first},
            message=text,
        )
    request.refresh_from_db()
    return message


def mark_contacted_by_reply(request: EnterpriseRequest, at: dt.datetime) -> None:
    """A reply that reaches the enterprise is a contact too, when none was recorded before."""
    EnterpriseRequest.objects.filter(pk=request.pk, first_contacted_at__isnull=True).update(
        first_contacted_at=at
    )


# --- escalation ----------------------------------------------------------------------------------


def escalation_days() -> tuple[int, ...]:
    """``SIZHEN_REQUEST_ESCALATION_DAYS``: the working days without progress of each tier."""
    raw = settings.SIZHEN_REQUEST_ESCALATION_DAYS
    try:
        days = tuple(int(d) for d in raw)
    except (TypeError, ValueError):
        raise ValueError(
            f"SIZHEN_REQUEST_ESCALATION_DAYS: integers expected, got {raw!r}"
        ) from None
    tiers = len(EscalationTier.values) - 1
    if len(days) != tiers or days[0] < 1 or any(a >= b for a, b in itertools.pairwise(days)):
        raise ValueError(
            f"SIZHEN_REQUEST_ESCALATION_DAYS: {tiers} increasing positive numbers expected, "
            f"got {raw!r}"
        )
    return days


def _day_after(day: dt.date) -> dt.datetime:
    """The start of the day after ``day``, local time: progress at any time of ``day`` is
    before it."""
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def escalate_idle_requests(
    *, actor: Actor | None = None, today: dt.date | None = None, now: dt.datetime | None = None
) -> dict[str, int]:
    """Escalate each request on the clock (已派单, 办理中) whose lead unit has made no progress
    for the tiers' working days, one tier after the other, each tier once. Safe to run twice
    (also at once): each tier is claimed by a conditional update."""
    today = today or timezone.localdate()
    now = now or timezone.now()
    days = escalation_days()
    calendar = get_calendar()
    # Progress on or before cutoffs[i] has waited days[i] working days by today.
    cutoffs = [calendar.working_days_back(today, n) for n in days]
    candidates = (
        with_last_progress(
            EnterpriseRequest.objects.filter(status__in=ON_THE_CLOCK, escalation_tier__lt=len(days))
        )
        .filter(progress_at__lt=_day_after(cutoffs[0]))
        .select_related("lead_department")
        .order_by("pk")
    )
    counts = dict.fromkeys(EscalationTier.values[1:], 0)
    for request in candidates:
        seen: dt.datetime = request.progress_at
        since = timezone.localtime(seen).date()
        reached = sum(1 for cutoff in cutoffs if since <= cutoff)
        for tier in range(request.escalation_tier + 1, reached + 1):
            if not _escalate(request, tier, seen, today=today, now=now, actor=actor):
                break
            counts[tier] += 1
    return {EscalationTier(tier).name.lower(): count for tier, count in counts.items()}


def _escalate(
    request: EnterpriseRequest,
    tier: int,
    seen: dt.datetime,
    *,
    today: dt.date,
    now: dt.datetime,
    actor: Actor | None,
) -> bool:
    """One tier for a request whose last progress was ``seen``: claim it, write the history
    entry, the audit event and the notices."""
    since = timezone.localtime(seen).date()
    with transaction.atomic():
        # Progress recorded since the candidates were read leaves the request for the next run.
        if last_progress(request) != seen:
            return False
        claimed = EnterpriseRequest.objects.filter(
            pk=request.pk, escalation_tier=tier - 1, status__in=ON_THE_CLOCK
        ).update(escalation_tier=tier, escalated_at=now)
        if not claimed:
            return False
        idle = working_days_between(since, today).days
        leaders = unit_leaders([request.lead_department_id])
        recipients, text = _step(request, tier, since, idle, leaders)
        listed = False
        if tier == EscalationTier.LISTED:
            # A request the office listed by hand keeps its own reason and date.
            listed = (
                EnterpriseRequest.objects.filter(pk=request.pk, supervised=False).update(
                    supervised=True, supervised_at=now, supervision_note=text
                )
                == 1
            )
        RequestMessage.objects.create(
            request=request,
            kind=MessageKind.ESCALATION,
            text=text,
            author_label=actor_label(actor),
            created_at=now,
        )
        record_event(
            "enterprise_request.escalate",
            actor=actor,
            obj=request,
            before={"escalation_tier": tier - 1},
            after={
                "escalation_tier": tier,
                "idle_since": since,
                "idle_working_days": idle,
                "listed": listed,
                "notified": [u.pk for u in recipients],
            },
            message=text,
        )
        notify_after_commit(
            recipients,
            subject=f"{_SUBJECTS[tier]}：{request.number} {request.title}",
            body=text,
            link=f"/requests/{request.pk}/",
            category="enterprise_requests",
        )
    request.escalation_tier = tier
    request.escalated_at = now
    return True


_SUBJECTS: dict[int, str] = {
    EscalationTier.UNIT_LEADER: "诉求超时无进展，提级单位负责人",
    EscalationTier.CITY_TEAM: "诉求超时无进展，提级市级专班",
    EscalationTier.LISTED: "诉求超时无进展，挂牌督办",
}


def _step(
    request: EnterpriseRequest, tier: int, since: dt.date, idle: int, leaders: list[Any]
) -> tuple[list[Any], str]:
    """Who is told at ``tier`` and the history entry (Chinese)."""
    unit = request.lead_department.name if request.lead_department else "主办单位"
    text = escalation_text(tier, unit=unit, since=since, idle=idle, heads=[str(u) for u in leaders])
    if tier == EscalationTier.UNIT_LEADER:
        return leaders, text
    if tier == EscalationTier.CITY_TEAM:
        return [*coordinators(), *leaders], text
    return [*coordinators(), *city_leaders(), *leaders], text


def escalation_text(tier: int, *, unit: str, since: dt.date, idle: int, heads: list[str]) -> str:
    """The history entry of an escalation step (also written by the demo's seeds)."""
    idle_text = f"自 {since:%Y-%m-%d} 起连续 {idle} 个工作日无办理进展"
    names = "、".join(heads) or "（该单位暂无账号）"
    if tier == EscalationTier.UNIT_LEADER:
        return f"{idle_text}，提级{unit}负责人督促办理：{names}。"
    if tier == EscalationTier.CITY_TEAM:
        return f"{idle_text}，提级市级专班（营商办）协调督办，并告知{unit}负责人：{names}。"
    return f"{idle_text}，挂牌督办：{unit}须定期报告办理进展，问题不解决不销号。"
