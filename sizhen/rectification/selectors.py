"""Reads of the rectification ledger (整改清单): summary figures for the cockpit, completion
rates by department and source, and the search for repeated problems (反复出现的问题). The
before/after indicator comparison for effect verification is in ``effect.py``."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from sizhen.core.access import VIEW, Actor, role_of
from sizhen.core.numbers import fixed, rounded
from sizhen.core.roles import STAFF_ROLES, UNIT_ROLES, Role
from sizhen.core.workqueue import KeyFigure, Queue
from sizhen.indicators.catalogue.models import Indicator
from sizhen.organisations.models import Region
from sizhen.rectification.choices import Source
from sizhen.rectification.models import RectificationItem
from sizhen.rectification.workflow import (
    ACTIVE_STATES,
    CLOSED,
    IN_PROGRESS,
    OPEN,
    REOPENED,
    SUBMITTED,
)

#: Two problem texts whose character-bigram Dice (Sørensen) coefficient reaches this are the same
#: problem. Dice rather than Jaccard because ledger titles are short: "企业开办时间长" and
#: "企业开办耗时长" share 3 of 6 bigrams each (Dice 0.50, Jaccard only 0.33), while
#: "企业开办流程复杂" scores 0.46 and "企业注销程序繁琐" 0.15 against the first.
SIMILARITY_THRESHOLD = 0.5
#: How many earlier years are compared ("连续两年反复出现": this year and the two before).
REPEAT_LOOKBACK_YEARS = 2

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def rate(closed: int, total: int) -> float:
    """Completion rate in percent with one decimal (48 items, 33 closed → 68.8)."""
    return (rounded(closed * 100 / total, 1) or 0.0) if total else 0.0


def overdue_q(today: dt.date | None = None) -> Q:
    return Q(status__in=ACTIVE_STATES, deadline__lt=today or timezone.localdate())


def visible_items(actor: Actor, action: str = VIEW) -> QuerySet[RectificationItem]:
    return RectificationItem.objects.visible_to(actor, action)


def summarise(qs: QuerySet[RectificationItem]) -> dict[str, Any]:
    figures = qs.aggregate(
        total=Count("pk"),
        closed=Count("pk", filter=Q(status=CLOSED)),
        repeated=Count("pk", filter=Q(repeated=True)),
        overdue=Count("pk", filter=overdue_q()),
    )
    figures["rate"] = rate(figures["closed"], figures["total"])
    return figures


def ledger_summary(actor: Actor) -> dict[str, Any]:
    """The ledger in five figures for the cockpit: total, closed, rate (%), repeated, overdue,
    over the items the actor may see."""
    return summarise(visible_items(actor))


def completion_by(qs: QuerySet[RectificationItem], field: str) -> list[dict[str, Any]]:
    rows = (
        qs.order_by()
        .values(field)
        .annotate(
            total=Count("pk"),
            closed=Count("pk", filter=Q(status=CLOSED)),
            repeated=Count("pk", filter=Q(repeated=True)),
            overdue=Count("pk", filter=overdue_q()),
        )
        .order_by("-total", field)
    )
    return [{**row, "key": row[field], "rate": rate(row["closed"], row["total"])} for row in rows]


def completion_stats(actor: Actor, qs: QuerySet[RectificationItem] | None = None) -> dict[str, Any]:
    """Completion rate (完成率) of the visible ledger (or of ``qs``, already scoped) by lead
    department and by source."""
    qs = visible_items(actor) if qs is None else qs
    by_department = completion_by(qs, "lead_department__name")
    by_source = completion_by(qs, "source")
    labels = dict(Source.choices)
    for row in by_source:
        row["label"] = labels.get(row["key"], row["key"])
    for row in by_department:
        row["label"] = row["key"]
    return {"summary": summarise(qs), "by_department": by_department, "by_source": by_source}


# --- repeated problems ------------------------------------------------------------------------


def bigrams(text: str) -> set[str]:
    cleaned = _NOISE.sub("", text.lower())
    if len(cleaned) < 2:
        return {cleaned} if cleaned else set()
    return {cleaned[i : i + 2] for i in range(len(cleaned) - 1)}


def similarity(a: str, b: str) -> float:
    """Dice coefficient of the two texts' character bigrams (0–1), punctuation ignored."""
    left, right = bigrams(a), bigrams(b)
    if not left or not right:
        return 0.0
    return 2 * len(left & right) / (len(left) + len(right))


def find_repeats(
    *, title: str, year: int, region_id: int, indicator_ids: Iterable[int], exclude_pk: Any = None
) -> list[tuple[RectificationItem, str]]:
    """Items of the earlier years that are the same problem in the same place (the same
    region): linked to a same indicator, or with a title at least ``SIMILARITY_THRESHOLD``
    similar. The same problem in another district is that district's own, not a repetition.
    Returns (item, reason)."""
    earlier = RectificationItem.objects.filter(
        region_id=region_id, year__lt=year, year__gte=year - REPEAT_LOOKBACK_YEARS
    ).exclude(pk=exclude_pk)
    found: dict[int, tuple[RectificationItem, str]] = {}
    ids = list(indicator_ids)
    if ids:
        for other in earlier.filter(indicators__in=ids).distinct():
            found[other.pk] = (other, f"{other.year} 年同一区划同一指标")
    for other in earlier.only("pk", "title", "year"):
        if other.pk in found:
            continue
        score = similarity(title, other.title)
        if score >= SIMILARITY_THRESHOLD:
            found[other.pk] = (other, f"与 {other.year} 年问题表述相似（{score:.2f}）")
    return sorted(found.values(), key=lambda pair: (pair[0].year, pair[0].pk))


# --- the indicator page ----------------------------------------------------------------------

#: Items not yet closed listed on an indicator's page (一指标一页面); the list holds the rest.
INDICATOR_ITEM_LIMIT = 10


@dataclass
class IndicatorItems:
    #: Items not closed (待接收, 整改中, 待销号审核, 重新整改), nearest deadline first.
    rows: list[RectificationItem]
    #: Items not closed in all (the rows show the first ``INDICATOR_ITEM_LIMIT``).
    active: int
    closed: int


def for_indicator(
    actor: Actor,
    indicator: Indicator,
    *,
    region: Region | None = None,
    limit: int = INDICATOR_ITEM_LIMIT,
) -> IndicatorItems:
    """The ledger items linked to the indicator that the actor may see, with ``region`` only
    those of its subtree (an item belongs to one region): the first ``limit`` not closed with
    their lead department, and the counts. One query when no item links the indicator (most
    have none), else three."""
    if not RectificationItem.indicators.through.objects.filter(indicator_id=indicator.pk).exists():
        # Most indicators have no item: one plain query instead of compiling the two below.
        return IndicatorItems(rows=[], active=0, closed=0)
    qs = visible_items(actor).filter(indicators=indicator)
    if region is not None:
        qs = qs.filter(region__path__startswith=region.path)
    counts = qs.order_by().aggregate(
        active=Count("pk", filter=Q(status__in=ACTIVE_STATES)),
        closed=Count("pk", filter=Q(status=CLOSED)),
    )
    rows = list(
        qs.filter(status__in=ACTIVE_STATES)
        .select_related("lead_department")
        .order_by("deadline", "pk")[:limit]
    )
    return IndicatorItems(rows=rows, active=counts["active"], closed=counts["closed"])


# --- the home page's work queue and key figures (sizhen/core/workqueue.py) -------------------

MODULE = "整改清单"


def list_led_by_unit(actor: Actor) -> QuerySet[RectificationItem]:
    """Items the actor's unit leads (workflow ``is_lead_unit``): its department's, or for a
    district officer those in the district."""
    led = Q(pk__in=[])
    department_id = getattr(actor, "department_id", None)
    if department_id is not None:
        led |= Q(lead_department_id=department_id)
    path = getattr(actor, "scope_path", None)
    if role_of(actor) == Role.DISTRICT_OFFICER and path:
        led |= Q(region__path__startswith=path)
    return visible_items(actor).filter(led)


WORK_QUEUES = (
    Queue(
        "accept",
        "待接收的整改事项",
        MODULE,
        UNIT_ROLES,
        lambda actor: list_led_by_unit(actor).filter(status__in=(OPEN, REOPENED)),
        "rectification:item_list",
    ),
    Queue(
        "progress",
        "整改中待申请销号的事项",
        MODULE,
        UNIT_ROLES,
        lambda actor: list_led_by_unit(actor).filter(status=IN_PROGRESS),
        "rectification:item_list",
    ),
    Queue(
        "review",
        "待销号审核的事项",
        MODULE,
        frozenset({Role.COORDINATOR}),
        lambda actor: visible_items(actor).filter(status=SUBMITTED),
        "rectification:item_list",
    ),
)


def key_figures(actor: Actor, today: dt.date) -> list[KeyFigure]:
    """The ledger's completion rate and the items past their deadline, as far as the actor may
    see."""
    if role_of(actor) not in STAFF_ROLES - {Role.SYSADMIN}:
        return []
    figures = ledger_summary(actor)
    return [
        KeyFigure(
            "rectification.rate",
            "整改完成率",
            fixed(figures["rate"], 1) if figures["total"] else "—",
            "%" if figures["total"] else "",
            note=f"已销号 {figures['closed']}/{figures['total']} 项，逾期 {figures['overdue']} 项",
            url=reverse("rectification:stats"),
            tone="bad" if figures["overdue"] else "",
        )
    ]
