"""The jobs of enterprise requests: the daily deadline check (期限预警: overdue and soon-due
requests reach the lead units, and when overdue the office, once per deadline, however often
the job runs), the daily escalation of requests left without progress (升级督办) and the
duplicate check of requests pushed by API tokens (疑似重复识别)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.db import transaction
from django.utils import timezone

from sizhen.core.access import Actor
from sizhen.core.audit import record_event
from sizhen.core.jobs import JobContext, job, schedule
from sizhen.core.notifications import notify
from sizhen.enterprise_requests.models import EnterpriseRequest
from sizhen.enterprise_requests.selectors import overdue, soon_due
from sizhen.enterprise_requests.services import (
    department_users,
    escalate_idle_requests,
    flag_pending_duplicates,
    managers,
)

SOON = "soon"
OVERDUE = "overdue"


def send_deadline_notices(
    *, actor: Actor | None = None, today: dt.date | None = None
) -> dict[str, int]:
    """Mark and notify each request that became soon due or overdue since the last run. The
    mark is a conditional update, so two runs at once notify each request once."""
    today = today or timezone.localdate()
    base = EnterpriseRequest.objects.select_related("lead_department")
    batches = {
        OVERDUE: list(overdue(base, today).exclude(deadline_notice=OVERDUE)),
        SOON: list(soon_due(base, today).filter(deadline_notice="")),
    }
    sent: dict[str, list[EnterpriseRequest]] = {OVERDUE: [], SOON: []}
    with transaction.atomic():
        for kind, items in batches.items():
            for r in items:
                claimed = EnterpriseRequest.objects.filter(
                    pk=r.pk, deadline_notice=r.deadline_notice
                ).update(deadline_notice=kind, deadline_notice_on=today)
                if claimed:
                    sent[kind].append(r)
        counts = {kind: len(items) for kind, items in sent.items()}
        record_event(
            "enterprise_request.deadline_notices",
            actor=actor,
            object_type="enterprise_requests.enterpriserequest",
            after={"date": today, **counts},
        )
        transaction.on_commit(lambda: _notify(sent))
    return counts


def _notify(sent: dict[str, list[EnterpriseRequest]]) -> None:
    by_department: dict[Any, list[tuple[str, EnterpriseRequest]]] = defaultdict(list)
    for kind, items in sent.items():
        for r in items:
            if r.lead_department is not None:
                by_department[r.lead_department].append((kind, r))
    for department, entries in by_department.items():
        lines = [
            f"{'已逾期' if kind == OVERDUE else '即将到期'}：{r.number} {r.title}（期限 {r.deadline_label}）"
            for kind, r in entries
        ]
        notify(
            department_users([department]),
            subject=f"诉求期限提醒：{len(entries)} 件",
            body="\n".join(lines),
            link="/requests/?overdue=overdue",
            category="enterprise_requests",
        )
    late = sent[OVERDUE]
    if late:
        notify(
            managers(),
            subject=f"诉求逾期：{len(late)} 件",
            body="\n".join(f"{r.number} {r.title}（{r.lead_department}）" for r in late),
            link="/requests/?overdue=overdue",
            category="enterprise_requests",
        )


@job("enterprise_requests.deadline_notices", label="诉求期限提醒")
def deadline_notices(ctx: JobContext) -> dict[str, int]:
    return send_deadline_notices()


schedule("enterprise_requests.deadline_notices", every=dt.timedelta(days=1))


@job("enterprise_requests.escalate", label="诉求超时升级督办")
def escalate(ctx: JobContext) -> dict[str, int]:
    """Each tier once per request (a conditional update claims it): running twice, or two
    workers at once, escalates and notifies once."""
    return escalate_idle_requests()


# Working days change once a day; the slot starts at 00:00 UTC, 08:00 in Beijing.
schedule("enterprise_requests.escalate", every=dt.timedelta(days=1))


@job("enterprise_requests.flag_duplicates", label="诉求疑似重复识别")
def flag_duplicates(ctx: JobContext) -> dict[str, int]:
    """Queued by API-token intake (one queued at a time); it compares each request taken
    in without comparison and flags suspected duplicates."""
    return flag_pending_duplicates()


# A backstop (e.g. after a worker died mid-run): every 5 minutes a run picks up what is left.
schedule("enterprise_requests.flag_duplicates", every=dt.timedelta(minutes=5))
