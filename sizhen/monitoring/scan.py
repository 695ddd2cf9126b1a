"""Alert scans (预警扫描): read computed indicator values, run the detection library with each
indicator's effective alert rule, and hand the findings (and what was checked, so cleared
conditions resolve) to the alert service. Runs after each recompute and every 6 hours."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import Any, cast

import numpy as np
import pandas as pd
from django.utils import timezone

from sizhen.core.access import Actor
from sizhen.core.jobs import JobContext, job, schedule
from sizhen.core.periods import MONTHS, Period
from sizhen.indicators.catalogue.choices import Frequency
from sizhen.indicators.catalogue.models import Benchmark, Goalpost, Indicator, IndicatorValue
from sizhen.indicators.filling.selectors import list_open_tasks_past_deadline
from sizhen.indicators.ingestion.models import Dataset, PullSource
from sizhen.indicators.ingestion.selectors import (
    list_dataset_freshness,
    list_indicator_codes_for_dataset,
)
from sizhen.monitoring import bulk, detection, series
from sizhen.monitoring.bulk import counted
from sizhen.monitoring.cases import load_overdue_cases, overdue_case_indicator
from sizhen.monitoring.models import Alert, AlertKind
from sizhen.monitoring.notify import send_alert_digest
from sizhen.monitoring.rules import EffectiveRule, RuleBook
from sizhen.monitoring.services import (
    CheckedScope,
    ScanFinding,
    ScanResult,
    apply_scan_findings,
)
from sizhen.organisations.choices import RegionLevel
from sizhen.organisations.models import Department, Region


def _frequency(value: str) -> detection.Freq:
    """The series' frequency (a value or indicator without one runs monthly)."""
    return cast(detection.Freq, value if value in MONTHS else "month")


def _leaf_indicators() -> list[Indicator]:
    parents = set(
        Indicator.objects.filter(parent__isnull=False).values_list("parent_id", flat=True)
    )
    return [i for i in Indicator.objects.filter(is_active=True) if i.pk not in parents]


Found = dict[tuple[int, int, str, str], ScanFinding]


def _item(
    indicator: Indicator,
    region: Region,
    finding: detection.Finding,
    rule: EffectiveRule,
    **extra: Any,
) -> ScanFinding:
    return ScanFinding(indicator, region, finding, rule=rule.describe(finding.method), **extra)


def _keep(found: Found, item: ScanFinding) -> None:
    """One alert per (indicator, region, kind, subject): of several findings in one scan keep
    the latest period, then the strongest statistic, so one scan counts as one occurrence."""
    key = item.key
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
    indicator: Indicator,
    regions: dict[int, Region],
    periods: Iterable[dt.date] | None,
    rule: EffectiveRule,
    *,
    rows: list[tuple[int, dt.date, float, str]] | None = None,
    cases: list[int] | None = None,
    check_series: bool = True,
    preloaded: tuple[list[Goalpost], dict[dt.date, dict[str, float]]] | None = None,
) -> tuple[list[ScanFinding], list[CheckedScope]]:
    """Findings for one leaf indicator from the values of its own source kind, with the rule's
    thresholds and kinds, and the goalpost/benchmark scopes the scan has judged. The bulk scan
    passes the ``rows`` of the checked periods it has read with their ``cases`` (the
    observations behind each value), ``check_series=False`` (it checks the
    series itself, all at once) and the goalposts and benchmarks it has ``preloaded``."""
    if rows is None:
        rows, cases = [], []
        for region_id, period, value, frequency, observations in IndicatorValue.objects.filter(
            indicator=indicator, source_kind=indicator.source_kind
        ).values_list("region_id", "period", "value", "frequency", "observations"):
            if value is not None:
                rows.append((region_id, period, value, frequency))
                cases.append(observations)
    cases = cases or [0] * len(rows)
    if not rows:
        return [], []
    freq = _frequency(rows[0][3] or indicator.frequency)
    all_periods = sorted({period for _, period, _, _ in rows})
    checked = sorted(set(periods) & set(all_periods)) if periods else all_periods[-1:]
    if not checked:
        return [], []
    names: dict[Hashable, str] = {pk: r.name for pk, r in regions.items()}
    found: Found = {}

    # Cross-section: each region against its siblings of the same tier per period (the
    # districts and counties of the city; the parks of the city apart, see _peer_tier).
    if rule.enabled(AlertKind.CROSS_SECTIONAL_EXTREME):
        by_parent: dict[tuple[int | None, str, dt.date], dict[Hashable, float]] = defaultdict(dict)
        counts: dict[tuple[Hashable, dt.date], int] = {}
        for (region_id, period, value, _), count in zip(rows, cases, strict=True):
            region = regions.get(region_id)
            if region is not None and region.parent_id is not None:
                by_parent[(region.parent_id, _peer_tier(region), period)][region_id] = value
                counts[(region_id, period)] = count
        weighted = counted(indicator)
        for (_, _, period), values in by_parent.items():
            if period not in checked:
                continue
            peers = {pk: counts[(pk, period)] for pk in values}
            # means and rates over counted cases: a funnel plot (see detection)
            funnel = weighted and all(count > 0 for count in peers.values())
            skewed = not funnel and rule.use_log_scale(indicator.unit, list(values.values()))
            extremes = detection.cross_sectional(
                values,
                skewed=skewed,
                threshold=rule.iqr_multiplier if skewed else rule.modified_z_threshold,
                cases=peers if funnel else None,
                share=indicator.value_bounds == (0.0, 100.0),
                period=period,
                freq=freq,
                indicator_name=indicator.name,
                region_names=names,
                bounds=indicator.value_bounds,
            )
            for f in extremes:
                _keep(found, _item(indicator, regions[f.region], f, rule))  # type: ignore[index]

    # Targets: each checked value against the goalposts and the benchmark cities of its period.
    targets, scopes = _target_findings(indicator, rows, checked, regions, freq, rule, preloaded)
    for item in targets:
        _keep(found, item)

    # Series: each region's own monthly history at every checked period, by the one series
    # rule that bulk mode applies to all indicators at once.
    if check_series:
        frame = pd.DataFrame(
            {
                "indicator_id": indicator.pk,
                "region_id": [row[0] for row in rows],
                "period": pd.to_datetime([row[1] for row in rows]),
                "value": [row[2] for row in rows],
                "cases": cases,
            }
        )
        for item in find_series(
            frame, {indicator.pk: indicator}, {indicator.pk: checked}, {indicator.pk: rule}, regions
        ):
            _keep(found, item)
    return list(found.values()), scopes


def _peer_tier(region: Region) -> str:
    """Who a region is compared with in a cross-section: districts and counties (县市区) with
    each other, parks (园区) with parks, towns with towns. A park handles a few dozen cases a
    month where a district handles hundreds, under other rules of the game; set among the
    districts its ordinary noise was the most common false alert (issue 18)."""
    return RegionLevel.DISTRICT if region.level == RegionLevel.COUNTY else region.level


def _series_rule_key(rule: EffectiveRule) -> tuple[Any, ...]:
    return (
        rule.stl_threshold,
        rule.yoy_threshold,
        rule.hampel_threshold,
        rule.hampel_window,
        rule.level_shift_threshold,
        rule.level_shift_points,
    )


def find_series(
    frame: pd.DataFrame,
    indicators: dict[int, Indicator],
    checked: dict[int, list[dt.date]],
    rules: dict[int, EffectiveRule],
    regions: dict[int, Region],
) -> list[ScanFinding]:
    """Abnormal changes (异常波动) and level shifts (水平突变) of the monthly series in
    ``frame`` (indicator_id, region_id, period, value) at each checked period of their
    indicator: one call of the series rule (``series.check_series``) per group of indicators
    that share the rule's thresholds and a checked period. Both execution modes of the scan
    call it, the exact mode with the values of one indicator, bulk mode with all of them, so
    they find the same alerts."""
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for pk, indicator in indicators.items():
        rule = rules[pk]
        if indicator.frequency != Frequency.MONTH or not (
            rule.enabled(AlertKind.ABNORMAL_CHANGE) or rule.enabled(AlertKind.LEVEL_SHIFT)
        ):
            continue
        for period in checked.get(pk, []):
            groups[(*_series_rule_key(rule), pd.Timestamp(period))].append(pk)
    if frame.empty or not groups:
        return []
    frame = frame[frame["region_id"].isin(list(regions))]
    # one integer per (indicator, region): the series rule pivots on it
    span = int(frame["region_id"].max()) + 1 if len(frame) else 1
    weighted = {pk for pk, indicator in indicators.items() if counted(indicator)}
    shares = {pk for pk in weighted if indicators[pk].value_bounds == (0.0, 100.0)}
    out: list[ScanFinding] = []
    for key, members in groups.items():
        part = frame[frame["indicator_id"].isin(members)]
        rule = rules[members[0]]
        found = series.check_series(
            pd.DataFrame(
                {
                    "series_id": part["indicator_id"].to_numpy() * span
                    + part["region_id"].to_numpy(),
                    "period": part["period"].to_numpy(),
                    "value": part["value"].to_numpy(),
                    # case counts only for means and rates over counted records (NaN: none)
                    "cases": np.where(
                        part["indicator_id"].isin(weighted) & (part["cases"] > 0),
                        part["cases"],
                        np.nan,
                    ),
                    "share": part["indicator_id"].isin(shares).to_numpy(),
                }
            ),
            key[-1],
            long_threshold=rule.stl_threshold,
            short_threshold=rule.yoy_threshold,
            hampel_threshold=rule.hampel_threshold,
            window=rule.hampel_window,
            shift_threshold=rule.level_shift_threshold,
            shift_points=rule.level_shift_points,
        )
        for row in found.itertuples(index=False):
            indicator_id, region_id = divmod(int(row.series_id), span)
            if not rules[indicator_id].enabled(row.kind):
                continue
            indicator, region = indicators[indicator_id], regions[region_id]
            finding = series.series_finding(
                row,
                region=region_id,
                region_name=region.name,
                indicator_name=indicator.name,
                shift_points=rule.level_shift_points,
                bounds=indicator.value_bounds,
            )
            out.append(_item(indicator, region, finding, rules[indicator_id]))
    return out


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
    rule: EffectiveRule,
    preloaded: tuple[list[Goalpost], dict[dt.date, dict[str, float]]] | None = None,
) -> tuple[list[ScanFinding], list[CheckedScope]]:
    """Goalpost breaches (未达目标) for every region, and the city's lag behind the best
    benchmark city (落后标杆城市), for the checked periods; with the scopes judged at the
    latest checked period (regions with a value there and a yardstick to judge it by)."""
    use_goalposts = rule.enabled(AlertKind.GOALPOST_BREACH)
    use_benchmarks = rule.enabled(AlertKind.BENCHMARK_LAG)
    goalposts: list[Goalpost] = []
    benchmarks: dict[dt.date, dict[str, float]] = defaultdict(dict)
    if preloaded is not None:
        goalposts = preloaded[0] if use_goalposts else []
        if use_benchmarks:
            benchmarks.update(preloaded[1])
    elif use_goalposts:
        goalposts = list(Goalpost.objects.filter(indicator=indicator).select_related("cycle"))
    if use_benchmarks and preloaded is None:
        for city, period, value in Benchmark.objects.filter(
            indicator=indicator, period__in=checked
        ).values_list("city", "period", "value"):
            benchmarks[period][city] = value
    latest = checked[-1]
    judged: dict[str, set[int]] = {AlertKind.GOALPOST_BREACH: set(), AlertKind.BENCHMARK_LAG: set()}
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
            "unit": indicator.unit,
        }
        goalpost = _goalpost_of(goalposts, period)
        if goalpost is not None and period == latest:
            judged[AlertKind.GOALPOST_BREACH].add(region_id)
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
                out.append(_item(indicator, region, breach, rule))
        if region.level == RegionLevel.CITY and benchmarks.get(period):
            if period == latest:
                judged[AlertKind.BENCHMARK_LAG].add(region_id)
            lag = detection.benchmark_lag(
                value,
                benchmarks[period],
                indicator.direction,
                **common,
            )
            if lag is not None:
                out.append(_item(indicator, region, lag, rule))
    scopes = [
        CheckedScope(indicator.pk, kind, latest, frozenset(ids))
        for kind, ids in judged.items()
        if ids
    ]
    return out, scopes


def _city(regions: dict[int, Region]) -> Region | None:
    roots = [r for r in regions.values() if r.parent_id is None]
    return min(roots, key=lambda r: r.path) if roots else None


def find_stale_sources(
    regions: dict[int, Region], now: dt.datetime, rules: RuleBook
) -> tuple[list[ScanFinding], list[CheckedScope]]:
    """Datasets not refreshed within their allowance (the rule's, else ``stale_after_days``),
    or with pull sources that never loaded, filed under the first indicator computed from them
    (datasets feeding no indicator are left to the data-load pages)."""
    city = _city(regions)
    if city is None:
        return [], []
    today = timezone.localdate(now)
    indicators = {i.code: i for i in Indicator.objects.filter(is_active=True)}
    pulled = set(PullSource.objects.filter(is_active=True).values_list("dataset_id", flat=True))
    out: list[ScanFinding] = []
    scopes: list[CheckedScope] = []
    for freshness in list_dataset_freshness(Dataset.objects.order_by("code"), now=now):
        dataset = freshness.dataset
        indicator = next(
            (
                indicators[code]
                for code in list_indicator_codes_for_dataset(dataset.code)
                if code in indicators
            ),
            None,
        )
        if indicator is None:
            continue
        rule = rules.for_indicator(indicator)
        if not rule.active(AlertKind.STALE_SOURCE, today):
            continue
        scopes.append(
            CheckedScope(indicator.pk, AlertKind.STALE_SOURCE, None, frozenset({city.pk}))
        )
        if freshness.last_load_at is None and dataset.pk not in pulled:
            continue
        allowance = rule.stale_after_days or dataset.stale_after_days
        finding = detection.stale_source(
            dataset.name,
            freshness.lag_days,
            allowance,
            region=city.pk,
            last_load=(
                timezone.localdate(freshness.last_load_at) if freshness.last_load_at else None
            ),
        )
        if finding is not None:
            out.append(_item(indicator, city, finding, rule))
    return out, scopes


def find_overdue_filling(
    today: dt.date, rules: RuleBook
) -> tuple[list[ScanFinding], list[CheckedScope]]:
    """Filling tasks past their deadline plus the rule's grace days and not submitted (逾期未报),
    one per indicator and region (the latest period wins, as for the other kinds). Every open
    task is looked at each scan, so each indicator with the kind active is a checked scope."""
    found: Found = {}
    tasks = list_open_tasks_past_deadline(today)
    for task in tasks:
        rule = rules.for_indicator(task.indicator)
        days = (today - task.deadline).days
        if not rule.active(AlertKind.OVERDUE_FILLING, today) or days <= rule.filling_grace_days:
            continue
        finding = detection.overdue_filling(
            days,
            task.deadline,
            region=task.region_id,
            region_name=task.region.name,
            period=task.period,
            freq=_frequency(task.indicator.frequency),
            indicator_name=task.indicator.name,
            department_name=task.department.name if task.department else "",
        )
        if finding is not None:
            _keep(found, _item(task.indicator, task.region, finding, rule))
    scopes = [
        CheckedScope(pk, AlertKind.OVERDUE_FILLING)
        for pk in Indicator.objects.values_list("pk", flat=True)
        if rules.for_indicator(pk).active(AlertKind.OVERDUE_FILLING, today)
    ]
    return list(found.values()), scopes


def find_overdue_cases(
    today: dt.date, rules: RuleBook
) -> tuple[list[ScanFinding], list[CheckedScope]]:
    """Government-service cases open beyond their promised limit at the end of the latest
    complete month (办件超期), one alert per department and district (see cases.py)."""
    indicator = overdue_case_indicator()
    if indicator is None:
        return [], []
    rule = rules.for_indicator(indicator)
    if not rule.active(AlertKind.OVERDUE_CASES, today):
        return [], []
    # Cases are judged at the end of the latest complete month.
    month = Period.containing(today).shift(-1)
    as_of = month.end
    rows = load_overdue_cases(as_of)
    if rows is None:
        return [], []
    period = month.start
    regions = {r.code: r for r in Region.objects.all()}
    departments = {d.code: d for d in Department.objects.all()}
    groups: dict[tuple[str, str], list[detection.OverdueCase]] = defaultdict(list)
    for row in rows:
        groups[(row.region_code, row.department_code)].append(
            detection.OverdueCase(row.case_id, row.item_name, row.overdue_days)
        )
    out: list[ScanFinding] = []
    for (region_code, department_code), cases in groups.items():
        region = regions.get(region_code)
        if region is None:
            continue
        department = departments.get(department_code)
        finding = detection.overdue_cases(
            cases,
            as_of,
            minimum=rule.overdue_cases_minimum,
            region=region.pk,
            region_name=region.name,
            department_name=department.name if department else department_code,
            period=period,
            indicator_name=indicator.name,
        )
        if finding is not None:
            out.append(
                _item(
                    indicator,
                    region,
                    finding,
                    rule,
                    subject=department_code,
                    department=department,
                )
            )
    return out, [CheckedScope(indicator.pk, AlertKind.OVERDUE_CASES, period)]


def _worth_telling(alert_ids: list[int], rules: RuleBook) -> list[int]:
    """The fresh alerts at or above their rule's minimum severity to notify."""
    return [
        pk
        for pk, indicator_id, severity in Alert.objects.filter(pk__in=alert_ids).values_list(
            "pk", "indicator_id", "severity"
        )
        if rules.for_indicator(indicator_id).notifies(severity)
    ]


def scan_indicator_values(
    periods: Iterable[dt.date] | None = None,
    *,
    actor: Actor | None = None,
    ctx: JobContext | None = None,
    now: dt.datetime | None = None,
) -> ScanResult:
    """Scan every active leaf indicator with its effective alert rule (muted ones are skipped);
    ``periods`` None checks each indicator's latest period. Stale sources, overdue filling and
    overdue cases are checked as of ``now``. Alerts of clearable kinds the scan no longer sees
    are resolved; the responsible people get one digest each of the alerts this scan created
    or re-opened at or above their rule's minimum severity."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    wanted = sorted(set(periods)) if periods else None
    rules = RuleBook()
    regions = {r.pk: r for r in Region.objects.all()}
    indicators = _leaf_indicators()
    findings: list[ScanFinding] = []
    checked: list[CheckedScope] = []
    if bulk.use_bulk(indicators, regions):
        findings, checked = _scan_bulk(indicators, regions, wanted, rules, today, ctx)
    else:
        for done, indicator in enumerate(indicators, start=1):
            rule = rules.for_indicator(indicator)
            if not rule.muted(today):
                found, scopes = find_indicator(indicator, regions, wanted, rule)
                findings.extend(found)
                checked.extend(scopes)
            if ctx is not None:
                ctx.progress(done, len(indicators), f"已扫描 {indicator.name}")
    for find in (
        lambda: find_stale_sources(regions, now, rules),
        lambda: find_overdue_filling(today, rules),
        lambda: find_overdue_cases(today, rules),
    ):
        found, scopes = find()
        findings.extend(found)
        checked.extend(scopes)
    result = apply_scan_findings(findings, actor=actor, checked=checked)
    send_alert_digest(_worth_telling(result.fresh_ids, rules))
    return result


def _scan_bulk(
    indicators: list[Indicator],
    regions: dict[int, Region],
    wanted: list[dt.date] | None,
    rules: RuleBook,
    today: dt.date,
    ctx: JobContext | None,
) -> tuple[list[ScanFinding], list[CheckedScope]]:
    """The bulk scan (see ``bulk``): one read of every leaf value, the series checked all at
    once, and the per-indicator cross-section and targets on the checked periods only."""
    live = [i for i in indicators if not rules.for_indicator(i).muted(today)]
    by_id = {i.pk: i for i in live}
    frame = bulk.load_values(live, since=bulk.history_start(wanted, today))
    per_indicator = bulk.checked_rows(frame, wanted)
    periods = {row[1] for rows in per_indicator.values() for row in rows}
    goalposts, benchmarks = bulk.preload_targets(live, periods)
    rule_of = {pk: rules.for_indicator(pk) for pk in by_id}
    findings: list[ScanFinding] = []
    checked: list[CheckedScope] = []
    for done, (pk, rows) in enumerate(per_indicator.items(), start=1):
        indicator = by_id[pk]
        found, scopes = find_indicator(
            indicator,
            regions,
            wanted,
            rule_of[pk],
            rows=[(r, p, v, indicator.frequency) for r, p, v, _ in rows],
            cases=[count for _, _, _, count in rows],
            check_series=False,
            preloaded=(goalposts.get(pk, []), benchmarks.get(pk, {})),
        )
        findings.extend(found)
        checked.extend(scopes)
        if ctx is not None and done % 100 == 0:
            ctx.progress(done, len(per_indicator) + 1, "已完成截面与目标检查")
    checked_periods = {pk: sorted({row[1] for row in rows}) for pk, rows in per_indicator.items()}
    series_found: Found = {}
    for item in find_series(frame, by_id, checked_periods, rule_of, regions):
        _keep(series_found, item)
    findings.extend(series_found.values())
    if ctx is not None:
        ctx.progress(len(per_indicator) + 1, len(per_indicator) + 1, "已完成序列批量检查")
    return findings, checked


@job("monitoring.scan", label="预警扫描")
def run_scan(ctx: JobContext, periods: list[str] | None = None) -> dict[str, int]:
    """Job entry point; ``periods`` as ISO dates ("2025-06-01") so the kwargs stay JSON."""
    parsed = [dt.date.fromisoformat(p) for p in periods] if periods else None
    return scan_indicator_values(parsed, ctx=ctx).as_dict()


schedule("monitoring.scan", every=dt.timedelta(hours=6))
