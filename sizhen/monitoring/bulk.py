"""Bulk mode of the alert scan (批量扫描): the reads of a province-sized catalogue (tens of
thousands of indicator × region series). Above ``settings.SIZHEN_ALERT_EXACT_SERIES`` series
the scan reads every leaf value of the last ``HISTORY_MONTHS`` in one query per source kind
instead of one query per indicator, and the goalposts and benchmarks in two. What it finds is
what the per-indicator mode finds: both call the same checks (``scan.find_indicator`` for
cross-sections and targets, ``scan.find_series`` for the series rule). See
docs/alerts-detection.md ("Two execution modes").
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection

from sizhen.core.periods import Period
from sizhen.indicators.catalogue.choices import SourceKind
from sizhen.indicators.catalogue.models import Benchmark, Goalpost, Indicator, IndicatorValue
from sizhen.monitoring import series
from sizhen.monitoring.models import SKEWED_UNITS
from sizhen.organisations.models import Region

#: Below this many series the scan runs the exact per-series path (STL, Hampel, level shifts).
DEFAULT_EXACT_SERIES = 2_000


def counted(indicator: Indicator) -> bool:
    """Whether the indicator's values are means or rates over counted records (办件), whose
    case count (``IndicatorValue.observations``) tells how noisy each month is: computed from
    records, and not itself a count or an amount."""
    return indicator.source_kind == SourceKind.RECORDS and indicator.unit not in SKEWED_UNITS


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


#: History the bulk scan reads before the earliest checked month: what the series rule looks at.
HISTORY_MONTHS = series.HISTORY_MONTHS


def history_start(wanted: list[dt.date] | None, today: dt.date) -> dt.date:
    """First month the bulk scan reads: ``HISTORY_MONTHS`` before the earliest wanted month,
    or before today less a year when the scan checks each indicator's latest month (a
    source may lag)."""
    anchor = min(wanted) if wanted else today
    return Period.containing(anchor).shift(-HISTORY_MONTHS - (0 if wanted else 12)).start


def load_values(indicators: Iterable[Indicator], since: dt.date | None = None) -> pd.DataFrame:
    """All non-null values of the given indicators from their own source kind, as a frame
    (indicator_id, region_id, period as datetime64, value, cases: the observations behind
    the value). One sequential read per source
    kind with a plain cursor, filtered to the indicators afterwards: an ``IN`` list of
    thousands of ids walks the index row by row, and the ORM would build millions of model
    tuples through its date converters. ``since`` drops older months."""
    by_kind: dict[str, set[int]] = defaultdict(set)
    weighted: set[str] = set()
    for indicator in indicators:
        by_kind[indicator.source_kind].add(indicator.pk)
        if counted(indicator):
            weighted.add(indicator.source_kind)
    table = connection.ops.quote_name(IndicatorValue._meta.db_table)
    keys, values, cases = [], [], []
    for kind, ids in by_kind.items():
        # The case counts only where a mean or rate over counted records needs them: a third
        # column costs a sixth more of the read. Only constants are interpolated (the model's
        # table, the packing expression, the column); the source kind is a bound parameter.
        count_sql = "observations" if kind in weighted else "0"
        sql = f"SELECT {_packed_key_sql()}, value, {count_sql} FROM {table} WHERE source_kind = %s AND value IS NOT NULL AND period >= %s"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, [kind, since or dt.date.min])
            block = cursor.fetchall()
        if not block:
            continue
        key = np.fromiter((row[0] for row in block), dtype=np.int64, count=len(block))
        value = np.fromiter((row[1] for row in block), dtype=float, count=len(block))
        count = np.fromiter((row[2] for row in block), dtype=np.int64, count=len(block))
        indicator_of = key // (_REGION_SPAN * _MONTH_SPAN)
        keep = np.isin(indicator_of, np.fromiter(ids, dtype=np.int64))
        keys.append(key[keep])
        values.append(value[keep])
        cases.append(count[keep])
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
            "cases": np.concatenate(cases) if cases else np.empty(0, dtype=np.int64),
        }
    )


def checked_rows(
    frame: pd.DataFrame, wanted: list[dt.date] | None
) -> dict[int, list[tuple[int, dt.date, float, int]]]:
    """Per indicator: the rows of its checked periods (its latest period, or the wanted periods
    it has): region, period, value and the observations behind the value."""
    if frame.empty:
        return {}
    if wanted:
        stamps = pd.DatetimeIndex([pd.Timestamp(p) for p in wanted])
        subset = frame[frame["period"].isin(stamps)]
    else:
        latest = frame.groupby("indicator_id")["period"].max()
        subset = frame[frame["period"].to_numpy() == latest.reindex(frame["indicator_id"]).values]
    out: dict[int, list[tuple[int, dt.date, float, int]]] = {}
    for indicator_id, group in subset.groupby("indicator_id", sort=False):
        rows = [
            (int(region_id), period.date(), float(value), int(cases))
            for region_id, period, value, cases in zip(
                group["region_id"], group["period"], group["value"], group["cases"], strict=True
            )
        ]
        out[int(indicator_id)] = rows
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


__all__ = [
    "DEFAULT_EXACT_SERIES",
    "checked_rows",
    "counted",
    "exact_series_limit",
    "load_values",
    "preload_targets",
    "use_bulk",
]
