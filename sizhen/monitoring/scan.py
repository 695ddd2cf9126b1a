"""Alert scans (预警扫描): read computed indicator values, run the detection library, and hand
the findings to the alert service. Runs after each recompute and every 6 hours."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import Any

import pandas as pd

from sizhen.core.jobs import JobContext, job, schedule
from sizhen.indicators.choices import Frequency
from sizhen.indicators.models import Indicator, IndicatorValue
from sizhen.monitoring import detection
from sizhen.monitoring.services import ScanFinding, ScanResult, apply_scan_findings
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


def scan_indicator_values(
    periods: Iterable[dt.date] | None = None,
    *,
    actor: Any = None,
    ctx: JobContext | None = None,
) -> ScanResult:
    """Scan every active leaf indicator; ``periods`` None checks each indicator's latest period."""
    wanted = sorted(set(periods)) if periods else None
    regions = {r.pk: r for r in Region.objects.all()}
    indicators = _leaf_indicators()
    findings: list[ScanFinding] = []
    for done, indicator in enumerate(indicators, start=1):
        findings.extend(find_indicator(indicator, regions, wanted))
        if ctx is not None:
            ctx.progress(done, len(indicators), f"已扫描 {indicator.name}")
    return apply_scan_findings(findings, actor=actor)


@job("monitoring.scan", label="预警扫描")
def run_scan(ctx: JobContext, periods: list[str] | None = None) -> dict[str, int]:
    """Job entry point; ``periods`` as ISO dates ("2025-06-01") so the kwargs stay JSON."""
    parsed = [dt.date.fromisoformat(p) for p in periods] if periods else None
    return scan_indicator_values(parsed, ctx=ctx).as_dict()


schedule("monitoring.scan", every=dt.timedelta(hours=6))
