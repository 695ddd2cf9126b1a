"""Reads for the one-indicator page (一指标一页面, indicator page). Everything here reads
precomputed ``IndicatorValue`` rows through the actor's scope; nothing is computed from records.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

from sizhen.core.access import Actor
from sizhen.core.numbers import fixed
from sizhen.core.periods import MONTHS, Period
from sizhen.indicators.catalogue.choices import Direction, SourceKind
from sizhen.indicators.catalogue.completeness import (
    Headline,
    latest_complete_period,
    latest_complete_periods,
)
from sizhen.indicators.catalogue.models import Benchmark, Goalpost, Indicator, IndicatorValue
from sizhen.indicators.catalogue.selectors import source_rank
from sizhen.organisations.models import Region

LEADER_COUNT = 3
LAGGARD_COUNT = 3


def fixed2(number: float | None) -> str:
    """Two decimals as the page shows them; the template's floatformat costs ~10 µs a cell and
    the series table has hundreds of cells."""
    return fixed(number, 2)


class HasValue(Protocol):
    @property
    def period(self) -> dt.date: ...

    @property
    def source_kind(self) -> str: ...

    @property
    def value(self) -> float | None: ...


ValueT = TypeVar("ValueT", bound=HasValue)


@dataclass(frozen=True)
class ValuePoint:
    """One precomputed value as the page needs it: read as a plain row, because building 120
    model instances per page cost more than the query itself."""

    period: dt.date
    source_kind: str
    value: float | None
    score: float | None
    rank: int | None
    rank_total: int | None

    FIELDS: ClassVar[tuple[str, ...]] = (
        "period",
        "source_kind",
        "value",
        "score",
        "rank",
        "rank_total",
    )

    def get_source_kind_display(self) -> str:
        return str(SOURCE_KIND_LABELS.get(self.source_kind, self.source_kind))


SOURCE_KIND_LABELS: dict[str, str] = dict(SourceKind.choices)


def preferred_by_period(values: list[ValueT]) -> dict[dt.date, ValueT]:
    """One value per period: the source kind first in ``SOURCE_PREFERENCE``."""
    chosen: dict[dt.date, ValueT] = {}
    for value in values:
        if value.value is None:
            continue
        current = chosen.get(value.period)
        if current is None or source_rank(value.source_kind) < source_rank(current.source_kind):
            chosen[value.period] = value
    return dict(sorted(chosen.items()))


def preferred_by_region(values: list[IndicatorValue]) -> dict[int, IndicatorValue]:
    """One value per region (of one period): the source kind first in ``SOURCE_PREFERENCE``."""
    chosen: dict[int, IndicatorValue] = {}
    for value in values:
        current = chosen.get(value.region_id)
        if current is None or source_rank(value.source_kind) < source_rank(current.source_kind):
            chosen[value.region_id] = value
    return chosen


#: How a provisional period (暂定: its sources have not all reported) is marked on pages.
PROVISIONAL_MARK = "（暂定）"


@dataclass(frozen=True)
class Provisional:
    """A period newer than the headline whose sources have not all reported (暂定), shown
    beside the headline with its value and, for a composite, its coverage (覆盖 k/n)."""

    label: str
    value: ValuePoint | None
    coverage_text: str

    @property
    def text(self) -> str:
        figure = fixed2(self.value.value) if self.value else "—"
        coverage = f"，{self.coverage_text}" if self.coverage_text else ""
        return f"{self.label} 暂定 {figure}{coverage}"


def _provisional(
    headline: Headline, series: dict[dt.date, ValuePoint], frequency: str
) -> list[Provisional]:
    return [
        Provisional(
            Period.containing(s.period, frequency).label, series.get(s.period), s.coverage_text
        )
        for s in headline.provisional
        if s.period in series
    ]


@dataclass
class Change:
    """A change against an earlier period: month-on-month (环比) or year-on-year (同比)."""

    previous_period: dt.date
    label: str
    previous_value: float | None
    change: float | None = None
    change_percent: float | None = None
    improved: bool | None = None  # None: unchanged or nothing to compare

    @classmethod
    def between(
        cls, current: float, previous: HasValue | None, period: dt.date, indicator: Indicator
    ) -> Change:
        label = Period.containing(period, indicator.frequency).label
        if previous is None or previous.value is None:
            return cls(period, label, None)
        difference = current - previous.value
        percent = difference / abs(previous.value) * 100 if previous.value else None
        improved = None
        if difference:
            improved = (difference > 0) == (indicator.direction != Direction.LOWER_IS_BETTER)
        return cls(period, label, previous.value, difference, percent, improved)


@dataclass
class DistrictRow:
    region: Region
    value: float | None
    score: float | None
    rank: int | None
    rank_total: int | None
    flag: str = ""  # "leader" (前三) or "laggard" (后三)


@dataclass
class IndicatorOverview:
    indicator: Indicator
    region: Region
    direction_label: str
    current: ValuePoint | None = None
    month_on_month: Change | None = None
    year_on_year: Change | None = None
    target: float | None = None
    series: dict[dt.date, ValuePoint] = field(default_factory=dict)
    benchmarks: dict[str, dict[dt.date, float]] = field(default_factory=dict)
    districts: list[DistrictRow] = field(default_factory=list)
    source_kinds: list[str] = field(default_factory=list)
    sources_by_period: list[dict[str, Any]] = field(default_factory=list)
    children: list[dict[str, Any]] = field(default_factory=list)
    #: Newer periods than ``current`` whose sources have not all reported (暂定).
    provisional: list[Provisional] = field(default_factory=list)
    headline: Headline = field(default_factory=Headline)
    _series_rows: list[dict[str, Any]] | None = field(default=None, repr=False, compare=False)

    @property
    def current_label(self) -> str:
        return self.label(self.current.period) if self.current else ""

    def label(self, period: dt.date) -> str:
        mark = PROVISIONAL_MARK if self.headline.is_provisional(period) else ""
        return Period.containing(period, self.indicator.frequency).label + mark

    @property
    def chart_periods(self) -> list[dt.date]:
        periods = set(self.series)
        for by_period in self.benchmarks.values():
            periods.update(by_period)
        return sorted(periods)

    def series_rows(self) -> list[dict[str, Any]]:
        """One row per period: the region's value, the target and each benchmark city. Built
        once per page: the chart, the table and the export all read the same rows."""
        if self._series_rows is not None:
            return self._series_rows
        rows = []
        target_text = fixed2(self.target)
        cities = list(self.benchmarks.values())
        for period in self.chart_periods:
            value = self.series.get(period)
            benchmarks = [by_period.get(period) for by_period in cities]
            rows.append(
                {
                    "period": period,
                    "label": self.label(period),
                    "value": value.value if value else None,
                    "value_text": fixed2(value.value) if value else "—",
                    "source_kind": value.get_source_kind_display() if value else "",
                    "target": self.target,
                    "target_text": target_text,
                    "benchmarks": benchmarks,
                    "benchmarks_text": [fixed2(b) for b in benchmarks],
                }
            )
        self._series_rows = rows
        return rows

    def series_chart(self) -> dict[str, Any]:
        rows = self.series_rows()
        lines: list[dict[str, Any]] = [
            {"name": self.region.name, "data": [row["value"] for row in rows]}
        ]
        if self.target is not None:
            lines.append({"name": "目标值", "data": [self.target] * len(rows), "dashed": True})
        for index, city in enumerate(self.benchmarks):
            lines.append(
                {"name": f"标杆：{city}", "data": [row["benchmarks"][index] for row in rows]}
            )
        return {
            "type": "line",
            "unit": self.indicator.unit,
            "categories": [row["label"] for row in rows],
            "series": lines,
        }

    def districts_chart(self) -> dict[str, Any]:
        return {
            "type": "bar",
            "unit": self.indicator.unit,
            "categories": [row.region.name for row in self.districts],
            "series": [
                {
                    "name": "数值",
                    "data": [{"value": row.value, "flag": row.flag} for row in self.districts],
                }
            ],
        }


def default_region(actor: Actor) -> Region | None:
    """The city (root region) if the actor sees it, else the actor's own scope region."""
    root = Region.objects.visible_to(actor).filter(parent__isnull=True).order_by("path").first()
    return root or getattr(actor, "scope_region", None)


def current_target(indicator: Indicator) -> float | None:
    target: float | None = (
        Goalpost.objects.filter(indicator=indicator, cycle__is_current=True)
        .order_by("pk")
        .values_list("target", flat=True)
        .first()
    )
    return target


def _visible_values(actor: Actor, indicator: Indicator) -> Any:
    return IndicatorValue.objects.visible_to(actor).filter(indicator=indicator)


def get_indicator_overview(
    indicator: Indicator, region: Region, *, actor: Actor
) -> IndicatorOverview:
    region_values = [
        ValuePoint(*row)
        for row in _visible_values(actor, indicator)
        .filter(region=region, value__isnull=False)
        .order_by("period", "source_kind")
        .values_list(*ValuePoint.FIELDS)
    ]
    overview = IndicatorOverview(
        indicator=indicator,
        region=region,
        direction_label=Direction(indicator.direction).label
        if indicator.direction in Direction.values
        else indicator.direction,
        target=current_target(indicator),
    )
    overview.series = preferred_by_period(region_values)
    for city, period, value in (
        Benchmark.objects.visible_to(actor)
        .filter(indicator=indicator)
        .values_list("city", "period", "value")
    ):
        overview.benchmarks.setdefault(city, {})[period] = value
    overview.benchmarks = dict(sorted(overview.benchmarks.items()))
    _sources(overview, region_values)
    overview.children = _children(indicator, region, actor)
    if not overview.series:
        return overview
    # The headline is the newest complete period; newer ones are shown beside it as 暂定.
    overview.headline = latest_complete_period(indicator, region)
    overview.provisional = _provisional(overview.headline, overview.series, indicator.frequency)
    if overview.headline.period not in overview.series:
        return overview
    current = overview.series[overview.headline.period]
    overview.current = current
    frequency = indicator.frequency
    assert current.value is not None  # preferred_by_period keeps only values
    for attribute, steps in (("month_on_month", 1), ("year_on_year", 12 // MONTHS[frequency])):
        previous_period = Period.containing(current.period, frequency).shift(-steps).start
        previous = overview.series.get(previous_period)
        setattr(
            overview, attribute, Change.between(current.value, previous, previous_period, indicator)
        )
    overview.districts = _districts(indicator, current, actor)
    return overview


def _sources(overview: IndicatorOverview, values: list[ValuePoint]) -> None:
    kinds = sorted({v.source_kind for v in values}, key=source_rank)
    if len(kinds) < 2:
        return
    overview.source_kinds = [SourceKind(k).label if k in SourceKind.values else k for k in kinds]
    by_period: dict[dt.date, dict[str, float | None]] = {}
    for value in values:
        by_period.setdefault(value.period, {})[value.source_kind] = value.value
    overview.sources_by_period = [
        {
            "period": period,
            "label": overview.label(period),
            "values": [cells.get(kind) for kind in kinds],
        }
        for period, cells in sorted(by_period.items(), reverse=True)
    ]


def _districts(indicator: Indicator, current: ValuePoint, actor: Actor) -> list[DistrictRow]:
    """The city's districts for the current period and source kind, best rank first."""
    values = (
        _visible_values(actor, indicator)
        .filter(
            period=current.period,
            source_kind=current.source_kind,
            region__parent__isnull=False,
            region__parent__parent__isnull=True,
        )
        .select_related("region")
    )
    rows = sorted(
        (DistrictRow(v.region, v.value, v.score, v.rank, v.rank_total) for v in values),
        key=lambda row: (row.rank is None, row.rank or 0, row.region.code),
    )
    ranked = [row for row in rows if row.rank is not None]
    for row in ranked[:LEADER_COUNT]:
        row.flag = "leader"
    # With fewer than six ranked districts the leaders keep their mark.
    for row in ranked[max(LEADER_COUNT, len(ranked) - LAGGARD_COUNT) :]:
        row.flag = "laggard"
    return rows


def _children(indicator: Indicator, region: Region, actor: Actor) -> list[dict[str, Any]]:
    """Each active child indicator with its value at ``region`` for its newest complete period,
    and its newer provisional periods."""
    children = list(indicator.children.filter(is_active=True).order_by("sort_order", "code"))
    return latest_rows(children, region, actor)


def latest_rows(indicators: list[Indicator], region: Region, actor: Actor) -> list[dict[str, Any]]:
    """One row per indicator: its value at ``region`` for the newest complete period (the
    source kind first in ``SOURCE_PREFERENCE``), that period's label, and the newer provisional
    periods (暂定). A few queries whatever the number of indicators: the completeness checks,
    then the values of the periods shown, read as plain rows."""
    if not indicators:
        return []
    headlines = latest_complete_periods(indicators, region)
    shown = {
        day
        for headline in headlines.values()
        for day in (headline.period, *(s.period for s in headline.provisional))
        if day is not None
    }
    by_indicator: dict[int, list[ValuePoint]] = {}
    for indicator_id, *fields in (
        IndicatorValue.objects.visible_to(actor)
        .filter(
            indicator__in=[i.pk for i in indicators],
            region=region,
            value__isnull=False,
            period__in=shown,
        )
        .values_list("indicator_id", *ValuePoint.FIELDS)
    ):
        by_indicator.setdefault(indicator_id, []).append(ValuePoint(*fields))
    rows = []
    for indicator in indicators:
        headline = headlines.get(indicator.pk, Headline())
        chosen = preferred_by_period(by_indicator.get(indicator.pk, []))
        value = chosen.get(headline.period) if headline.period else None
        rows.append(
            {
                "indicator": indicator,
                "value": value,
                "label": Period.containing(value.period, indicator.frequency).label
                if value
                else "",
                "provisional": _provisional(headline, chosen, indicator.frequency),
            }
        )
    return rows


#: Alert states that still need someone's attention; the monitoring app owns the lifecycle.
OPEN_ALERT_STATUSES = ("open", "acknowledged", "assigned")
ALERT_LIMIT = 20
ALERT_FIELDS = (
    "severity",
    "kind",
    "status",
    "period",
    "explanation",
    "impact",
    "value",
    "expected",
    "lower",
    "upper",
    "region__name",
    "region__code",
)


def list_open_alerts(indicator: Indicator, region: Region, *, actor: Actor) -> list[Any]:
    """Open alerts (预警) on this indicator in the region's subtree that the actor may see, most
    impactful first."""
    from sizhen.monitoring.selectors import list_alerts

    # The list page's joins (indicator, department) are not shown here; dropping them halves
    # the cost of a query every indicator page runs.
    alerts = (
        list_alerts(actor)
        .select_related(None)
        .select_related("region")
        .only(*ALERT_FIELDS)
        .filter(
            indicator=indicator,
            status__in=OPEN_ALERT_STATUSES,
            region__path__startswith=region.path,
        )
    )
    shown = list(alerts[:ALERT_LIMIT])
    for alert in shown:
        alert.indicator = indicator  # their headline names it; no join for what the page has
    return shown


def list_first_level(actor: Actor) -> list[dict[str, Any]]:
    """First-level indicators (一级指标) with the city's value, score and rank for their newest
    complete period, and the newer provisional periods beside it."""
    indicators = list(
        Indicator.objects.visible_to(actor)
        .filter(is_active=True, parent__isnull=False, parent__parent__isnull=True)
        .order_by("sort_order", "code")
    )
    root = Region.objects.filter(parent__isnull=True).order_by("path").first()
    if root is None:
        return [{"indicator": i, "value": None, "label": "", "provisional": []} for i in indicators]
    return latest_rows(indicators, root, actor)
