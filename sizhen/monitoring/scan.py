"""Alert scans (预警扫描): read computed indicator values, run the detection library, and hand
the findings to the alert service. Runs after each recompute and every 6 hours."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import Any

import pandas as pd
from django.utils import timezone

from sizhen.core.jobs import JobContext, job, schedule
from sizhen.indicators.choices import Frequency
from sizhen.indicators.engine.definitions import DEFINITIONS
from sizhen.indicators.filling import OPEN_STATES
from sizhen.indicators.filling_models import FillingTask
from sizhen.indicators.models import (
    Benchmark,
    Dataset,
    Goalpost,
    Indicator,
    IndicatorValue,
    PullSource,
)
from sizhen.indicators.selectors_loads import list_dataset_freshness
from sizhen.monitoring import detection
from sizhen.monitoring.notify import send_alert_digest
from sizhen.monitoring.services import ScanFinding, ScanResult, apply_scan_findings
from sizhen.organisations.choices import RegionLevel
from sizhen.organisations.models import Region

_FREQ: dict[str, detection.Freq] = {
    Frequency.MONTH: "M",
    Frequency.QUARTER: "Q",
    Frequency.YEAR: "Y",
}


def _leaf_indicators() -> list[Indicator]:
    parents = set(
        Indicator.objects.filter(parent__isnull=False).values_list("parent_id", flat=True)
    )
    return [i for i in Indicator.objects.filter(is_active=True) if i.pk not in parents]


def _keep(found: dict[tuple[int, int, str], ScanFinding], item: ScanFinding) -> None:
    """One alert per (indicator, region, kind): of several findings in one scan keep the latest
    period, then the strongest statistic, so one scan counts as one occurrence."""
    key = (item.indicator.pk, item.region.pk, item.finding.kind)
    current = found.get(key)
    if current is None:
        found[key] = item
        return
    new, old = item.finding, current.finding
    new_rank = (new.period or dt.date.min, abs(new.score))
    old_rank = (old.period or dt.date.min, abs(old.score))
    if new_rank > old_rank:
        found[key] = item


def find_indicator(
    indicator: Indicator, regions: dict[int, Region], periods: Iterable[dt.date] | None
) -> list[ScanFinding]:
    """Findings for one leaf indicator from the values of its own source kind."""
    rows: list[tuple[int, dt.date, float, str]] = [
        (region_id, period, value, frequency)
        for region_id, period, value, frequency in IndicatorValue.objects.filter(
            indicator=indicator, source_kind=indicator.source_kind
        ).values_list("region_id", "period", "value", "frequency")
        if value is not None
    ]
    if not rows:
        return []
    frequency = rows[0][3]
    freq = _FREQ.get(frequency, "M")
    all_periods = sorted({period for _, period, _, _ in rows})
    checked = sorted(set(periods) & set(all_periods)) if periods else all_periods[-1:]
    if not checked:
        return []
    names: dict[Hashable, str] = {pk: r.name for pk, r in regions.items()}
    found: dict[tuple[int, int, str], ScanFinding] = {}

    # Cross-section: each region against its siblings (the districts of the city) per period.
    by_parent: dict[tuple[int | None, dt.date], dict[Hashable, float]] = defaultdict(dict)
    for region_id, period, value, _ in rows:
        region = regions.get(region_id)
        if region is not None and region.parent_id is not None:
            by_parent[(region.parent_id, period)][region_id] = value
    for (_, period), values in by_parent.items():
        if period not in checked:
            continue
        for f in detection.cross_sectional(
            values, period=period, freq=freq, indicator_name=indicator.name, region_names=names
        ):
            _keep(found, ScanFinding(indicator, regions[f.region], f))  # type: ignore[index]

    # Targets: each checked value against the goalposts and the benchmark cities of its period.
    for item in _target_findings(indicator, rows, checked, regions, freq):
        _keep(found, item)

    # Series: each region's own monthly history, checked at every requested period.
    if freq == "M":
        series_of: dict[int, dict[dt.date, float]] = defaultdict(dict)
        for region_id, period, value, _ in rows:
            if region_id in regions:
                series_of[region_id][period] = value
        last = checked[-1]
        for region_id, points in series_of.items():
            series = pd.Series(points).sort_index()
            series.index = pd.DatetimeIndex(series.index)
            history = series[series.index <= pd.Timestamp(last)]
            if len(history) < 2:
                continue
            name = names[region_id]
            shift = detection.level_shift(
                history, "M", region=region_id, region_name=name, indicator_name=indicator.name
            )
            if shift is not None:
                _keep(found, ScanFinding(indicator, regions[region_id], shift))
            for period in checked:
                upto = history[history.index <= pd.Timestamp(period)]
                if len(upto) < 2 or upto.index[-1] != pd.Timestamp(period):
                    continue
                for f in detection.series_anomalies(
                    upto,
                    "M",
                    check_last=1,
                    baseline_from=shift.period if shift is not None else None,
                    region=region_id,
                    region_name=name,
                    indicator_name=indicator.name,
                ):
                    _keep(found, ScanFinding(indicator, regions[region_id], f))
    return list(found.values())


def _goalpost_of(goalposts: list[Goalpost], period: dt.date) -> Goalpost | None:
    for goalpost in goalposts:
        if goalpost.cycle.starts_on <= period <= goalpost.cycle.ends_on:
            return goalpost
    return None


def _target_findings(
    indicator: Indicator,
    rows: list[tuple[int, dt.date, float, str]],
    checked: list[dt.date],
    regions: dict[int, Region],
    freq: detection.Freq,
) -> list[ScanFinding]:
    """Goalpost breaches (未达目标) for every region, and the city's lag behind the best
    benchmark city (落后标杆城市), for the checked periods."""
    goalposts = list(Goalpost.objects.filter(indicator=indicator).select_related("cycle"))
    benchmarks: dict[dt.date, dict[str, float]] = defaultdict(dict)
    for city, period, value in Benchmark.objects.filter(
        indicator=indicator, period__in=checked
    ).values_list("city", "period", "value"):
        benchmarks[period][city] = value
    out: list[ScanFinding] = []
    for region_id, period, value, _ in rows:
        region = regions.get(region_id)
        if region is None or period not in checked:
            continue
        common: dict[str, Any] = {
            "region": region_id,
            "region_name": region.name,
            "period": period,
            "freq": freq,
            "indicator_name": indicator.name,
        }
        goalpost = _goalpost_of(goalposts, period)
        if goalpost is not None:
            try:
                breach = detection.goalpost_breach(
                    value,
                    goalpost.best,
                    goalpost.worst,
                    goalpost.target,
                    indicator.direction,
                    **common,
                )
            except ValueError:
                # Inconsistent goalposts are a catalogue error, not a finding about the region.
                breach = None
            if breach is not None:
                out.append(ScanFinding(indicator, region, breach))
        if region.level == RegionLevel.CITY and benchmarks.get(period):
            lag = detection.benchmark_lag(
                value,
                benchmarks[period],
                indicator.direction,
                **common,
            )
            if lag is not None:
                out.append(ScanFinding(indicator, region, lag))
    return out


def _city(regions: dict[int, Region]) -> Region | None:
    roots = [r for r in regions.values() if r.parent_id is None]
    return min(roots, key=lambda r: r.path) if roots else None


def find_stale_sources(regions: dict[int, Region], now: dt.datetime) -> list[ScanFinding]:
    """Datasets not refreshed within ``stale_after_days``, or with pull sources that never
    loaded, filed under the first indicator computed from them (datasets feeding no indicator
    are left to the data-load pages)."""
    city = _city(regions)
    if city is None:
        return []
    indicators = {i.code: i for i in Indicator.objects.filter(is_active=True)}
    pulled = set(PullSource.objects.filter(is_active=True).values_list("dataset_id", flat=True))
    out: list[ScanFinding] = []
    for freshness in list_dataset_freshness(Dataset.objects.order_by("code"), now=now):
        dataset = freshness.dataset
        if freshness.last_load_at is None and dataset.pk not in pulled:
            continue
        indicator = next(
            (
                indicators[d["indicator"]]
                for d in DEFINITIONS
                if d["dataset"] == dataset.code and d["indicator"] in indicators
            ),
            None,
        )
        if indicator is None:
            continue
        finding = detection.stale_source(
            dataset.name,
            freshness.lag_days,
            dataset.stale_after_days,
            region=city.pk,
            last_load=(
                timezone.localdate(freshness.last_load_at) if freshness.last_load_at else None
            ),
        )
        if finding is not None:
            out.append(ScanFinding(indicator, city, finding))
    return out


def find_overdue_filling(today: dt.date) -> list[ScanFinding]:
    """Filling tasks past their deadline and not submitted (逾期未报), one per indicator and
    region (the latest period wins, as for the other kinds)."""
    found: dict[tuple[int, int, str], ScanFinding] = {}
    tasks = FillingTask.objects.filter(status__in=OPEN_STATES, deadline__lt=today).select_related(
        "indicator", "region", "department"
    )
    for task in tasks:
        finding = detection.overdue_filling(
            (today - task.deadline).days,
            task.deadline,
            region=task.region_id,
            region_name=task.region.name,
            period=task.period,
            freq=_FREQ.get(task.indicator.frequency, "M"),
            indicator_name=task.indicator.name,
            department_name=task.department.name if task.department else "",
        )
        if finding is not None:
            _keep(found, ScanFinding(task.indicator, task.region, finding))
    return list(found.values())


def scan_indicator_values(
    periods: Iterable[dt.date] | None = None,
    *,
    actor: Any = None,
    ctx: JobContext | None = None,
    now: dt.datetime | None = None,
) -> ScanResult:
    """Scan every active leaf indicator; ``periods`` None checks each indicator's latest period.
    Stale sources and overdue filling are checked as of ``now``; the responsible people get one
    digest each of the alerts this scan created or re-opened."""
    now = now or timezone.now()
    wanted = sorted(set(periods)) if periods else None
    regions = {r.pk: r for r in Region.objects.all()}
    indicators = _leaf_indicators()
    findings: list[ScanFinding] = []
    for done, indicator in enumerate(indicators, start=1):
        findings.extend(find_indicator(indicator, regions, wanted))
        if ctx is not None:
            ctx.progress(done, len(indicators), f"已扫描 {indicator.name}")
    findings.extend(find_stale_sources(regions, now))
    findings.extend(find_overdue_filling(timezone.localdate(now)))
    result = apply_scan_findings(findings, actor=actor)
    send_alert_digest(result.fresh_ids)
    return result


@job("monitoring.scan", label="预警扫描")
def run_scan(ctx: JobContext, periods: list[str] | None = None) -> dict[str, int]:
    """Job entry point; ``periods`` as ISO dates ("2025-06-01") so the kwargs stay JSON."""
    parsed = [dt.date.fromisoformat(p) for p in periods] if periods else None
    return scan_indicator_values(parsed, ctx=ctx).as_dict()


schedule("monitoring.scan", every=dt.timedelta(hours=6))
