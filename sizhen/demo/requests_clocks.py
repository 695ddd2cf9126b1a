"""Demo seeds of the first-contact clock (首次联系) and the escalation tiers (升级督办) of the
demo requests, written as the services and the daily job would have left them: most units
called the enterprise within the limit (a few late, a handful not yet), most requests on the
clock reported progress lately, and a handful waited long enough to reach each tier. The
seeds follow the rule, so the job's first run after loading escalates nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from sizhen.core.models import TransitionHistory
from sizhen.core.notifications import unit_leaders
from sizhen.core.workcalendar import get_calendar
from sizhen.demo.people import department_staff
from sizhen.enterprise_requests.choices import EscalationTier, MessageKind
from sizhen.enterprise_requests.models import EnterpriseRequest, RequestMessage
from sizhen.enterprise_requests.services.escalation import (
    escalation_days,
    escalation_text,
    first_contact_due,
)
from sizhen.enterprise_requests.workflow import ON_THE_CLOCK, PROGRESS_ACTIONS

CONTACT_NOTES = [
    "电话联系：已与企业联系人沟通诉求情况，约定办理时限。",
    "电话联系：向企业说明办理流程和所需材料。",
    "上门走访：到企业现场了解情况，商定解决方案。",
    "约见面谈：约企业负责人到单位面谈，明确诉求要点。",
]
PROGRESS_NOTES = [
    "已会同相关科室研究办理方案，正在推进。",
    "已协调有关单位现场核实，近期给予答复。",
    "相关材料已报分管领导审核，待审定后答复企业。",
]
#: Requests shown at each escalation tier; dispatched ones whose unit has not called yet.
PER_TIER = 3
CONTACT_OVERDUE = 4
LATE_CONTACT_RATE = 0.06

#: The fields these seeds set on the requests.
FIELDS = [
    "first_contact_due",
    "first_contacted_at",
    "escalation_tier",
    "escalated_at",
    "supervised",
    "supervised_at",
    "supervision_note",
]


def _at(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def seed_clocks(
    ctx: Any,
    requests: list[EnterpriseRequest],
    history: list[TransitionHistory],
    messages: list[RequestMessage],
) -> None:
    """Set the clock fields of ``requests`` and append their contact, progress and escalation
    entries to ``messages`` (the caller writes both)."""
    rng = ctx.rng("escalation")
    now = timezone.now()
    progress: dict[int, dt.datetime] = {}
    for h in history:
        if h.action in PROGRESS_ACTIONS:
            pk = int(h.object_id)
            progress[pk] = max(progress.get(pk, h.at), h.at)
    overdue_left = CONTACT_OVERDUE
    for r in requests:
        if r.dispatched_at is None:
            continue
        r.first_contact_due = first_contact_due(r.category, r.dispatched_at)
        if r.status == "dispatched" and overdue_left and r.first_contact_due < now:
            overdue_left -= 1
            continue
        hours = rng.randint(14, 40) if rng.random() < LATE_CONTACT_RATE else rng.randint(1, 10)
        contacted = r.dispatched_at + dt.timedelta(hours=hours)
        if r.replied_at is not None:
            contacted = min(contacted, r.replied_at)
        if contacted > now:
            continue
        r.first_contacted_at = contacted
        messages.append(_entry(ctx, r, MessageKind.CONTACT, rng.choice(CONTACT_NOTES), contacted))
        progress[r.pk] = max(progress.get(r.pk, contacted), contacted)
    _escalations(ctx, rng, [r for r in requests if r.status in ON_THE_CLOCK], progress, messages)


def _escalations(
    ctx: Any,
    rng: Any,
    on_clock: list[EnterpriseRequest],
    progress: dict[int, dt.datetime],
    messages: list[RequestMessage],
) -> None:
    calendar = get_calendar()
    today = timezone.localdate()
    now = timezone.now()
    days = escalation_days()
    staffed = {u.department_id for u in ctx.users.values() if u.department_id}
    rng.shuffle(on_clock)
    # The units with demo accounts first, so that logging in as one shows its escalations.
    on_clock.sort(key=lambda r: r.lead_department_id not in staffed)
    tiers = sorted(EscalationTier.values[1:] * PER_TIER, reverse=True)
    cutoffs = [calendar.working_days_back(today, n) for n in days]
    for r in on_clock:
        last = timezone.localtime(progress.get(r.pk, r.dispatched_at or r.submitted_at)).date()
        if r.first_contacted_at is None:
            # A unit that has not even called: it escalated as far as its wait reached.
            reached = sum(1 for cutoff in cutoffs if last <= cutoff)
            if reached:
                _escalate(r, reached, last, days, now, messages)
            continue
        tier = tiers[0] if tiers else 0
        if tier:
            # Waited the tier's working days (or one more, short of the next tier's) by today.
            spare = 1 if tier == len(days) or days[tier - 1] + 1 < days[tier] else 0
            since = calendar.working_days_back(today, days[tier - 1] + rng.randint(0, spare))
            if last < since:
                tiers.pop(0)
                note = rng.choice(PROGRESS_NOTES)
                messages.append(_entry(ctx, r, MessageKind.PROGRESS, note, _at(since, 15)))
                _escalate(r, tier, since, days, now, messages)
                continue
        if last > cutoffs[0]:
            continue  # progress within the first tier's working days
        # A recent progress report (or, unsigned, a call): fewer working days than tier one.
        since = calendar.working_days_back(today, rng.randint(1, max(1, days[0] - 1)))
        kind = MessageKind.PROGRESS if r.status != "dispatched" else MessageKind.CONTACT
        notes = PROGRESS_NOTES if kind == MessageKind.PROGRESS else CONTACT_NOTES
        messages.append(_entry(ctx, r, kind, rng.choice(notes), min(_at(since, 15), now)))


def _escalate(
    r: EnterpriseRequest,
    tier: int,
    since: dt.date,
    days: tuple[int, ...],
    now: dt.datetime,
    messages: list[RequestMessage],
) -> None:
    """One entry a tier, on the day the wait since ``since`` reached it."""
    calendar = get_calendar()
    heads = [str(u) for u in unit_leaders([r.lead_department_id])]
    unit = r.lead_department.name if r.lead_department else "主办单位"
    for step in range(1, tier + 1):
        reached = calendar.add_working_days(since, days[step - 1], clock_start="next_day").date
        when = min(_at(reached, 8), now)
        text = escalation_text(step, unit=unit, since=since, idle=days[step - 1], heads=heads)
        messages.append(
            RequestMessage(
                request=r,
                kind=MessageKind.ESCALATION,
                text=text,
                author_label="系统",
                created_at=when,
            )
        )
        r.escalation_tier, r.escalated_at = step, when
        if step == EscalationTier.LISTED and not r.supervised:
            r.supervised, r.supervised_at, r.supervision_note = True, when, text


def _entry(ctx: Any, r: EnterpriseRequest, kind: str, text: str, at: dt.datetime) -> RequestMessage:
    """A contact or progress record, written by the lead department's own staff."""
    author, label = department_staff(ctx, r.lead_department)
    return RequestMessage(
        request=r,
        kind=kind,
        text=text,
        author=author,
        author_label=label,
        department=r.lead_department,
        created_at=at,
    )
