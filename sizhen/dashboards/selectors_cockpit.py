"""Reads for the city leaders' cockpit (市领导驾驶舱, leader cockpit) and the command-centre big
screen (大屏, big screen). The scores come from precomputed composite ``IndicatorValue`` rows
(the overall index "BE" and its first-level indicators); nothing is computed from records. The
work panels (alerts, work tasks, the rectification ledger, enterprise requests) read each
domain app's own selectors, scoped to the viewer, in a few aggregate queries each.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils import timezone

from sizhen.core.access import Actor, scope_key
from sizhen.core.periods import Period
from sizhen.core.versions import VersionedCache
from sizhen.dashboards.attribution import Attribution, attribute
from sizhen.dashboards.departments import LineRow, lines_for_cockpit
from sizhen.enterprise_requests import analysis as request_analysis
from sizhen.enterprise_requests import selectors as request_selectors
from sizhen.indicators.catalogue.changes import VALUES
from sizhen.indicators.catalogue.choices import SourceKind
from sizhen.indicators.catalogue.completeness import Headline, latest_complete_period
from sizhen.indicators.catalogue.models import (
    DepartmentIndicatorValue,
    Indicator,
    IndicatorValue,
)
from sizhen.monitoring.models import Alert, Severity
from sizhen.monitoring.workflow import ACKNOWLEDGED, ASSIGNED, CONVERTED, OPEN
from sizhen.organisations.models import Region
from sizhen.rectification.selectors import ledger_summary
from sizhen.work_tasks import selectors as task_selectors
from sizhen.work_tasks.choices import Timeliness
from sizhen.work_tasks.models import TaskAssignment

ROOT_CODE = "BE"
#: Provisional periods named beside the headline (the newest; older ones are in the history).
PROVISIONAL_SHOWN = 3
PROVISIONAL_MARK = "（暂定）"
CHANGE_COUNT = 5
#: Alerts nobody has disposed of yet (未处置): the monitoring app's active states less
#: ``converted``. A converted alert is handled elsewhere, as a work task or a rectification item
#: that the cockpit counts in its own panel, so counting it here too would show one problem
#: twice; the panel says how many alerts were converted instead.
OPEN_ALERT_STATUSES = (OPEN, ACKNOWLEDGED, ASSIGNED)
#: How many overdue work tasks the cockpit lists by name (the most overdue first).
OVERDUE_TASK_COUNT = 5


@dataclass
class HistoryPoint:
    period: dt.date
    label: str
    score: float | None
    #: Not a complete period: a newer one its sources have not reported yet, or an older one
    #: scored from fewer first-level indicators than the index has had (a city connecting its
    #: sources step by step). Drawn as a hollow grey point, labelled with its coverage.
    incomplete: bool = False


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
class AlertPanel:
    counts: list[AlertCount]
    #: Active alerts turned into a work task or rectification item (not in ``counts``).
    converted: int = 0

    @property
    def total(self) -> int:
        return sum(a.count for a in self.counts)


@dataclass
class OverdueTask:
    assignment: TaskAssignment
    days_overdue: int


@dataclass
class TaskPanel:
    """Work-task assignments by how they were completed (提前/按期/逾期完成), the open ones and
    those open past their deadline; transferred sub-tasks are left out, as in the statistics."""

    early: int
    on_time: int
    late: int
    open: int
    overdue_open: int
    overdue: list[OverdueTask] = field(default_factory=list)

    @property
    def completed(self) -> int:
        return self.early + self.on_time + self.late

    @property
    def on_time_rate(self) -> float | None:
        """(early + on time) / (completed + open overdue), the statistics page's 按期完成率."""
        return task_selectors.on_time_rate(
            {
                "early": self.early,
                "on_time": self.on_time,
                "late": self.late,
                "overdue_open": self.overdue_open,
            }
        )

    def rows(self) -> list[tuple[str, str, int]]:
        labels = dict(Timeliness.choices)
        return [
            (Timeliness.EARLY, labels[Timeliness.EARLY], self.early),
            (Timeliness.ON_TIME, labels[Timeliness.ON_TIME], self.on_time),
            (Timeliness.LATE, labels[Timeliness.LATE], self.late),
        ]

    def chart(self) -> dict[str, Any]:
        rows = self.rows()
        return {
            "type": "bar",
            "unit": "项",
            "decimals": 0,
            "colours": ["#2e7d32", "#5470c6", "#c62828"],
            "categories": [label for _, label, _ in rows],
            "series": [{"name": "已完成任务", "data": [count for _, _, count in rows]}],
        }


@dataclass
class LedgerPanel:
    """The rectification ledger (整改清单): items, closed (销号), completion rate."""

    total: int
    closed: int
    rate: float
    overdue: int
    repeated: int


@dataclass
class RequestPanel:
    """Enterprise requests submitted this month and their rates (三率), plus the requests open
    past their deadline whenever submitted."""

    month: dt.date
    figures: request_analysis.Figures
    overdue_open: int

    @property
    def month_label(self) -> str:
        return f"{self.month:%Y-%m}"

    def rates(self) -> list[tuple[str, float | None]]:
        f = self.figures
        return [
            ("响应率", f.response_rate),
            ("解决率", f.resolution_rate),
            ("满意率", f.satisfaction_rate),
            ("超期率", f.overdue_rate),
        ]

    def chart(self) -> dict[str, Any]:
        rates = self.rates()
        return {
            "type": "bar",
            "unit": "%",
            "max": 100,
            "colours": ["#5470c6", "#2e7d32", "#91cc75", "#c62828"],
            "categories": [label for label, _ in rates],
            "series": [{"name": f"{self.month_label} 诉求", "data": [v for _, v in rates]}],
        }


@dataclass(frozen=True)
class ProvisionalPeriod:
    """A period newer than the headline whose sources have not all reported (暂定)."""

    label: str
    score: float | None
    coverage_text: str


@dataclass
class Cockpit:
    root: Indicator | None
    city: Region | None
    period: dt.date | None = None
    previous_period: dt.date | None = None
    #: The index's change from the previous period by first-level indicator (变化归因).
    attribution: Attribution | None = None
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
    #: Newer periods whose sources have not all reported (暂定): shown beside the headline with
    #: their index and coverage, never as the headline (``catalogue.completeness``).
    provisional: list[ProvisionalPeriod] = field(default_factory=list)
    #: City departments (their whole lines) worst first, for the month ``department_period``
    #: within the headline period (issue 18, departments as a dimension).
    department_lines: list[LineRow] = field(default_factory=list)
    department_period: dt.date | None = None
    alert_panel: AlertPanel | None = None
    tasks: TaskPanel | None = None
    ledger: LedgerPanel | None = None
    requests: RequestPanel | None = None

    @property
    def frequency(self) -> str:
        return self.root.frequency if self.root else "month"

    @property
    def period_label(self) -> str:
        return Period.containing(self.period, self.frequency).label if self.period else ""

    @property
    def previous_label(self) -> str:
        return (
            Period.containing(self.previous_period, self.frequency).label
            if self.previous_period
            else ""
        )

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
    def alerts(self) -> list[AlertCount] | None:
        return self.alert_panel.counts if self.alert_panel else None

    @property
    def alert_total(self) -> int:
        return self.alert_panel.total if self.alert_panel else 0

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
                    "data": [
                        {"value": p.score, "flag": "incomplete"} if p.incomplete else p.score
                        for p in self.history
                    ],
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


def _history(rows: list[IndicatorValue], headline: Headline, frequency: str) -> list[HistoryPoint]:
    """The index's history with each period that is not complete marked: newer than the
    headline and provisional (暂定), or older and scored from fewer first-level indicators
    than the most the index has had (``observations`` of a composite counts its children with
    a score), so that a jump when sources were connected is not read as a change."""
    full = max(
        (
            row.observations
            for row in rows
            if headline.period is not None and row.period <= headline.period
        ),
        default=0,
    )
    points = []
    for row in rows:
        label = Period.containing(row.period, frequency).label
        incomplete = False
        if headline.is_provisional(row.period):
            label, incomplete = label + PROVISIONAL_MARK, True
        elif (
            headline.period is not None
            and row.period < headline.period
            and (row.observations < full)
        ):
            label, incomplete = f"{label}（覆盖 {row.observations}/{full}）", True
        points.append(HistoryPoint(row.period, label, row.score, incomplete))
    return points


def _composite(actor: Actor) -> Any:
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


def get_alert_counts(actor: Actor) -> AlertPanel:
    """Open alerts by severity and the number converted, in one query."""
    queryset = Alert.objects.visible_to(actor)
    counts = Counter(
        queryset.filter(status__in=(*OPEN_ALERT_STATUSES, CONVERTED))
        .order_by()
        .values_list("severity", "status")
    )
    open_counts: Counter[str] = Counter()
    for (severity, status), n in counts.items():
        if status in OPEN_ALERT_STATUSES:
            open_counts[severity] += n
    converted = sum(n for (_, status), n in counts.items() if status == CONVERTED)
    return AlertPanel(
        [AlertCount(code, label, open_counts.get(code, 0)) for code, label in Severity.choices],
        converted,
    )


def get_task_panel(actor: Actor, today: dt.date) -> TaskPanel:
    """Two queries: the counts in one aggregate, the most overdue open assignments."""
    counts = task_selectors.completion_summary(actor, today, lead_only=True)
    overdue = (
        task_selectors.overdue_assignments(actor, today)
        .filter(parent__isnull=True)
        .order_by("deadline", "pk")[:OVERDUE_TASK_COUNT]
    )
    return TaskPanel(**counts, overdue=[OverdueTask(a, (today - a.deadline).days) for a in overdue])


def get_ledger_panel(actor: Actor) -> LedgerPanel:
    return LedgerPanel(**ledger_summary(actor))


def get_request_panel(actor: Actor, today: dt.date) -> RequestPanel:
    month = today.replace(day=1)
    figures = request_analysis.totals(
        actor, request_analysis.AnalysisFilter(first=month, last=month), today=today
    )
    visible = request_selectors.requests_visible_to(actor).order_by()
    overdue_open = request_selectors.overdue(visible, today).count()
    return RequestPanel(month, figures, overdue_open)


def today() -> dt.date:
    """The local date; tests replace it."""
    return timezone.localdate()


#: The cockpit's figures (everything but the work panels) by viewer scope and day, until the
#: indicator figures change (catalogue.changes; sizhen/core/versions.py).
FIGURES: VersionedCache[Cockpit] = VersionedCache("cockpit", depends_on=VALUES)


def get_cockpit(actor: Actor) -> Cockpit:
    """The whole picture for one screen: the overall index of the city for its newest complete
    period (newer provisional periods beside it, marked 暂定 with their coverage), its history, the
    districts' scores and ranks, the district x first-level indicator grid and what moved; and
    the work panels (alerts, tasks, rectification, requests), each scoped to the actor. The
    figures come from a versioned cache; the work panels are read on every call."""
    day = today()
    figures = FIGURES.get((scope_key(actor), day), lambda: _figures(actor, day))
    return replace(
        figures,
        alert_panel=get_alert_counts(actor),
        tasks=get_task_panel(actor, day),
        ledger=get_ledger_panel(actor),
        requests=get_request_panel(actor, day),
    )


def _figures(actor: Actor, day: dt.date) -> Cockpit:
    root = Indicator.objects.visible_to(actor).filter(code=ROOT_CODE).first()
    city = Region.objects.visible_to(actor).filter(parent__isnull=True).order_by("path").first()
    cockpit = Cockpit(root=root, city=city)
    if root is None or city is None:
        return cockpit
    values = _composite(actor)
    index_rows = list(
        values.filter(indicator=root, region=city, score__isnull=False).order_by("period")
    )
    if not index_rows:
        return cockpit
    headline = latest_complete_period(root, city, today=day)
    cockpit.history = _history(index_rows, headline, root.frequency)
    by_period = {v.period: v for v in index_rows}
    cockpit.indicators = list(
        Indicator.objects.visible_to(actor)
        .filter(parent=root, is_active=True)
        .order_by("sort_order", "code")
    )
    cockpit.provisional = [
        ProvisionalPeriod(
            Period.containing(state.period, root.frequency).label,
            by_period[state.period].score if state.period in by_period else None,
            state.coverage_text,
        )
        for state in headline.provisional[-PROVISIONAL_SHOWN:]
    ]
    if headline.period is None or headline.period not in by_period:
        return cockpit
    cockpit.index = by_period[headline.period]
    cockpit.period = cockpit.index.period
    cockpit.previous_period = Period.containing(cockpit.period, root.frequency).shift(-1).start
    cockpit.previous_index = by_period.get(cockpit.previous_period)
    cockpit.attribution = attribute(root, city, cockpit.period, actor=actor)
    cockpit.department_period = (
        DepartmentIndicatorValue.objects.visible_to(actor)
        .filter(
            period__gte=cockpit.period,
            period__lte=Period.containing(cockpit.period, root.frequency).end,
        )
        .order_by("-period")
        .values_list("period", flat=True)
        .first()
    )
    if cockpit.department_period is not None:
        cockpit.department_lines = lines_for_cockpit(cockpit.department_period, actor=actor)
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
