"""The indicator engine's driver: runs the compiled definitions on the analytical store and
writes ``IndicatorValue`` rows (with a watermark of which load they came from), then scores.

After a load only the periods and regions it touched are recomputed (and the regions'
ancestors, whose roll-ups include them); ``compute_indicators --full`` recomputes everything.
Recomputing twice gives identical rows."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import ibis
import pyarrow as pa
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from ibis.backends.duckdb.converter import DuckDBPyArrowData

from sizhen.core.jobs import JobContext, enqueue
from sizhen.core.periods import Period
from sizhen.core.sql import insert_rows, update_rows
from sizhen.indicators.catalogue.changes import values_changed
from sizhen.indicators.catalogue.choices import Direction, SourceKind
from sizhen.indicators.catalogue.models import (
    DepartmentIndicatorValue,
    Indicator,
    IndicatorValue,
)
from sizhen.indicators.ingestion.engine import store
from sizhen.indicators.ingestion.engine.compile import compile_group, group_key
from sizhen.indicators.ingestion.engine.definitions import DEFINITIONS, Definition
from sizhen.indicators.ingestion.models import Dataset, DatasetVersion, LoadBatch
from sizhen.indicators.scoring.formulas import competition_ranks
from sizhen.indicators.scoring.services import score_periods
from sizhen.organisations.models import Department, Region


@dataclass
class ComputeReport:
    definitions: int = 0
    values: int = 0
    department_values: int = 0
    periods: set[dt.date] = field(default_factory=set)
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "definitions": self.definitions,
            "values": self.values,
            "department_values": self.department_values,
            "periods": len(self.periods),
            "skipped": self.skipped,
        }


def _affected(
    touched: Iterable[tuple[str, str]] | None, frequency: str
) -> tuple[set[dt.date] | None, set[str] | None]:
    if touched is None:
        return None, None
    pairs = list(touched)
    # Loads report the months they touched as labels ("2026-10").
    months = {Period.parse(month).start for _, month in pairs}
    periods = {Period.containing(month, frequency).start for month in months}
    regions = {code for code, _ in pairs}
    paths = Region.objects.filter(code__in=regions).values_list("path", flat=True)
    ancestors = {code for path in paths for code in path.strip("/").split("/")}
    return periods, ancestors


def _record_tables(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Each records table with its columns and types (part of the compiled-SQL cache key)."""
    rows = con.execute(
        """SELECT table_name, string_agg(column_name || ' ' || data_type, ', '
                                         ORDER BY column_index)
        FROM duckdb_columns() WHERE table_name LIKE 'records\\_%' ESCAPE '\\'
        GROUP BY table_name"""
    ).fetchall()
    return {name: columns for name, columns in rows}


# Compiling a group's Ibis expression to SQL costs 0.1–0.3 s of Python, as much as running it
# over millions of rows; a worker recomputes the same groups over and over, so the SQL (and
# the result schema) is kept per definitions, scope and records-table columns.
_COMPILED: dict[tuple[Any, ...], tuple[str, Any]] = {}
_COMPILED_MAX = 256


def _run_group(
    backend: Any,
    members: list[Definition],
    periods: set[dt.date] | None,
    ancestors: set[str] | None,
    columns: str,
    department_field: str | None = None,
) -> pa.Table:
    key = (
        json.dumps(members, sort_keys=True, ensure_ascii=False),
        None if periods is None else tuple(sorted(periods)),
        None if ancestors is None else tuple(sorted(ancestors)),
        columns,
        department_field,
    )
    compiled = _COMPILED.get(key)
    if compiled is None:
        expression = compile_group(
            backend,
            members,
            periods=periods,
            ancestors=ancestors,
            department_field=department_field,
        )
        compiled = (backend.compile(expression), expression.schema())
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.clear()
        _COMPILED[key] = compiled
    sql, schema = compiled
    return DuckDBPyArrowData.convert_table(backend.con.sql(sql).to_arrow_table(), schema)


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
        departments = _departments()
        chosen = definitions if definitions is not None else DEFINITIONS
        tables = _record_tables(connection)
        department_fields = _department_fields(tables)
        groups: dict[tuple[str, str, str, str], list[Definition]] = {}
        for definition in chosen:
            if definition["indicator"] not in indicators:
                report.skipped.append(f"{definition['indicator']}：目录中没有该指标")
                continue
            if f"records_{definition['dataset']}" not in tables:
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
            table = _run_group(backend, members, periods, ancestors, tables[f"records_{key[0]}"])
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
            department_field = department_fields.get(key[0])
            if department_field and departments:
                # Every department of the recomputed periods: a load in one district changes
                # its city department's line figure and so every rank of that tier.
                by_department = _run_group(
                    backend,
                    members,
                    periods,
                    None,
                    tables[f"records_{key[0]}"],
                    department_field,
                )
                for i, definition in enumerate(members):
                    report.department_values += _write_department_values(
                        indicators[definition["indicator"]],
                        frequency,
                        _unit_rows(by_department, i),
                        departments,
                        periods,
                    )
            if periods:
                report.periods.update(periods)
            if ctx:
                ctx.progress(index, len(groups), f"已计算 {len(members)} 个指标口径")
        refresh_watermarks(connection, chosen)
    finally:
        if own:
            connection.close()
    _score(report.periods)
    return report


def refresh_watermarks(con: duckdb.DuckDBPyConnection, definitions: list[Definition]) -> None:
    """Store on each dataset the latest date of every period field its definitions use: how
    far its sources have reported, which tells a complete period (docs/indicators.md)."""
    fields: dict[str, set[str]] = {}
    for definition in definitions:
        fields.setdefault(definition["dataset"], set()).add(definition["period_field"])
    for dataset in Dataset.objects.filter(code__in=list(fields)):
        if not store.has_table(con, f"records_{dataset.code}"):
            continue
        table = store.records_table(dataset.code)
        names = sorted(fields[dataset.code])
        selects = ", ".join(f"max(CAST({store.ident(n)} AS DATE))" for n in names)
        row = con.execute(f"SELECT {selects} FROM {table}").fetchall()[0]
        marks = {n: day.isoformat() for n, day in zip(names, row, strict=True) if day is not None}
        if marks != dataset.watermarks:
            Dataset.objects.filter(pk=dataset.pk).update(watermarks=marks)
            values_changed()  # complete periods follow the watermarks


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
    existing = {
        (region_id, period): (pk, stored, batch_id)
        for pk, region_id, period, batch_id, *stored in scope.values_list(
            "pk", "region_id", "period", "batch_id", *_STORED
        )
    }
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
                {
                    "indicator_id": indicator.pk,
                    "region_id": region_id,
                    "period": period,
                    "frequency": frequency,
                    "source_kind": SourceKind.RECORDS,
                    "batch_id": batch.pk if batch else None,
                    "computed_at": now,
                    **fields,
                }
            )
        elif not _unchanged(current[1], fields):
            pk, _, batch_id = current
            to_update.append(
                IndicatorValue(
                    pk=pk, batch_id=batch.pk if batch else batch_id, computed_at=now, **fields
                )
            )
    stale = [pk for k, (pk, _, _) in existing.items() if k not in seen]
    if stale or to_create or to_update:
        values_changed()
    if stale:
        IndicatorValue.objects.filter(pk__in=stale).delete()
    insert_rows(IndicatorValue, to_create)
    update_rows(
        IndicatorValue,
        to_update,
        ["value", "numerator", "denominator", "observations", "batch", "computed_at"],
    )
    return len(to_create) + len(to_update)


_STORED = ("value", "numerator", "denominator", "observations")


def _unchanged(stored: list[Any], fields: dict[str, Any]) -> bool:
    """Parallel sums add in a different order from run to run, so a large numerator can differ
    in its last bits; such a value is the same value and is not rewritten."""
    for old, new in zip(stored, (fields[name] for name in _STORED), strict=True):
        if old == new:
            continue
        if old is None or new is None or not math.isclose(old, new, rel_tol=1e-12):
            return False
    return True


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


def _unit_rows(table: pa.Table, i: int) -> list[tuple[Any, ...]]:
    """(unit, period, value, numerator, denominator, observations) of the i-th definition."""
    return [
        row
        for row in zip(
            table.column("region").to_pylist(),
            table.column("period").to_pylist(),
            table.column(f"v{i}").to_pylist(),
            table.column(f"n{i}").to_pylist(),
            table.column(f"d{i}").to_pylist(),
            table.column(f"o{i}").to_pylist(),
            strict=True,
        )
        if row[5]
    ]


def _department_fields(tables: dict[str, str]) -> dict[str, str]:
    """The department field of each dataset's current schema, where its records carry one."""
    out = {}
    for code, name in (
        DatasetVersion.objects.filter(version=F("dataset__current_version"))
        .exclude(department_field="")
        .values_list("dataset__code", "department_field")
    ):
        columns = tables.get(f"records_{code}", "")
        if name in {column.split(" ")[0] for column in columns.split(", ")}:
            out[code] = name
    return out


def _departments() -> dict[str, tuple[int, bool]]:
    """Active departments by code: (pk, is a city department). City departments rank among
    themselves, district departments among themselves."""
    return {
        code: (pk, parent_id is None)
        for code, pk, parent_id in Department.objects.filter(is_active=True).values_list(
            "code", "pk", "region__parent_id"
        )
    }


def department_ranks(
    values: dict[Any, float | None], *, lower_is_better: bool
) -> dict[Any, tuple[int, int]]:
    """(rank, total) of each key with a value: 1 for the best, ties share the lower number."""
    present = {k: (-v if lower_is_better else v) for k, v in values.items() if v is not None}
    ranks = competition_ranks(present)
    return {k: (rank, len(present)) for k, rank in ranks.items()}


@transaction.atomic
def _write_department_values(
    indicator: Indicator,
    frequency: str,
    rows: list[tuple[Any, ...]],
    departments: dict[str, tuple[int, bool]],
    periods: set[dt.date] | None,
) -> int:
    """Replace the indicator's department figures of the recomputed periods, ranked per period
    among departments of the same tier."""
    scope = DepartmentIndicatorValue.objects.filter(indicator=indicator)
    if periods is not None:
        scope = scope.filter(period__in=periods)
    before = {
        (department_id, period): (value, observations)
        for department_id, period, value, observations in scope.values_list(
            "department_id", "period", "value", "observations"
        )
    }
    now = timezone.now()
    fresh: dict[tuple[int, dt.date], dict[str, Any]] = {}
    tiers: dict[tuple[dt.date, bool], dict[tuple[int, dt.date], float | None]] = {}
    for unit, period, value, numerator, denominator, observations in rows:
        known = departments.get(unit)
        if known is None:
            continue
        department_id, city = known
        day = period.date() if isinstance(period, dt.datetime) else period
        key = (department_id, day)
        fresh[key] = {
            "indicator_id": indicator.pk,
            "department_id": department_id,
            "period": day,
            "frequency": frequency,
            "value": _clean(value),
            "numerator": _clean(numerator),
            "denominator": _clean(denominator),
            "observations": int(observations or 0),
            "rank": None,
            "rank_total": None,
            "computed_at": now,
        }
        tiers.setdefault((day, city), {})[key] = fresh[key]["value"]
    lower = indicator.direction == Direction.LOWER_IS_BETTER
    for members in tiers.values():
        for key, (rank, total) in department_ranks(members, lower_is_better=lower).items():
            fresh[key]["rank"], fresh[key]["rank_total"] = rank, total
    after = {k: (row["value"], row["observations"]) for k, row in fresh.items()}
    if after == before:
        return 0
    values_changed()
    scope.delete()
    insert_rows(DepartmentIndicatorValue, list(fresh.values()))
    return len(fresh)
