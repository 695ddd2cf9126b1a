"""Demo values of the leaves no dataset computes, loaded after the records (``load_records``)
through the services a city uses: the figures departments hold (汇总数据导入) in one aggregate
import by the coordinating office; the districts' periodic filling (定期填报), each round opened,
each task filled and submitted by the district's filler and approved by the indicator's lead
department or the office; and two benchmark cities (标杆城市) in one benchmark import.

Every value follows the region's quality factor of the records (``region_quality``: 东湖区 leads,
青石市 lags, 南湾区 turns round after its rectification item closes), a slow improvement of the
whole city, and a little noise, inside the leaf's goalposts so that scores spread out."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from sizhen.core.models import Notification, TransitionHistory
from sizhen.core.periods import Period
from sizhen.core.roles import Role
from sizhen.core.sql import update_rows
from sizhen.core.xlsx import build_workbook
from sizhen.demo import data
from sizhen.indicators.catalogue.choices import Direction, Frequency, SourceKind
from sizhen.indicators.catalogue.imports import BENCHMARK_COLUMNS, import_benchmarks
from sizhen.indicators.catalogue.models import Goalpost, Indicator, IndicatorValue
from sizhen.indicators.filling.choices import FillingTarget
from sizhen.indicators.filling.imports import AGGREGATE_COLUMNS, import_aggregate_values
from sizhen.indicators.filling.models import FillingTask
from sizhen.indicators.filling.rounds import FILLING_REGION_LEVELS, open_filling_round
from sizhen.indicators.filling.services import approve_filling_tasks, submit_filling_tasks
from sizhen.indicators.ingestion.demo_records import month_starts, region_quality
from sizhen.indicators.scoring.formulas import MONTHS, dtf_score
from sizhen.organisations.models import Region

#: The demo's "today" for the rounds of the periods that have not ended yet (2026, 2026Q4):
#: opened at the start of the month after the window, as an early filling (预填).
ROUNDS_OPEN_BY = dt.date(2026, 12, 1)
#: Where a leaf's figures sit between its worst (0) and best (100) value for an average region;
#: the better regions sit above, the worse below. Chosen so the figures read plausibly.
BASE_SCORE: dict[str, float] = {
    "BE06.03": 60,  # 普惠小微贷款余额增速 ≈ 18 %
    "BE08.01": 85,  # 纳税次数 ≈ 12
    "BE08.02": 80,  # 纳税时间 ≈ 180 小时
    "BE08.03": 60,  # 总税收和缴费率 ≈ 49 %
    "BE09.01": 85,
    "BE09.02": 88,
    "BE09.03": 82,
    "BE09.04": 85,
    "BE10.02": 80,
    "BE11.02": 75,
    "BE11.05": 72,  # 企业注销时间 ≈ 6 工作日
    "BE12.04": 85,
    "BE15.05": 70,  # 政务服务好评率 ≈ 97 %
    "BE16.01": 20,  # 每万人口高价值发明专利 ≈ 24 件
    # The survey leaves sit near the demo survey's index (about 60–75 by district).
    "BE16.02": 70,
    "BE16.03": 45,  # 知识产权纠纷调解组织 ≈ 9 个
    "BE17.01": 90,
    "BE18.01": 50,
    "BE18.03": 40,
    "BE18.04": 68,
    "BE18.07": 70,
}
DEFAULT_BASE_SCORE = 70.0
#: Points a region gains for each 0.1 its quality factor is better than 1.
QUALITY_POINTS = 45.0
#: The whole city improves a little every year.
YEARLY_GAIN = 1.5
NOISE = 2.5
#: Benchmark cities and how much of the demo city's distance to the frontier each has closed.
BENCHMARK_CITIES = (("深圳市", 0.4), ("杭州市", 0.25))
BENCHMARK_SOURCE = "演示数据：虚构的标杆城市数值，仅供演示"


@dataclass(frozen=True)
class _Leaf:
    indicator: Indicator
    best: float
    worst: float


def window_periods(frequency: str) -> list[dt.date]:
    """The periods of a frequency that overlap the demo's 36 months."""
    return sorted({Period.containing(m, frequency).start for m in month_starts()})


def _period_quality(code: str, period: dt.date, frequency: str) -> float:
    window = set(month_starts())
    months = [Period.containing(period).shift(i).start for i in range(MONTHS[frequency])]
    inside = [m for m in months if m in window] or [period]
    return sum(region_quality(code, m) for m in inside) / len(inside)


def leaf_value(leaf: _Leaf, region_code: str, period: dt.date) -> float:
    """The demo figure of a leaf for a region and period (deterministic)."""
    indicator = leaf.indicator
    quality = _period_quality(region_code, period, indicator.frequency)
    noise = random.Random(f"{indicator.code}:{region_code}:{period}").gauss(0, NOISE)  # noqa: S311
    score = (
        BASE_SCORE.get(indicator.code, DEFAULT_BASE_SCORE)
        + QUALITY_POINTS * (1 - quality)
        + YEARLY_GAIN * (period.year - 2025)
        + noise
    )
    score = min(99.0, max(2.0, score))
    return _rounded(leaf, leaf.worst + (leaf.best - leaf.worst) * score / 100)


def _rounded(leaf: _Leaf, value: float) -> float:
    unit = leaf.indicator.unit
    if unit in ("个", "次/年", "元"):
        return float(round(value))
    if unit == "分" and max(leaf.best, leaf.worst) <= 30:
        return round(value * 2) / 2  # indices in half points, as the evaluations score them
    return round(value, 2 if unit == "%" else 1)


def _leaves(kinds: tuple[str, ...]) -> list[_Leaf]:
    goalposts = {
        g.indicator_id: (g.best, g.worst) for g in Goalpost.objects.filter(cycle__is_current=True)
    }
    out = []
    for indicator in Indicator.objects.filter(
        is_active=True, children__isnull=True, source_kind__in=kinds
    ).order_by("code"):
        if indicator.pk in goalposts:
            out.append(_Leaf(indicator, *goalposts[indicator.pk]))
    return out


def _city_regions() -> list[Region]:
    city = Region.objects.get(code=data.CITY_CODE)
    return list(Region.objects.filter(path__startswith=city.path).order_by("path"))


def _user(username: str) -> Any:
    return get_user_model().objects.get(username=username)


# --- aggregate imports -----------------------------------------------------------------------


def import_aggregates() -> int:
    """Every aggregate and survey leaf for every region and period of the window, and the city's
    figure of every filling leaf (the lead department's city-wide total; the districts fill
    theirs), in one import by the coordinating office. The request rates the load published
    (BE15.08–10) are kept; the import adds the months and regions without requests. A survey
    leaf's period that the satisfaction survey published (the surveys step) is left to it: the
    years before are the figures imported before the city ran its own survey."""
    regions = _city_regions()
    rows = []
    have = set(
        IndicatorValue.objects.filter(source_kind=SourceKind.AGGREGATE).values_list(
            "indicator_id", "region_id", "period"
        )
    )
    surveyed = set(
        IndicatorValue.objects.filter(source_kind=SourceKind.SURVEY).values_list(
            "indicator_id", "period"
        )
    )
    for leaf in _leaves((SourceKind.AGGREGATE, SourceKind.SURVEY, SourceKind.FILLING)):
        indicator = leaf.indicator
        targets = regions if indicator.source_kind != SourceKind.FILLING else regions[:1]
        for period in window_periods(indicator.frequency):
            if (indicator.pk, period) in surveyed:
                continue
            for region in targets:
                if (indicator.pk, region.pk, period) in have:
                    continue
                value = leaf_value(leaf, region.code, period)
                rows.append([indicator.code, region.code, f"{period:%Y-%m}", value])
    workbook = build_workbook([("汇总数据", [c.label for c in AGGREGATE_COLUMNS], rows)])
    report = import_aggregate_values(workbook, actor=_user("coordinator"))
    if not report.ok:
        raise RuntimeError(f"演示汇总数据导入失败：{report.errors[:3]}")
    return report.created + report.updated


# --- filling rounds --------------------------------------------------------------------------


def _fillers(regions: list[Region]) -> dict[int, Any]:
    """The district officer of each filling region: the demo account where there is one, else a
    filler account of the region (填报员, no password: nobody logs in as it)."""
    User = get_user_model()
    officers = {
        u.region_id: u
        for u in User.objects.filter(role=Role.DISTRICT_OFFICER, region__in=regions).order_by("pk")
        if u.region_id is not None
    }
    rng = random.Random("demo:fillers")  # noqa: S311 - fictional names
    now = timezone.now()
    for region in regions:
        if region.pk in officers:
            continue
        user = User(
            username=f"filler_{region.code.lower()}",
            full_name=rng.choice(data.SURNAMES) + rng.choice(data.GIVEN_NAMES),
            role=Role.DISTRICT_OFFICER,
            region=region,
            must_change_password=False,
            password_changed_at=now,
        )
        user.set_unusable_password()
        user.save()
        officers[region.pk] = user
    return officers


def _reviewer(indicator: Indicator, lead: Any, coordinator: Any) -> Any:
    """The lead department (牵头部门) reviews its own indicators; the office the others."""
    if lead is not None and indicator.lead_department_id == lead.department_id:
        return lead
    return coordinator


def _when(day: dt.date, hour: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def run_filling_rounds() -> int:
    """Every filling leaf for every district, county and park and every period of the window:
    one round a period (all the yearly leaves together), opened by the coordinating office
    after the period ends, each task submitted by its region's filler and approved in one batch
    a reviewer. The workflow stamps the actions with the time of the load; the demo then dates
    them as the round's calendar would have (submitted before the deadline, approved after)."""
    coordinator = _user("coordinator")
    lead = get_user_model().objects.filter(username="lead_dept").first()
    regions = [r for r in _city_regions() if r.level in FILLING_REGION_LEVELS]
    fillers = _fillers(regions)
    leaves = _leaves((SourceKind.FILLING,))
    by_frequency: dict[str, list[_Leaf]] = defaultdict(list)
    for leaf in leaves:
        by_frequency[leaf.indicator.frequency].append(leaf)
    started = timezone.now()
    rng = random.Random("demo:filling")  # noqa: S311 - fictional dates
    dates: dict[int, tuple[dt.datetime, dt.datetime]] = {}
    submitted: list[FillingTask] = []
    for frequency in (Frequency.YEAR, Frequency.QUARTER, Frequency.MONTH):
        group = by_frequency.get(frequency, [])
        if not group:
            continue
        by_code = {leaf.indicator.code: leaf for leaf in group}
        for period in window_periods(frequency):
            ends = _next_period(period, frequency)
            opened_on = min(ends + dt.timedelta(days=3), ROUNDS_OPEN_BY)
            filling_round = open_filling_round(
                actor=coordinator,
                indicators=[leaf.indicator for leaf in group],
                period=period,
                target=FillingTarget.DISTRICTS,
                opened_on=opened_on,
                title=f"{Period.containing(period, frequency).label_zh}定期填报",
            )
            by_filler: dict[int, list[tuple[FillingTask, float]]] = defaultdict(list)
            for task in filling_round.tasks.select_related("indicator", "region"):
                value = leaf_value(by_code[task.indicator.code], task.region.code, period)
                by_filler[task.region_id].append((task, value))
                day = opened_on + dt.timedelta(days=rng.randint(1, 8))
                dates[task.pk] = (
                    _when(day, 10),
                    _when(day + dt.timedelta(days=rng.randint(1, 4)), 15),
                )
            # Each district submits its figures of the round together.
            for region_id, entries in by_filler.items():
                submitted += submit_filling_tasks(entries, actor=fillers[region_id])
    # One batch a reviewer, so the scores are computed once for all the periods.
    batches: dict[Any, list[FillingTask]] = defaultdict(list)
    for task in submitted:
        batches[_reviewer(task.indicator, lead, coordinator)].append(task)
    approved = sum(
        len(approve_filling_tasks(batch, actor=reviewer)) for reviewer, batch in batches.items()
    )
    _date_the_rounds(dates, started)
    return approved


def _next_period(period: dt.date, frequency: str) -> dt.date:
    return Period(period, frequency).shift(1).start


def _date_the_rounds(dates: dict[int, tuple[dt.datetime, dt.datetime]], started: Any) -> None:
    now = timezone.now()
    tasks = list(FillingTask.objects.filter(pk__in=list(dates)))
    for task in tasks:
        task.submitted_at, task.approved_at = (min(d, now) for d in dates[task.pk])
    update_rows(FillingTask, tasks, ["submitted_at", "approved_at"])
    history = list(
        TransitionHistory.objects.filter(
            workflow="filling_task",
            object_id__in=[str(pk) for pk in dates],
            action__in=("submit", "approve"),
        )
    )
    for row in history:
        submitted, approved = dates[int(row.object_id)]
        row.at = min(submitted if row.action == "submit" else approved, now)
    update_rows(TransitionHistory, history, ["at"])
    # The notices of these past rounds were dealt with long ago.
    Notification.objects.filter(
        category="filling", created_at__gte=started, read_at__isnull=True
    ).update(read_at=now)


# --- benchmark cities ------------------------------------------------------------------------


def _toward_frontier(value: float, best: float, worst: float, share: float) -> float:
    if (best - value) * (best - worst) > 0:
        return value + (best - value) * share
    # Already at or beyond the frontier: a lower-is-better figure can still be a little lower.
    return value * (1 - share / 4) if best < worst else value


def import_benchmark_cities() -> int:
    """Two benchmark cities for every leaf and period the demo city has a value for, and their
    scores of every first-level indicator and the overall index for every month, in one
    benchmark import by the coordinating office."""
    city = Region.objects.get(code=data.CITY_CODE)
    leaves = {leaf.indicator.pk: leaf for leaf in _leaves(tuple(SourceKind.values))}
    preference: list[str] = [
        SourceKind.RECORDS,
        SourceKind.AGGREGATE,
        SourceKind.FILLING,
        SourceKind.SURVEY,
    ]
    city_values: dict[tuple[int, dt.date], tuple[int, float]] = {}
    for indicator_id, kind, period, value in IndicatorValue.objects.filter(
        region=city, indicator_id__in=list(leaves), value__isnull=False
    ).values_list("indicator_id", "source_kind", "period", "value"):
        rank = preference.index(kind) if kind in preference else len(preference)
        current = city_values.get((indicator_id, period))
        if value is not None and (current is None or rank < current[0]):
            city_values[(indicator_id, period)] = (rank, float(value))
    periods = {f: set(window_periods(f)) for f in Frequency.values}
    rows: list[list[Any]] = []
    bench: dict[tuple[str, int, dt.date], float] = {}
    for (indicator_id, period), (_rank, value) in sorted(city_values.items()):
        leaf = leaves[indicator_id]
        if period not in periods[leaf.indicator.frequency]:
            continue
        for name, share in BENCHMARK_CITIES:
            figure = _rounded(leaf, _toward_frontier(value, leaf.best, leaf.worst, share))
            bench[(name, indicator_id, period)] = figure
            rows.append([leaf.indicator.code, name, f"{period:%Y-%m}", figure, BENCHMARK_SOURCE])
    rows += _composite_benchmarks(leaves, bench)
    workbook = build_workbook([("标杆值", [c.label for c in BENCHMARK_COLUMNS], rows)])
    report = import_benchmarks(workbook, actor=_user("coordinator"))
    if not report.ok:
        raise RuntimeError(f"演示标杆值导入失败：{report.errors[:3]}")
    return report.created + report.updated


def _composite_benchmarks(
    leaves: dict[int, _Leaf], bench: dict[tuple[str, int, dt.date], float]
) -> list[list[Any]]:
    """Each benchmark city's score of every first-level indicator (the mean of its counted
    leaves' distance-to-frontier scores) and of the overall index, month by month."""
    root = Indicator.objects.get(parent__isnull=True, code="BE")
    first_level = list(Indicator.objects.filter(parent=root, is_active=True).order_by("code"))
    children: dict[int, list[_Leaf]] = defaultdict(list)
    for leaf in leaves.values():
        if leaf.indicator.weight > 0:
            children[leaf.indicator.parent_id or 0].append(leaf)
    rows: list[list[Any]] = []
    for name, _share in BENCHMARK_CITIES:
        for month in month_starts():
            overall = []
            for parent in first_level:
                scores = []
                for leaf in children[parent.pk]:
                    figure = bench.get(
                        (
                            name,
                            leaf.indicator.pk,
                            Period.containing(month, leaf.indicator.frequency).start,
                        )
                    )
                    score = dtf_score(
                        figure,
                        leaf.best,
                        leaf.worst,
                        leaf.indicator.direction or Direction.HIGHER_IS_BETTER,
                    )
                    if score is not None:
                        scores.append(score)
                if scores:
                    mean = round(sum(scores) / len(scores), 2)
                    overall.append(mean)
                    rows.append([parent.code, name, f"{month:%Y-%m}", mean, BENCHMARK_SOURCE])
            if overall:
                rows.append(
                    [root.code, name, f"{month:%Y-%m}", round(sum(overall) / len(overall), 2),
                     BENCHMARK_SOURCE]
                )  # fmt: skip
    return rows
