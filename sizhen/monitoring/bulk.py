"""Bulk mode of the alert scan (批量扫描): for a province-sized catalogue (tens of thousands of
indicator × region series) the per-series path of ``scan.find_indicator`` — robust STL with a
12-month backtest, ~20–40 ms a series — would take an hour. Above
``settings.SIZHEN_ALERT_EXACT_SERIES`` series the scan reads every leaf value in one query and
checks all monthly series at once with ``detection.scan_many`` (numpy, one pass): the
same-month year-on-year rule at the STL threshold for series of 36 months or more, the YoY or
Hampel rule below, and level shifts that start ``k`` months before the end. Cross-sectional
extremes, goalposts and benchmarks keep their exact per-indicator checks, on the checked
periods only. See docs/alerts-detection.md ("Bulk mode") for what differs from the exact path.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection

from sizhen.indicators.catalogue.choices import Frequency
from sizhen.indicators.catalogue.models import Benchmark, Goalpost, Indicator, IndicatorValue
from sizhen.monitoring import detection
from sizhen.monitoring.models import AlertKind
from sizhen.monitoring.rules import EffectiveRule
from sizhen.monitoring.services import ScanFinding
from sizhen.organisations.models import Region

#: Below this many series the scan runs the exact per-series path (STL, Hampel, level shifts).
DEFAULT_EXACT_SERIES = 2_000
_ID_FACTOR = 10_000_000  # series id = indicator id × factor + region id


def exact_series_limit() -> int:
    return int(getattr(settings, "SIZHEN_ALERT_EXACT_SERIES", DEFAULT_EXACT_SERIES))


def use_bulk(indicators: list[Indicator], regions: dict[int, Region]) -> bool:
    """Bulk mode when the catalogue could hold more series than the exact path handles; the
    product of leaves and regions bounds the series without reading any value."""
    if regions and max(regions) >= _REGION_SPAN:
        return False  # region ids beyond the packing (see load_values): keep the exact path
    return len(indicators) * len(regions) > exact_series_limit()


#: Packing of (indicator, region, month) into one integer per row: two Python objects cross
#: the driver per value instead of four, which is most of the read's cost.
_REGION_SPAN = 1_000_000
_MONTH_SPAN = 100_000  # month number = year × 12 + month − 1 (24,000–30,000 for 2000–2500)


def _packed_key_sql() -> str:
    """(indicator_id × regions + region_id) × months + month number, computed by the
    database; on PostgreSQL as bigint."""
    if connection.vendor == "postgresql":
        month = "(EXTRACT(YEAR FROM period)::bigint * 12 + EXTRACT(MONTH FROM period)::bigint - 1)"
        return f"((indicator_id::bigint * {_REGION_SPAN} + region_id) * {_MONTH_SPAN} + {month})"
    month = (
        "(CAST(substr(period, 1, 4) AS INTEGER) * 12 + CAST(substr(period, 6, 2) AS INTEGER) - 1)"
    )
    return f"((indicator_id * {_REGION_SPAN} + region_id) * {_MONTH_SPAN} + {month})"


#: History the bulk scan reads before the latest checked month: four years, enough for the
#: 36 months that hold a series to the STL threshold and for the seasonal level-shift window.
HISTORY_MONTHS = 48


def history_start(wanted: list[dt.date] | None, today: dt.date) -> dt.date:
    """First month the bulk scan reads: ``HISTORY_MONTHS`` before the earliest wanted month,
    or before today less a year when the scan checks each indicator's latest month (a
    source may lag)."""
    anchor = min(wanted) if wanted else today
    months = anchor.year * 12 + anchor.month - 1 - HISTORY_MONTHS - (0 if wanted else 12)
    return dt.date(months // 12, months % 12 + 1, 1)


def load_values(indicators: Iterable[Indicator], since: dt.date | None = None) -> pd.DataFrame:
    """All non-null values of the given indicators from their own source kind, as a frame
    (indicator_id, region_id, period as datetime64, value). One sequential read per source
    kind with a plain cursor, filtered to the indicators afterwards: an ``IN`` list of
    thousands of ids walks the index row by row, and the ORM would build millions of model
    tuples through its date converters. ``since`` drops older months."""
    by_kind: dict[str, set[int]] = defaultdict(set)
    for indicator in indicators:
        by_kind[indicator.source_kind].add(indicator.pk)
    table = connection.ops.quote_name(IndicatorValue._meta.db_table)
    keys, values = [], []
    for kind, ids in by_kind.items():
        # Only constants are interpolated (the model's table, the packing expression); the
        # source kind is a bound parameter.
        sql = f"SELECT {_packed_key_sql()}, value FROM {table} WHERE source_kind = %s AND value IS NOT NULL AND period >= %s"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, [kind, since or dt.date.min])
            block = cursor.fetchall()
        if not block:
            continue
        key = np.fromiter((row[0] for row in block), dtype=np.int64, count=len(block))
        value = np.fromiter((row[1] for row in block), dtype=float, count=len(block))
        indicator_of = key // (_REGION_SPAN * _MONTH_SPAN)
        keep = np.isin(indicator_of, np.fromiter(ids, dtype=np.int64))
        keys.append(key[keep])
        values.append(value[keep])
    key = np.concatenate(keys) if keys else np.empty(0, dtype=np.int64)
    series, month = np.divmod(key, _MONTH_SPAN)
    indicator_id, region_id = np.divmod(series, _REGION_SPAN)
    # month number → first day of the month, as datetime64[M] then [ns]
    period = ((month // 12 - 1970) * 12 + month % 12).astype("datetime64[M]")
    return pd.DataFrame(
        {
            "indicator_id": indicator_id,
            "region_id": region_id,
            "period": period.astype("datetime64[ns]"),
            "value": np.concatenate(values) if values else np.empty(0),
        }
    )


def checked_rows(
    frame: pd.DataFrame, wanted: list[dt.date] | None
) -> dict[int, tuple[list[tuple[int, dt.date, float, str]], pd.Timestamp]]:
    """Per indicator: the rows of its checked periods (its latest period, or the wanted periods
    it has) in the tuple shape ``find_indicator`` reads, and the last checked period."""
    if frame.empty:
        return {}
    latest = frame.groupby("indicator_id")["period"].max()
    if wanted:
        stamps = pd.DatetimeIndex([pd.Timestamp(p) for p in wanted])
        present = frame[frame["period"].isin(stamps)]
        last = present.groupby("indicator_id")["period"].max()
        subset = present
    else:
        last = latest
        subset = frame[frame["period"].to_numpy() == latest.reindex(frame["indicator_id"]).values]
    out: dict[int, tuple[list[tuple[int, dt.date, float, str]], pd.Timestamp]] = {}
    for indicator_id, group in subset.groupby("indicator_id", sort=False):
        rows = [
            (int(region_id), period.date(), float(value), "")
            for region_id, period, value in zip(
                group["region_id"], group["period"], group["value"], strict=True
            )
        ]
        out[int(indicator_id)] = (rows, last[indicator_id])  # type: ignore[index]
    return out


def preload_targets(
    indicators: list[Indicator], wanted_periods: set[dt.date]
) -> tuple[dict[int, list[Goalpost]], dict[int, dict[dt.date, dict[str, float]]]]:
    """Goalposts and benchmark values of all indicators in two queries."""
    goalposts: dict[int, list[Goalpost]] = defaultdict(list)
    for goalpost in Goalpost.objects.filter(indicator__in=indicators).select_related("cycle"):
        goalposts[goalpost.indicator_id].append(goalpost)
    benchmarks: dict[int, dict[dt.date, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for indicator_id, city, period, value in Benchmark.objects.filter(
        indicator__in=indicators, period__in=wanted_periods
    ).values_list("indicator_id", "city", "period", "value"):
        benchmarks[indicator_id][period][city] = value
    return goalposts, benchmarks


def _rule_key(rule: EffectiveRule) -> tuple[Any, ...]:
    return (
        rule.stl_threshold,
        rule.yoy_threshold,
        rule.hampel_threshold,
        rule.level_shift_threshold,
        rule.level_shift_points,
        rule.enabled(AlertKind.ABNORMAL_CHANGE),
        rule.enabled(AlertKind.LEVEL_SHIFT),
    )


def series_findings(
    frame: pd.DataFrame,
    indicators: dict[int, Indicator],
    last_checked: dict[int, pd.Timestamp],
    rules: dict[int, EffectiveRule],
    regions: dict[int, Region],
) -> list[ScanFinding]:
    """Abnormal changes and level shifts of every monthly series, one vectorised pass per group
    of indicators that share the rule's thresholds and the last checked month."""
    monthly = {
        pk
        for pk, indicator in indicators.items()
        if indicator.frequency == Frequency.MONTH and pk in last_checked
    }
    if frame.empty or not monthly:
        return []
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for pk in monthly:
        rule = rules[pk]
        key = _rule_key(rule)
        if key[-2] or key[-1]:  # some series kind enabled
            groups[(*key, last_checked[pk])].append(pk)
    out: list[ScanFinding] = []
    for key, members in groups.items():
        last = key[-1]
        part = frame[frame["indicator_id"].isin(members) & (frame["period"] <= last)]
        part = part[part["region_id"].isin(regions.keys())]
        if part.empty:
            continue
        series = pd.DataFrame(
            {
                "series_id": part["indicator_id"].to_numpy() * _ID_FACTOR
                + part["region_id"].to_numpy(),
                "period": part["period"].to_numpy(),
                "value": part["value"].to_numpy(),
            }
        )
        rule = rules[members[0]]
        found = detection.scan_many(
            series,
            long_threshold=rule.stl_threshold,
            short_threshold=rule.yoy_threshold,
            hampel_threshold=rule.hampel_threshold,
            shift_threshold=rule.level_shift_threshold,
            shift_points=rule.level_shift_points,
        )
        if found.empty:
            continue
        wanted_kinds = set()
        if key[-3]:
            wanted_kinds.add(AlertKind.ABNORMAL_CHANGE)
        if key[-2]:
            wanted_kinds.add(AlertKind.LEVEL_SHIFT)
        found = found[found["kind"].isin(wanted_kinds)]
        flagged = set(found["series_id"].tolist())
        points = _points_of(series, flagged)
        for row in found.itertuples(index=False):
            indicator_id, region_id = divmod(int(row.series_id), _ID_FACTOR)
            indicator, region = indicators[indicator_id], regions[region_id]
            finding = _finding(row, region, indicator, points[int(row.series_id)])
            out.append(
                ScanFinding(
                    indicator,
                    region,
                    finding,
                    rule=rules[indicator_id].describe(finding.method),
                )
            )
    return out


def _points_of(series: pd.DataFrame, flagged: set[int]) -> dict[int, list[tuple[dt.date, float]]]:
    """The data points each flagged series was judged on (the explanation shows them)."""
    picked = series[series["series_id"].isin(flagged)].sort_values(["series_id", "period"])
    out: dict[int, list[tuple[dt.date, float]]] = defaultdict(list)
    for series_id, period, value in zip(
        picked["series_id"], picked["period"], picked["value"], strict=True
    ):
        out[int(series_id)].append((pd.Timestamp(period).date(), float(value)))
    return out


def _finding(
    row: Any, region: Region, indicator: Indicator, points: list[tuple[dt.date, float]]
) -> detection.Finding:
    period = pd.Timestamp(row.period).date()
    value, expected = float(row.value), float(row.expected)
    lower, upper, score = float(row.lower), float(row.upper), float(row.score)
    subject = detection._subject(period, "M", region.name, indicator.name)
    fmt = detection._format_number
    if row.kind == AlertKind.LEVEL_SHIFT:
        explanation = (
            f"{subject} 自本月起持续偏离此前水平：近期中位数 {fmt(value)}，此前预期 "
            f"{fmt(lower)}–{fmt(upper)}（{detection.METHOD_LABELS[row.method]}：偏离 "
            f"{fmt(abs(score))} 倍稳健标准差；批量扫描）"
        )
    else:
        basis = "上年同月推算" if row.method == "yoy_same_month" else "上月推算"
        word = detection._direction_word(value - expected)
        explanation = (
            f"{subject} {fmt(value)}，较{basis}预期 {fmt(lower)}–{fmt(upper)} {word}"
            f"（{detection.METHOD_LABELS[row.method]}：偏离 {fmt(abs(score))} 倍稳健标准差；"
            "批量扫描）"
        )
    return detection.Finding(
        kind=row.kind,
        region=region.pk,
        period=period,
        value=value,
        expected=expected,
        lower=lower,
        upper=upper,
        method=row.method,
        score=score,
        severity=row.severity,
        points=points,
        explanation=explanation,
    )


__all__ = [
    "DEFAULT_EXACT_SERIES",
    "checked_rows",
    "exact_series_limit",
    "load_values",
    "preload_targets",
    "series_findings",
    "use_bulk",
]
