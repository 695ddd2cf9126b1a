"""Reads for the city leaders' cockpit (市领导驾驶舱, leader cockpit) and the command-centre big
screen (大屏, big screen). Everything comes from precomputed composite ``IndicatorValue`` rows
(the overall index "BE" and its first-level indicators) and, when the monitoring app provides
it, the open alerts; nothing is computed from records.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps

from sizhen.dashboards.selectors import period_label, shift_period
from sizhen.indicators.choices import SourceKind
from sizhen.indicators.models import Indicator, IndicatorValue
from sizhen.organisations.models import Region

ROOT_CODE = "BE"
CHANGE_COUNT = 5
#: Alert states that still need someone's attention; the monitoring app owns the lifecycle.
OPEN_ALERT_STATUSES = ("open", "acknowledged", "assigned")
ALERT_SEVERITIES: tuple[tuple[str, str], ...] = (
    ("red", "红色"),
    ("orange", "橙色"),
    ("yellow", "黄色"),
    ("blue", "蓝色"),
)


@dataclass
class HistoryPoint:
    period: dt.date
    label: str
    score: float | None


@dataclass
class DistrictScore:
    region: Region
    score: float | None
    rank: int | None
    rank_total: int | None


@dataclass
class ScoreChange:
    """A first-level indicator or a district whose score moved against the previous period."""

    code: str
    name: str
    previous: float
    current: float

    @property
    def change(self) -> float:
        return self.current - self.previous


@dataclass
class AlertCount:
    severity: str
    label: str
    count: int


@dataclass
class Cockpit:
    root: Indicator | None
    city: Region | None
    period: dt.date | None = None
    previous_period: dt.date | None = None
    index: IndicatorValue | None = None
    previous_index: IndicatorValue | None = None
    history: list[HistoryPoint] = field(default_factory=list)
    districts: list[DistrictScore] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    #: One row per district (best overall rank first), one cell per first-level indicator.
    matrix: list[list[float | None]] = field(default_factory=list)
    indicators_up: list[ScoreChange] = field(default_factory=list)
    indicators_down: list[ScoreChange] = field(default_factory=list)
    districts_up: list[ScoreChange] = field(default_factory=list)
    districts_down: list[ScoreChange] = field(default_factory=list)
    #: First-level indicators with a city score this period and the previous one: a composite
    #: over fewer indicators than last period is not comparable, and leaders must see that.
    coverage: int = 0
    previous_coverage: int = 0
    #: None while the monitoring app has no Alert model.
    alerts: list[AlertCount] | None = None

    @property
    def frequency(self) -> str:
        return self.root.frequency if self.root else "month"

    @property
    def period_label(self) -> str:
        return period_label(self.period, self.frequency) if self.period else ""

    @property
    def previous_label(self) -> str:
        return period_label(self.previous_period, self.frequency) if self.previous_period else ""

    @property
    def index_change(self) -> float | None:
        if self.index is None or self.previous_index is None:
            return None
        if self.index.score is None or self.previous_index.score is None:
            return None
        return self.index.score - self.previous_index.score

    @property
    def computed_at(self) -> dt.datetime | None:
        return self.index.computed_at if self.index else None

    @property
    def alert_total(self) -> int:
        return sum(a.count for a in self.alerts or [])

    def heatmap_rows(self) -> list[dict[str, Any]]:
        return [
            {"district": district, "cells": cells}
            for district, cells in zip(self.districts, self.matrix, strict=True)
        ]

    def history_chart(self) -> dict[str, Any]:
        return {
            "type": "line",
            "unit": "分",
            "categories": [p.label for p in self.history],
            "series": [
                {
                    "name": self.city.name if self.city else "",
                    "data": [p.score for p in self.history],
                }
            ],
        }

    def districts_chart(self) -> dict[str, Any]:
        return {
            "type": "bar",
            "unit": "分",
            "categories": [d.region.name for d in self.districts],
            "series": [{"name": "总分", "data": [d.score for d in self.districts]}],
            "ranks": [d.rank for d in self.districts],
        }

    def heatmap_chart(self) -> dict[str, Any]:
        scores = [cell for row in self.matrix for cell in row if cell is not None]
        return {
            "type": "heatmap",
            "categories": [f"{i.code} {i.name}" for i in self.indicators],
            "rows": [d.region.name for d in self.districts],
            "data": [
                [x, y, cell]
                for y, row in enumerate(self.matrix)
                for x, cell in enumerate(row)
                if cell is not None
            ],
            "min": min(scores) if scores else 0,
            "max": max(scores) if scores else 100,
        }


def _composite(actor: Any) -> Any:
    return IndicatorValue.objects.visible_to(actor).filter(source_kind=SourceKind.COMPOSITE)


def _changes(
    current: dict[Any, float | None],
    previous: dict[Any, float | None],
    labels: dict[Any, tuple[str, str]],
) -> tuple[list[ScoreChange], list[ScoreChange]]:
    moved = [
        ScoreChange(labels[key][0], labels[key][1], before, after)
        for key, after in current.items()
        if after is not None and (before := previous.get(key)) is not None and after != before
    ]
    up = sorted((c for c in moved if c.change > 0), key=lambda c: (-c.change, c.code))
    down = sorted((c for c in moved if c.change < 0), key=lambda c: (c.change, c.code))
    return up[:CHANGE_COUNT], down[:CHANGE_COUNT]


def alert_model() -> Any:
    """The monitoring app's Alert model, looked up at run time so that the cockpit works (and
    says so) before that app ships it, without importing monitoring internals."""
    try:
        return apps.get_model("monitoring", "Alert")
    except LookupError:
        return None


def get_alert_counts(actor: Any) -> list[AlertCount] | None:
    """Open alerts by severity, or None while the monitoring app has no Alert model."""
    model = alert_model()
    if model is None:
        return None
    manager = model.objects
    queryset = manager.visible_to(actor) if hasattr(manager, "visible_to") else manager.all()
    counts = Counter(
        queryset.filter(status__in=OPEN_ALERT_STATUSES).values_list("severity", flat=True)
    )
    return [AlertCount(code, label, counts.get(code, 0)) for code, label in ALERT_SEVERITIES]


def get_cockpit(actor: Any) -> Cockpit:
    """The whole picture for one screen: the latest overall index of the city, its history, the
    districts' scores and ranks, the district x first-level indicator grid and what moved."""
    root = Indicator.objects.visible_to(actor).filter(code=ROOT_CODE).first()
    city = Region.objects.visible_to(actor).filter(parent__isnull=True).order_by("path").first()
    cockpit = Cockpit(root=root, city=city, alerts=get_alert_counts(actor))
    if root is None or city is None:
        return cockpit
    values = _composite(actor)
    index_rows = list(
        values.filter(indicator=root, region=city, score__isnull=False).order_by("period")
    )
    cockpit.history = [
        HistoryPoint(v.period, period_label(v.period, root.frequency), v.score) for v in index_rows
    ]
    if not index_rows:
        return cockpit
    by_period = {v.period: v for v in index_rows}
    cockpit.index = index_rows[-1]
    cockpit.period = cockpit.index.period
    cockpit.previous_period = shift_period(cockpit.period, root.frequency, -1)
    cockpit.previous_index = by_period.get(cockpit.previous_period)
    periods = (cockpit.period, cockpit.previous_period)

    # Districts are the city's direct children: the regions the engine ranks against each other.
    district_values = list(
        values.filter(indicator=root, region__parent=city, period__in=periods).select_related(
            "region"
        )
    )
    latest = [v for v in district_values if v.period == cockpit.period]
    cockpit.districts = sorted(
        (DistrictScore(v.region, v.score, v.rank, v.rank_total) for v in latest),
        key=lambda d: (d.rank is None, d.rank or 0, d.region.code),
    )
    cockpit.indicators = list(
        Indicator.objects.visible_to(actor)
        .filter(parent=root, is_active=True)
        .order_by("sort_order", "code")
    )
    cells = {
        (v.indicator_id, v.region_id): v.score
        for v in values.filter(
            indicator__in=cockpit.indicators, region__parent=city, period=cockpit.period
        )
    }
    cockpit.matrix = [
        [cells.get((i.pk, d.region.pk)) for i in cockpit.indicators] for d in cockpit.districts
    ]

    first_level: dict[dt.date, dict[int, float | None]] = {p: {} for p in periods}
    for v in values.filter(indicator__in=cockpit.indicators, region=city, period__in=periods):
        first_level[v.period][v.indicator_id] = v.score
    cockpit.coverage = sum(v is not None for v in first_level[cockpit.period].values())
    cockpit.previous_coverage = sum(
        v is not None for v in first_level[cockpit.previous_period].values()
    )
    cockpit.indicators_up, cockpit.indicators_down = _changes(
        first_level[cockpit.period],
        first_level[cockpit.previous_period],
        {i.pk: (i.code, i.name) for i in cockpit.indicators},
    )
    district_scores: dict[dt.date, dict[int, float | None]] = {p: {} for p in periods}
    for v in district_values:
        district_scores[v.period][v.region_id] = v.score
    cockpit.districts_up, cockpit.districts_down = _changes(
        district_scores[cockpit.period],
        district_scores[cockpit.previous_period],
        {v.region_id: (v.region.code, v.region.name) for v in district_values},
    )
    return cockpit
