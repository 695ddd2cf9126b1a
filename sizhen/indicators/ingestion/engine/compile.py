"""Compile a declarative definition into one portable Ibis expression.

The expression rolls the records up the region-ancestor bridge (so one query yields every
level of the region tree) and, for working-day durations, to the calendar table (so durations
are a subtraction of cumulative working-day indexes, not a Python loop). It returns the columns
region, period, value, numerator, denominator, observations — the same on DuckDB and Spark.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

import ibis
import ibis.expr.types as ir

from sizhen.indicators.ingestion.engine.definitions import Definition

TRUNCATE_UNITS = {"month": "M", "quarter": "Q", "year": "Y"}
#: workdays: working days in (start, end] through the calendar table; days: calendar days.
DERIVATIONS = ("workdays", "days")
_OPS = {"==", "!=", "in", "not_in", "<", "<=", ">", ">=", "is_null", "not_null"}


class DefinitionError(ValueError):
    pass


def _value(table: ir.Table, value: Any) -> Any:
    if isinstance(value, dict) and "field" in value:
        return table[value["field"]]
    return value


def _predicate(table: ir.Table, clause: list[Any]) -> ir.BooleanValue:
    if len(clause) != 3 or clause[1] not in _OPS:
        raise DefinitionError(f"bad filter clause {clause!r}")
    name, op, raw = clause
    column = table[name]
    value = _value(table, raw)
    if op == "==":
        return column == value
    if op == "!=":
        return column != value
    if op == "in":
        return column.isin(list(value))
    if op == "not_in":
        return ~column.isin(list(value))
    if op == "<":
        return column < value
    if op == "<=":
        return column <= value
    if op == ">":
        return column > value
    if op == ">=":
        return column >= value
    if op == "is_null":
        return column.isnull()
    return column.notnull()


def _all(table: ir.Table, clauses: list[list[Any]] | None) -> ir.BooleanValue | None:
    predicate = None
    for clause in clauses or []:
        p = _predicate(table, clause)
        predicate = p if predicate is None else predicate & p
    return predicate


def compile_definition(
    backend: Any,
    definition: Definition,
    *,
    periods: Collection[dt.date] | None = None,
    ancestors: Collection[str] | None = None,
) -> ir.Table:
    """One definition on its own: region, period, value, numerator, denominator, observations."""
    table = compile_group(backend, [definition], periods=periods, ancestors=ancestors)
    return table.filter(table.o0 > 0).select(
        "region",
        "period",
        value=table.v0,
        numerator=table.n0,
        denominator=table.d0,
        observations=table.o0,
    )


def _clause_key(clause: list[Any]) -> str:
    import json

    return json.dumps(clause, sort_keys=True, ensure_ascii=False)


def _and(a: Any, b: Any) -> Any:
    if a is None:
        return b
    if b is None:
        return a
    return a & b


def _count_where(table: ir.Table, condition: Any) -> Any:
    return table.count() if condition is None else condition.cast("int64").sum()


def _sum_where(column: Any, condition: Any) -> Any:
    return column.sum() if condition is None else ibis.ifelse(condition, column, 0.0).sum()


def group_key(definition: Definition) -> tuple[str, str, str, str]:
    return (
        definition["dataset"],
        definition["period_field"],
        definition.get("frequency", "month"),
        definition.get("region_field", "region_code"),
    )


def _derive(
    backend: Any,
    records: ir.Table,
    derives: dict[str, list[str]],
    *,
    until: dt.date | None = None,
) -> ir.Table:
    """Add the derived durations; with ``until``, each is measured up to that date instead of
    its end field (how long an unfinished row has been running)."""
    for name, derivation in derives.items():
        if derivation[0] not in DERIVATIONS:
            raise DefinitionError(f"unknown derivation {derivation[0]}")
        kind, start, end = derivation
        end_date = records[end].date() if until is None else ibis.literal(until, type="date")
        if kind == "days":
            # Calendar days between the two dates, as courts and procurement rules count them
            # (the day of filing not counted): a plain date difference, no calendar join.
            records = records.mutate(**{name: end_date.delta(records[start].date(), unit="day")})
            continue
        calendar = backend.table("dim_calendar")
        c_start = calendar.select(_s_date=calendar.date, _s_index=calendar.workday_index)
        c_end = calendar.select(_e_date=calendar.date, _e_index=calendar.workday_index)
        records = records.left_join(c_start, records[start].date() == c_start._s_date)
        if until is None:
            records = records.left_join(c_end, records[end].date() == c_end._e_date)
        else:
            records = records.cross_join(c_end.filter(c_end._e_date == end_date))
        records = records.mutate(**{name: records._e_index - records._s_index}).drop(
            "_s_date", "_s_index", "_e_date", "_e_index"
        )
    return records


def compile_group(
    backend: Any,
    definitions: list[Definition],
    *,
    periods: Collection[dt.date] | None = None,
    ancestors: Collection[str] | None = None,
    department_field: str | None = None,
) -> ir.Table:
    """Several definitions over the same dataset, period and region fields in ONE scan: the
    clauses they share filter the table, the rest become conditions inside each aggregate.
    Columns: region, period, then v{i}, n{i}, d{i}, o{i} (value, numerator, denominator,
    observations) for the i-th definition.

    With ``department_field`` the unit is the record's department instead of its region: the
    ``region`` column then holds department codes, rolled up to the city department leading
    each line through ``dim_department_ancestor`` exactly as regions roll up their tree, and
    ``ancestors`` restricts department codes."""
    if len({group_key(d) for d in definitions}) != 1:
        raise DefinitionError("definitions of one group must share dataset, period and region")
    first = definitions[0]
    records = backend.table(f"records_{first['dataset']}")
    if department_field:
        bridge = backend.table("dim_department_ancestor")
        unit_field, bridge_key = department_field, "department_code"
    else:
        bridge = backend.table("dim_region_ancestor")
        unit_field, bridge_key = first.get("region_field", "region_code"), "region_code"
    unit = TRUNCATE_UNITS[first.get("frequency", "month")]

    derives: dict[str, list[str]] = {}
    for definition in definitions:
        for name, derivation in (definition.get("derive") or {}).items():
            if name in derives and derives[name] != derivation:
                raise DefinitionError(f"derived field {name} defined two ways")
            derives[name] = derivation
    records = _derive(backend, records, derives)

    clause_sets = [{_clause_key(c): c for c in d.get("filter") or []} for d in definitions]
    common_keys = set.intersection(*(set(s) for s in clause_sets)) if clause_sets else set()
    common = [clause_sets[0][k] for k in sorted(common_keys)]
    condition = _all(records, common)
    if condition is not None:
        records = records.filter(condition)
    records = records.mutate(_period=records[first["period_field"]].truncate(unit).cast("date"))
    if periods is not None:
        records = records.filter(records._period.isin(sorted(periods)))
    # Sums and counts add up, so they are aggregated once per region of the records and then
    # rolled up the tree through the ancestor bridge (a few hundred rows joined instead of every
    # record once per ancestor); medians and percentiles do not add up and need every record
    # joined to each of its ancestors.
    rolled_up = not any(d["measure"]["kind"] in ("median", "percentile") for d in definitions)
    if rolled_up:
        joined = records
    else:
        joined = records.join(bridge, records[unit_field] == bridge[bridge_key])
        if ancestors is not None:
            joined = joined.filter(joined.ancestor_code.isin(sorted(ancestors)))

    aggregates: dict[str, Any] = {}
    finals: list[tuple[int, dict[str, Any]]] = []
    for i, definition in enumerate(definitions):
        own = [c for k, c in clause_sets[i].items() if k not in common_keys]
        own_condition = _all(joined, own)
        measure = definition["measure"]
        kind = measure["kind"]
        aggregates[f"o{i}"] = _count_where(joined, own_condition)
        if kind == "count":
            aggregates[f"n{i}"] = _count_where(joined, own_condition).cast("float64")
            finals.append((i, {"value": "n", "measure": measure}))
        elif kind in ("sum", "mean"):
            column = joined[measure["field"]].cast("float64")
            aggregates[f"n{i}"] = _sum_where(column, own_condition)
            if kind == "mean":
                present = (
                    column.notnull() if own_condition is None else own_condition & column.notnull()
                )
                aggregates[f"d{i}"] = present.cast("int64").sum().cast("float64")
                finals.append((i, {"value": "mean", "measure": measure}))
            else:
                finals.append((i, {"value": "n", "measure": measure}))
        elif kind in ("median", "percentile"):
            column = joined[measure["field"]].cast("float64")
            quantile = 0.5 if kind == "median" else float(measure["q"])
            if own_condition is not None:
                column = ibis.ifelse(own_condition, column, ibis.null("float64"))
            aggregates[f"v{i}"] = column.quantile(quantile)
            finals.append((i, {"value": "v", "measure": measure}))
        elif kind == "ratio":
            for part, prefix in ((measure["numerator"], "n"), (measure["denominator"], "d")):
                part_condition = _all(joined, part.get("filter"))
                both = _and(own_condition, part_condition)
                if part["kind"] == "count":
                    aggregates[f"{prefix}{i}"] = _count_where(joined, both).cast("float64")
                elif part["kind"] == "sum":
                    aggregates[f"{prefix}{i}"] = _sum_where(
                        joined[part["field"]].cast("float64"), both
                    )
                else:
                    raise DefinitionError(f"ratio parts must be count or sum, not {part['kind']}")
            finals.append((i, {"value": "ratio", "measure": measure}))
        else:
            raise DefinitionError(f"unknown measure kind {kind}")
    if rolled_up:
        leaves = joined.group_by(_region=joined[unit_field], _period=joined._period).aggregate(
            **aggregates
        )
        tree = leaves.join(bridge, leaves._region == bridge[bridge_key])
        if ancestors is not None:
            tree = tree.filter(tree.ancestor_code.isin(sorted(ancestors)))
        grouped = tree.group_by(region=tree.ancestor_code, period=tree._period).aggregate(
            **{name: tree[name].sum() for name in aggregates}
        )
    else:
        grouped = joined.group_by(region=joined.ancestor_code, period=joined._period).aggregate(
            **aggregates
        )
    columns: dict[str, Any] = {}
    for i, spec in finals:
        n = grouped[f"n{i}"] if f"n{i}" in aggregates else ibis.null("float64")
        d = grouped[f"d{i}"] if f"d{i}" in aggregates else ibis.null("float64")
        measure = spec.get("measure") or {}
        unit_scale = float(measure.get("scale", 1))
        if spec["value"] == "n":
            value = n * unit_scale if unit_scale != 1 else n
        elif spec["value"] == "v":
            value = grouped[f"v{i}"] * unit_scale if unit_scale != 1 else grouped[f"v{i}"]
        elif spec["value"] == "mean":
            value = ibis.ifelse(d == 0, ibis.null("float64"), n / d * unit_scale)
        else:
            scale = unit_scale
            share = n / d
            value = (1 - share) * scale if measure.get("complement") else share * scale
            value = ibis.ifelse(d == 0, ibis.null("float64"), value)
        columns[f"v{i}"] = value
        columns[f"n{i}"] = n
        columns[f"d{i}"] = d
        columns[f"o{i}"] = grouped[f"o{i}"]
    return grouped.select("region", "period", **columns)


def compile_open_late(backend: Any, definition: Definition, *, as_of: dt.date) -> ir.Table:
    """The records a timeliness definition will judge late that are still open at the end of
    ``as_of`` (today's overdue open cases are next month's late completions).

    Open at ``as_of``: started (the start field of the derived duration) by then, and either
    in progress (the definition's ``open`` filter) and not finished by then, or counted by the
    definition (its ``filter``) but finished only after ``as_of``. Late: the duration measured up
    to ``as_of`` fails the on-time condition, the ratio's numerator ``[duration, "<=", limit]``.
    Columns: the record's own, the duration, and ``overdue`` (duration minus limit, > 0)."""
    derives = definition.get("derive") or {}
    measure = definition["measure"]
    on_time = (measure.get("numerator") or {}).get("filter") or []
    if (
        "open" not in definition
        or measure["kind"] != "ratio"
        or len(on_time) != 1
        or on_time[0][0] not in derives
        or on_time[0][1] != "<="
    ):
        raise DefinitionError(f"{definition['indicator']} is not a timeliness definition")
    duration, _, limit = on_time[0]
    start = derives[duration][1]
    records = backend.table(f"records_{definition['dataset']}")
    finished = records[definition["period_field"]].date()
    counted_later = _and(_all(records, definition.get("filter")), finished > as_of)
    in_progress = _and(_all(records, definition["open"]), finished.isnull() | (finished > as_of))
    records = records.filter((records[start].date() <= as_of) & (counted_later | in_progress))
    records = _derive(backend, records, {duration: derives[duration]}, until=as_of)
    records = records.mutate(overdue=records[duration] - _value(records, limit))
    # A missing duration or limit compares as unknown and is not judged, as in the indicator.
    return records.filter(records.overdue > 0)
