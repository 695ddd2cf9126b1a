"""Why a figure moved (变化归因, issue 18): the change of a region's value from the previous
period split into parts that add up to it.

- A leaf whose value is a ratio of sums (按时办结率 = on time / finished, 平均办理时间 = days /
  cases; the engine stores ``numerator`` and ``denominator``) is split by the region's direct
  subregions with the shift-share identity. With ``w`` a subregion's share of the region's
  denominator and ``r`` its value, the region's value is ``Σ w·r`` (plus what no subregion holds,
  市本级), and each subregion's part ``w'·r' − w·r`` is the sum of a rate effect ``w̄·Δr`` (its own
  value moved) and a mix effect ``Δw·(r̄ − R̄)`` (its weight moved; it raises the region when a
  better-than-average subregion grows), bars being the means of the two periods.
- A leaf whose region value is the sum of its subregions' (a count, 办件量) is split into each
  subregion's own change.
- A composite (a first-level indicator, the overall index) is a weighted mean of its children's
  scores: it is split by child indicator, ``(w/W)·Δs`` each.

Whatever the parts do not explain (records held by no subregion, a weight changed by the
evaluation cycle, a child that reported in one period only) is its own line, 其他, so that the
parts always add up to the change shown; nothing is hidden in rounding."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from sizhen.core.access import Actor
from sizhen.core.periods import Period
from sizhen.indicators.catalogue.models import Indicator, IndicatorValue
from sizhen.indicators.catalogue.selectors import source_rank
from sizhen.organisations.models import Region

#: Relative tolerance under which a region's value counts as the sum of its subregions'.
SUM_TOLERANCE = 1e-6


@dataclass
class Part:
    label: str
    previous: float | None
    current: float | None
    contribution: float
    rate_effect: float | None = None
    mix_effect: float | None = None
    link: str = ""


@dataclass
class Attribution:
    """The change of ``region``'s value of ``indicator`` from ``previous_period`` to
    ``period``: ``parts`` (largest first) plus ``other`` add up to ``change``."""

    indicator: Indicator
    region: Region
    period: dt.date
    previous_period: dt.date
    previous: float | None = None
    current: float | None = None
    method: str = ""  # "ratio", "sum", "children" or "" (not split, see ``reason``)
    parts: list[Part] = field(default_factory=list)
    other: float = 0.0
    reason: str = ""

    @property
    def change(self) -> float | None:
        if self.previous is None or self.current is None:
            return None
        return self.current - self.previous

    @property
    def by(self) -> str:
        return {"ratio": "区县", "sum": "区县", "children": "下级指标"}.get(self.method, "")

    def movers(self, count: int = 3) -> list[Part]:
        """The parts that moved the figure most, in the direction it moved."""
        change = self.change or 0.0
        same = [p for p in self.parts if p.contribution * change > 0]
        return same[:count]

    def rows(self) -> list[list[Any]]:
        """The table as the page and the export show it (values with two decimals)."""
        rows = [
            [
                p.label,
                _round(p.previous),
                _round(p.current),
                _round(p.contribution),
                _round(p.rate_effect),
                _round(p.mix_effect),
            ]
            for p in self.parts
        ]
        if self.parts and abs(self.other) >= 0.005:
            rows.append(["其他（未归属或构成变化）", None, None, _round(self.other), None, None])
        return rows


def attribute(
    indicator: Indicator, region: Region, period: dt.date, *, actor: Actor
) -> Attribution:
    """The change of the region's value from the period before ``period``, split."""
    previous_period = Period.containing(period, indicator.frequency).shift(-1).start
    result = Attribution(indicator, region, period, previous_period)
    values = IndicatorValue.objects.visible_to(actor).filter(
        period__in=(previous_period, period), value__isnull=False
    )
    own = _preferred(values.filter(indicator=indicator, region=region))
    result.previous, result.current = _value(own.get(previous_period)), _value(own.get(period))
    if result.change is None:
        result.reason = "上期或本期没有数值，无法分解变化。"
        return result
    if indicator.children.filter(is_active=True).exists():
        _by_children(result, values)
    else:
        _by_regions(result, values, own)
    result.parts.sort(key=lambda p: (-abs(p.contribution), p.label))
    return result


def _preferred(rows: Any) -> dict[dt.date, dict[str, Any]]:
    """Per period the row the pages show: records before aggregate before filling, as
    ``preferred_by_period`` ranks them."""
    chosen: dict[dt.date, dict[str, Any]] = {}
    for row in rows.values("period", "source_kind", "value", "score", "numerator", "denominator"):
        held = chosen.get(row["period"])
        if held is None or source_rank(row["source_kind"]) < source_rank(held["source_kind"]):
            chosen[row["period"]] = row
    return chosen


def _value(row: dict[str, Any] | None) -> float | None:
    return None if row is None else row["value"]


def _by_regions(result: Attribution, values: Any, own: dict[dt.date, dict[str, Any]]) -> None:
    subregions = list(Region.objects.filter(parent=result.region).order_by("code"))
    if not subregions:
        result.reason = "该区划没有下级区划，无法按区县分解。"
        return
    by_region: dict[int, dict[dt.date, dict[str, Any]]] = {}
    for row in values.filter(indicator=result.indicator, region__in=subregions).values(
        "region_id", "period", "source_kind", "value", "numerator", "denominator"
    ):
        held = by_region.setdefault(row["region_id"], {}).get(row["period"])
        if held is None or source_rank(row["source_kind"]) < source_rank(held["source_kind"]):
            by_region[row["region_id"]][row["period"]] = row
    before, after = own[result.previous_period], own[result.period]
    if _is_ratio(before, after, by_region, result):
        _ratio(result, subregions, by_region, before, after)
    elif _is_sum(before, after, by_region, result):
        _sum(result, subregions, by_region)
    else:
        result.reason = "该指标的全市数值不是各区县数值的汇总（如满意度得分），无法按区县分解。"
        return
    assert result.change is not None
    result.other = result.change - sum(p.contribution for p in result.parts)


def _is_ratio(before: dict, after: dict, by_region: dict, result: Attribution) -> bool:
    """Every row involved carries the sums its value is the ratio of."""
    rows = [before, after, *(row for periods in by_region.values() for row in periods.values())]
    return all(r["numerator"] is not None and r["denominator"] for r in rows)


def _is_sum(before: dict, after: dict, by_region: dict, result: Attribution) -> bool:
    for period, row in ((result.previous_period, before), (result.period, after)):
        parts = [p[period]["value"] for p in by_region.values() if period in p]
        if not parts or not math.isclose(sum(parts), row["value"], rel_tol=SUM_TOLERANCE):
            return False
    return True


def _ratio(
    result: Attribution,
    subregions: list[Region],
    by_region: dict[int, dict[dt.date, dict[str, Any]]],
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    result.method = "ratio"
    p0, p1 = result.previous_period, result.period
    mean_region = (before["value"] + after["value"]) / 2
    for region in subregions:
        rows = by_region.get(region.pk, {})
        r0 = rows[p0]["value"] if p0 in rows else None
        r1 = rows[p1]["value"] if p1 in rows else None
        w0 = rows[p0]["denominator"] / before["denominator"] if p0 in rows else 0.0
        w1 = rows[p1]["denominator"] / after["denominator"] if p1 in rows else 0.0
        if r0 is None and r1 is None:
            continue
        # A subregion present in one period only: its whole weight is new (or gone).
        a0, a1 = (r0 if r0 is not None else r1), (r1 if r1 is not None else r0)
        assert a0 is not None and a1 is not None
        rate = (w0 + w1) / 2 * (a1 - a0)
        mix = (w1 - w0) * ((a0 + a1) / 2 - mean_region)
        result.parts.append(
            Part(region.name, r0, r1, rate + mix, rate, mix, f"?region={region.code}")
        )


def _sum(
    result: Attribution,
    subregions: list[Region],
    by_region: dict[int, dict[dt.date, dict[str, Any]]],
) -> None:
    result.method = "sum"
    p0, p1 = result.previous_period, result.period
    for region in subregions:
        rows = by_region.get(region.pk, {})
        r0 = rows[p0]["value"] if p0 in rows else None
        r1 = rows[p1]["value"] if p1 in rows else None
        if r0 is None and r1 is None:
            continue
        result.parts.append(
            Part(region.name, r0, r1, (r1 or 0.0) - (r0 or 0.0), link=f"?region={region.code}")
        )


def _by_children(result: Attribution, values: Any) -> None:
    """A composite's change by child indicator: each child's weight share times the change of
    its score, over the children scored in both periods."""
    result.method = "children"
    children = list(result.indicator.children.filter(is_active=True).order_by("sort_order", "code"))
    scores: dict[int, dict[dt.date, float]] = {}
    for indicator_id, period, score in values.filter(
        indicator__in=children, region=result.region, score__isnull=False
    ).values_list("indicator_id", "period", "score"):
        scores.setdefault(indicator_id, {})[period] = score
    p0, p1 = result.previous_period, result.period
    both = [c for c in children if len(scores.get(c.pk, {})) == 2]
    total = sum(max(c.weight, 0.0) for c in both) or float(len(both)) or 1.0
    for child in both:
        s0, s1 = scores[child.pk][p0], scores[child.pk][p1]
        share = (max(child.weight, 0.0) if total else 1.0) / total
        result.parts.append(
            Part(f"{child.code} {child.name}", s0, s1, share * (s1 - s0), link=child.code)
        )
    assert result.change is not None
    result.other = result.change - sum(p.contribution for p in result.parts)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2) + 0.0
