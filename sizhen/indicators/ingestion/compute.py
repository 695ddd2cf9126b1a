"""The indicator engine's driver: runs the compiled definitions on the analytical store and
writes ``IndicatorValue`` rows (with a watermark of which load they came from), then scores.

After a load only the periods and regions it touched are recomputed (and the regions'
ancestors, whose roll-ups include them); ``compute_indicators --full`` recomputes everything.
Recomputing twice gives identical rows."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import ibis
from django.db import transaction
from django.utils import timezone

from sizhen.core.jobs import JobContext, enqueue
from sizhen.indicators.catalogue.choices import SourceKind
from sizhen.indicators.catalogue.models import Indicator, IndicatorValue
from sizhen.indicators.ingestion.engine import store
from sizhen.indicators.ingestion.engine.compile import compile_group, group_key
from sizhen.indicators.ingestion.engine.definitions import DEFINITIONS, Definition
from sizhen.indicators.ingestion.models import LoadBatch
from sizhen.organisations.models import Region

logger = logging.getLogger(__name__)


@dataclass
class ComputeReport:
    definitions: int = 0
    values: int = 0
    periods: set[dt.date] = field(default_factory=set)
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "definitions": self.definitions,
            "values": self.values,
            "periods": len(self.periods),
            "skipped": self.skipped,
        }


def period_start(month: dt.date, frequency: str) -> dt.date:
    if frequency == "quarter":
        return dt.date(month.year, (month.month - 1) // 3 * 3 + 1, 1)
    if frequency == "year":
        return dt.date(month.year, 1, 1)
    return dt.date(month.year, month.month, 1)


def _affected(
    touched: Iterable[tuple[str, str]] | None, frequency: str
) -> tuple[set[dt.date] | None, set[str] | None]:
    if touched is None:
        return None, None
    pairs = list(touched)
    months = {dt.date(int(m[:4]), int(m[5:7]), 1) for _, m in pairs}
    periods = {period_start(m, frequency) for m in months}
    regions = {code for code, _ in pairs}
    paths = Region.objects.filter(code__in=regions).values_list("path", flat=True)
    ancestors = {code for path in paths for code in path.strip("/").split("/")}
    return periods, ancestors


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
    ).fetchall()[0]
    return bool(row and row[0])


def compute(
    *,
    touched: Iterable[tuple[str, str]] | None = None,
    definitions: list[Definition] | None = None,
    batch: LoadBatch | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
    ctx: JobContext | None = None,
) -> ComputeReport:
    """Recompute record-based values: all of them (touched=None) or only what a load touched."""
    report = ComputeReport()
    touched_list = list(touched) if touched is not None else None
    own = con is None
    connection = con or store.connect()
    try:
        store.sync_dimensions(connection)
        backend = ibis.duckdb.from_connection(connection)
        indicators = {i.code: i for i in Indicator.objects.filter(is_active=True)}
        regions = dict(Region.objects.values_list("code", "pk"))
        chosen = definitions if definitions is not None else DEFINITIONS
        groups: dict[tuple[str, str, str, str], list[Definition]] = {}
        for definition in chosen:
            if definition["indicator"] not in indicators:
                report.skipped.append(f"{definition['indicator']}：目录中没有该指标")
                continue
            if not _has_table(connection, f"records_{definition['dataset']}"):
                report.skipped.append(
                    f"{definition['indicator']}：数据集 {definition['dataset']} 尚无数据"
                )
                continue
            groups.setdefault(group_key(definition), []).append(definition)
        for index, (key, members) in enumerate(groups.items(), start=1):
            frequency = key[2]
            periods, ancestors = _affected(touched_list, frequency)
            if periods is not None and not periods:
                continue
            expression = compile_group(backend, members, periods=periods, ancestors=ancestors)
            table = expression.to_pyarrow()
            regions_column = table.column("region").to_pylist()
            periods_column = table.column("period").to_pylist()
            for i, definition in enumerate(members):
                rows = [
                    {
                        "region": region,
                        "period": period,
                        "value": value,
                        "numerator": numerator,
                        "denominator": denominator,
                        "observations": observations,
                    }
                    for region, period, value, numerator, denominator, observations in zip(
                        regions_column,
                        periods_column,
                        table.column(f"v{i}").to_pylist(),
                        table.column(f"n{i}").to_pylist(),
                        table.column(f"d{i}").to_pylist(),
                        table.column(f"o{i}").to_pylist(),
                        strict=True,
                    )
                    if observations
                ]
                written = _write_values(
                    indicators[definition["indicator"]],
                    frequency,
                    rows,
                    regions,
                    periods,
                    ancestors,
                    batch,
                )
                report.definitions += 1
                report.values += written
                report.periods.update(
                    p.date() if isinstance(p, dt.datetime) else p for p in periods_column
                )
            if periods:
                report.periods.update(periods)
            if ctx:
                ctx.progress(index, len(groups), f"已计算 {len(members)} 个指标口径")
    finally:
        if own:
            connection.close()
    _score(report.periods)
    return report


@transaction.atomic
def _write_values(
    indicator: Indicator,
    frequency: str,
    rows: list[dict[str, Any]],
    regions: dict[str, int],
    periods: set[dt.date] | None,
    ancestors: set[str] | None,
    batch: LoadBatch | None,
) -> int:
    """Replace the indicator's record-based values in the recomputed scope with the new ones."""
    scope = IndicatorValue.objects.filter(indicator=indicator, source_kind=SourceKind.RECORDS)
    if periods is not None:
        scope = scope.filter(period__in=periods)
    if ancestors is not None:
        scope = scope.filter(region__code__in=ancestors)
    existing = {(v.region_id, v.period): v for v in scope}
    now = timezone.now()
    to_create, to_update, seen = [], [], set()
    for row in rows:
        region_id = regions.get(row["region"])
        if region_id is None:
            continue
        period = row["period"]
        if isinstance(period, dt.datetime):
            period = period.date()
        key = (region_id, period)
        seen.add(key)
        fields = {
            "value": _clean(row["value"]),
            "numerator": _clean(row["numerator"]),
            "denominator": _clean(row["denominator"]),
            "observations": int(row["observations"] or 0),
        }
        current = existing.get(key)
        if current is None:
            to_create.append(
                IndicatorValue(
                    indicator=indicator,
                    region_id=region_id,
                    period=period,
                    frequency=frequency,
                    source_kind=SourceKind.RECORDS,
                    batch=batch,
                    computed_at=now,
                    **fields,
                )
            )
        elif any(getattr(current, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(current, k, v)
            current.batch = batch or current.batch
            current.computed_at = now
            to_update.append(current)
    stale = [v.pk for k, v in existing.items() if k not in seen]
    if stale:
        IndicatorValue.objects.filter(pk__in=stale).delete()
    IndicatorValue.objects.bulk_create(to_create, batch_size=2000)
    IndicatorValue.objects.bulk_update(
        to_update,
        ["value", "numerator", "denominator", "observations", "batch", "computed_at"],
        batch_size=2000,
    )
    return len(to_create) + len(to_update)


def _clean(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    if number != number:  # NaN
        return None
    return round(number, 10)


def _score(periods: set[dt.date]) -> None:
    if not periods:
        return
    try:
        from sizhen.indicators.scoring.services import score_periods
    except ImportError:  # pragma: no cover - scoring ships with the engine
        logger.warning("scoring module unavailable; values stored without scores")
        return
    score_periods(periods)


def schedule_recompute(batch: LoadBatch) -> None:
    """Called in the load's transaction: the recompute job is enqueued atomically with it."""
    if batch.touched:
        enqueue(
            "indicators.recompute",
            key=f"recompute:{batch.pk}",
            label=f"指标重算（批次 #{batch.pk}）",
            batch_id=batch.pk,
        )
