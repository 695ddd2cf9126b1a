"""Reads of the rectification ledger (整改清单): summary figures for the cockpit, completion
rates by department and source, the before/after indicator comparison for effect verification,
and the search for repeated problems (反复出现的问题)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from sizhen.core.access import VIEW, Actor
from sizhen.indicators.catalogue.choices import Direction, SourceKind
from sizhen.indicators.catalogue.models import Indicator, IndicatorValue
from sizhen.organisations.models import Region
from sizhen.rectification.choices import Source, Trend
from sizhen.rectification.models import RectificationItem
from sizhen.rectification.workflow import ACTIVE_STATES, CLOSED

#: When a region has values of several source kinds for one period, the first one counts (the
#: same order as the indicator pages).
SOURCE_PREFERENCE: tuple[str, ...] = (
    SourceKind.RECORDS,
    SourceKind.FILLING,
    SourceKind.AGGREGATE,
    SourceKind.SURVEY,
    SourceKind.COMPOSITE,
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
    return round(closed * 100 / total, 1) if total else 0.0


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


# --- effect verification --------------------------------------------------------------------


def _preferred(values: Iterable[IndicatorValue]) -> dict[dt.date, IndicatorValue]:
    chosen: dict[dt.date, IndicatorValue] = {}
    for value in values:
        if value.value is None:
            continue
        current = chosen.get(value.period)
        if current is None or _rank(value.source_kind) < _rank(current.source_kind):
            chosen[value.period] = value
    return dict(sorted(chosen.items()))


def _rank(kind: str) -> int:
    return SOURCE_PREFERENCE.index(kind) if kind in SOURCE_PREFERENCE else len(SOURCE_PREFERENCE)


def trend_of(indicator: Indicator, before: float | None, after: float | None) -> str:
    if before is None or after is None:
        return Trend.NO_DATA
    if after == before:
        return Trend.UNCHANGED
    higher_better = indicator.direction != Direction.LOWER_IS_BETTER
    return Trend.BETTER if (after > before) == higher_better else Trend.WORSE


def effect_rows(item: RectificationItem) -> list[dict[str, Any]]:
    """For each linked indicator, the item's region's value in the last period before the item
    was opened and in the latest period since, with the direction given the indicator's
    polarity. Values are read from the precomputed ``IndicatorValue`` rows only."""
    opened = timezone.localtime(item.created_at).date().replace(day=1)
    rows = []
    for indicator in item.indicators.order_by("sort_order", "code"):
        series = _preferred(
            IndicatorValue.objects.filter(indicator=indicator, region_id=item.region_id)
        )
        before_periods = [p for p in series if p < opened]
        before_period = before_periods[-1] if before_periods else None
        after_periods = [p for p in series if p >= opened]
        after_period = after_periods[-1] if after_periods else None
        before = series[before_period].value if before_period else None
        after = series[after_period].value if after_period else None
        trend = trend_of(indicator, before, after)
        rows.append(
            {
                "indicator_id": indicator.pk,
                "code": indicator.code,
                "name": indicator.name,
                "unit": indicator.unit,
                "direction": indicator.direction,
                "before_period": before_period.isoformat() if before_period else None,
                "before": before,
                "after_period": after_period.isoformat() if after_period else None,
                "after": after,
                "change": None if before is None or after is None else round(after - before, 4),
                "trend": trend,
                "trend_label": Trend(trend).label,
            }
        )
    return rows


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
    their lead department, and the counts. Two queries."""
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
