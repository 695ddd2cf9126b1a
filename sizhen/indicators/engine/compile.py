"""Compile a declarative definition into one portable Ibis expression.

The expression joins the records to the region-ancestor bridge (so one group-by yields every
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

from sizhen.indicators.engine.definitions import Definition

TRUNCATE_UNITS = {"month": "M", "quarter": "Q", "year": "Y"}
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


def _aggregate(table: ir.Table, spec: dict[str, Any]) -> ir.Scalar:
    """count or sum under the aggregate's own filter (ratio numerators and denominators)."""
    condition = _all(table, spec.get("filter"))
    kind = spec["kind"]
    if kind == "count":
        if condition is None:
            return table.count().cast("float64")
        return condition.cast("int64").sum().cast("float64")
    if kind == "sum":
        column = table[spec["field"]].cast("float64")
        if condition is not None:
            column = ibis.ifelse(condition, column, 0.0)
        return column.sum()
    raise DefinitionError(f"ratio parts must be count or sum, not {kind}")


def compile_definition(
    backend: Any,
    definition: Definition,
    *,
    periods: Collection[dt.date] | None = None,
    ancestors: Collection[str] | None = None,
) -> ir.Table:
    records = backend.table(f"records_{definition['dataset']}")
    bridge = backend.table("dim_region_ancestor")
    region_field = definition.get("region_field", "region_code")
    period_field = definition["period_field"]
    unit = TRUNCATE_UNITS[definition.get("frequency", "month")]

    for name, derivation in (definition.get("derive") or {}).items():
        if derivation[0] != "workdays":
            raise DefinitionError(f"unknown derivation {derivation[0]}")
        _, start, end = derivation
        calendar = backend.table("dim_calendar")
        c_start = calendar.select(_s_date=calendar.date, _s_index=calendar.workday_index)
        c_end = calendar.select(_e_date=calendar.date, _e_index=calendar.workday_index)
        records = records.left_join(c_start, records[start].date() == c_start._s_date)
        records = records.left_join(c_end, records[end].date() == c_end._e_date)
        records = records.mutate(**{name: records._e_index - records._s_index}).drop(
            "_s_date", "_s_index", "_e_date", "_e_index"
        )

    condition = _all(records, definition.get("filter"))
    if condition is not None:
        records = records.filter(condition)
    records = records.mutate(_period=records[period_field].truncate(unit).cast("date"))
    if periods is not None:
        records = records.filter(records._period.isin(sorted(periods)))
    joined = records.join(bridge, records[region_field] == bridge.region_code)
    if ancestors is not None:
        joined = joined.filter(joined.ancestor_code.isin(sorted(ancestors)))
    grouped = joined.group_by(region=joined.ancestor_code, period=joined._period)

    measure = definition["measure"]
    kind = measure["kind"]
    observations = joined.count()
    if kind == "count":
        n = joined.count().cast("float64")
        return grouped.aggregate(
            value=n, numerator=n, denominator=ibis.null("float64"), observations=observations
        )
    if kind in ("sum", "mean", "median", "percentile"):
        column = joined[measure["field"]].cast("float64")
        if kind == "sum":
            total = column.sum()
            return grouped.aggregate(
                value=total,
                numerator=total,
                denominator=ibis.null("float64"),
                observations=observations,
            )
        if kind == "mean":
            aggregated = grouped.aggregate(
                numerator=column.sum(),
                denominator=column.count().cast("float64"),
                observations=observations,
            )
            return aggregated.mutate(
                value=aggregated.numerator / aggregated.denominator
            ).select("region", "period", "value", "numerator", "denominator", "observations")
        quantile = 0.5 if kind == "median" else float(measure["q"])
        return grouped.aggregate(
            value=column.quantile(quantile),
            numerator=ibis.null("float64"),
            denominator=ibis.null("float64"),
            observations=observations,
        )
    if kind == "ratio":
        scale = float(measure.get("scale", 1))
        aggregated = grouped.aggregate(
            numerator=_aggregate(joined, measure["numerator"]),
            denominator=_aggregate(joined, measure["denominator"]),
            observations=observations,
        )
        share = aggregated.numerator / aggregated.denominator
        value = (1 - share) * scale if measure.get("complement") else share * scale
        value = ibis.ifelse(aggregated.denominator == 0, ibis.null("float64"), value)
        return aggregated.mutate(value=value).select(
            "region", "period", "value", "numerator", "denominator", "observations"
        )
    raise DefinitionError(f"unknown measure kind {kind}")
