"""Effect verification (整改效果核验): each linked indicator's value at the item's region before
the item was opened and since, read through the indicators' selectors only (an import-linter
contract keeps this module off the indicator models), and which indicators give no comparison,
for which a judgement of "有效" needs the reviewer's reason."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from sizhen.indicators.catalogue.choices import Direction
from sizhen.indicators.catalogue.selectors import get_before_after
from sizhen.rectification.choices import Trend
from sizhen.rectification.models import RectificationItem


def trend_of(direction: str, before: float | None, after: float | None) -> str:
    if before is None or after is None:
        return Trend.NO_DATA
    if after == before:
        return Trend.UNCHANGED
    higher_better = direction != Direction.LOWER_IS_BETTER
    return Trend.BETTER if (after > before) == higher_better else Trend.WORSE


#: Why a linked indicator gives no before/after comparison, by which side lacks a value.
MISSING_SIDE = {
    (True, True): "整改前后均无数据",
    (True, False): "整改前无数据",
    (False, True): "整改后无数据",
}


def effect_rows(item: RectificationItem) -> list[dict[str, Any]]:
    """For each linked indicator, the item's region's value in the last period before the item
    was opened and in the latest period since, with the direction given the indicator's
    polarity, and what is missing when there is no comparison. Values are the precomputed
    ones, read through the indicators' selectors."""
    opened = timezone.localtime(item.created_at).date().replace(day=1)
    rows = []
    for indicator in item.indicators.order_by("sort_order", "code"):
        found = get_before_after(indicator, item.region_id, opened)
        before, after = found.before, found.after
        trend = trend_of(indicator.direction, before, after)
        rows.append(
            {
                "indicator_id": indicator.pk,
                "code": indicator.code,
                "name": indicator.name,
                "unit": indicator.unit,
                "direction": indicator.direction,
                "before_period": found.before_period.isoformat() if found.before_period else None,
                "before": before,
                "after_period": found.after_period.isoformat() if found.after_period else None,
                "after": after,
                "change": None if before is None or after is None else round(after - before, 4),
                "trend": trend,
                "trend_label": Trend(trend).label,
                "missing": MISSING_SIDE.get((before is None, after is None), ""),
            }
        )
    return rows


def rows_without_data(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The effect rows whose indicator shows no before/after comparison."""
    return [row for row in rows if row["trend"] == Trend.NO_DATA]
