"""Building blocks for the few hand-composed statements of hot paths (see
docs/decisions/0008-single-statement-intake.md).

Django's ORM compiles every query anew; on a path taken hundreds of times a second that
compilation, and one round trip per statement, is most of the cost. ``row_document`` gives
the column values Django itself would INSERT for an unsaved instance (defaults, ``pre_save``,
``get_db_prep_save``: the same field machinery as ``Model.save``) as one JSON document, which
PostgreSQL maps onto the table's row type with ``jsonb_populate_record``: a composed INSERT
then needs neither a column list nor one parameter per column, and stays in step with the
model without repeating its fields."""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import ipaddress
import json
import uuid
from typing import Any, TypeVar

from django.db import connections, models
from django.db.models.expressions import BaseExpression
from django.utils import timezone

M = TypeVar("M", bound=models.Model)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(
        value, decimal.Decimal | uuid.UUID | ipaddress.IPv4Address | ipaddress.IPv6Address
    ):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a column value a row document can carry")


def row_values(instance: models.Model, *, using: str = "default") -> dict[str, Any]:
    """{column: value} for each concrete field of an unsaved ``instance`` except an automatic
    primary key. JSON columns keep their Python value (the document nests it)."""
    connection = connections[using]
    values: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.primary_key and isinstance(field, models.AutoField | models.BigAutoField):
            continue
        value = field.pre_save(instance, True)
        if isinstance(value, BaseExpression) or hasattr(value, "resolve_expression"):
            # A db_default or an expression needs the ORM's compiler; composed statements
            # take plain values only (the PostgreSQL suite fails loudly if a model changes).
            raise TypeError(f"{field.model.__name__}.{field.name} is an expression")
        if not isinstance(field, models.JSONField):
            value = field.get_db_prep_save(value, connection)
        values[str(field.column)] = value
    return values


def row_document(instance: models.Model, *, using: str = "default") -> str:
    """``row_values`` as JSON text, for ``jsonb_populate_record(NULL::table, %s::jsonb)``."""
    return json.dumps(row_values(instance, using=using), default=_json_default)


@functools.lru_cache(maxsize=32)
def _chain_plan(
    model: type[models.Model], chain: tuple[str, ...], column: str, using: str
) -> tuple[str, list[tuple[type[models.Model], list[Any], list[Any]]]]:
    """SQL and per-model (fields, converters) of ``select_one_with_chain``."""
    connection = connections[using]
    quote = connection.ops.quote_name
    models_in_order = [model]
    joins = []
    for index, name in enumerate(chain):
        field = models_in_order[-1]._meta.get_field(name)
        target = field.related_model
        assert isinstance(field, models.ForeignKey) and isinstance(target, type)
        joins.append(
            f" LEFT JOIN {quote(target._meta.db_table)} t{index + 1}"
            f" ON t{index}.{quote(str(field.column))}"
            f" = t{index + 1}.{quote(str(target._meta.pk.column))}"
        )
        models_in_order.append(target)
    selects, plan = [], []
    for index, m in enumerate(models_in_order):
        fields = list(m._meta.concrete_fields)
        converters = []
        for f in fields:
            col = f.get_col(f"t{index}")
            converters.append(
                (connection.ops.get_db_converters(col) + f.get_db_converters(connection), col)
            )
            selects.append(f"t{index}.{quote(str(f.column))}")
        plan.append((m, fields, converters))
    sql = (
        f"SELECT {', '.join(selects)} FROM {quote(model._meta.db_table)} t0"  # noqa: S608
        + "".join(joins)
        + f" WHERE t0.{quote(column)} = %s LIMIT 1"
    )
    return sql, plan


def select_one_with_chain(
    model: type[M], chain: tuple[str, ...], column: str, value: Any, *, using: str = "default"
) -> M | None:
    """The row of ``model`` whose ``column`` equals ``value``, with the chain of foreign keys
    ``chain`` (e.g. ``("department", "region")``: the row's department and its region) loaded
    and cached on it, in one statement whose text is built once per process. What
    ``select_related(...).filter(column=value).first()`` gives, without compiling the query
    on every call; values pass through the same converters as the ORM's."""
    sql, plan = _chain_plan(model, chain, column, using)
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(sql, [value])
        row = cursor.fetchone()
    if row is None:
        return None
    instances: list[models.Model | None] = []
    offset = 0
    for m, fields, converters in plan:
        values = list(row[offset : offset + len(fields)])
        offset += len(fields)
        for i, (field_converters, col) in enumerate(converters):
            for converter in field_converters:
                values[i] = converter(values[i], col, connection)
        pk_index = fields.index(m._meta.pk)
        instances.append(
            None
            if values[pk_index] is None
            else m.from_db(using, [f.attname for f in fields], values)
        )
    for index, name in enumerate(chain):
        parent = instances[index]
        if parent is None:
            break
        field = type(parent)._meta.get_field(name)
        field.set_cached_value(parent, instances[index + 1])  # type: ignore[union-attr]
    return instances[0]  # type: ignore[return-value]


def update_rows(
    model: type[models.Model], objs: list[Any], fields: list[str], *, using: str | None = None
) -> int:
    """Write ``fields`` of each saved instance with one ``UPDATE … WHERE pk = %s`` run through
    ``executemany``: linear in the rows. ``QuerySet.bulk_update`` compiles a ``CASE WHEN`` per
    row and field, which dominates when scores of tens of thousands of values are rewritten.
    Values go through ``get_db_prep_save`` as ``bulk_update`` sends them; no signals, like it."""
    if not objs:
        return 0
    from django.db import router

    alias = using or router.db_for_write(model)
    connection = connections[alias]
    meta = model._meta
    concrete: list[Any] = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in concrete)
    key = str(meta.pk.column if meta.pk else "id")
    # Identifiers come from the model and are quoted; values are parameters.
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(key)} = %s"  # noqa: S608
    params = [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in concrete] + [obj.pk]
        for obj in objs
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return len(objs)


def insert_rows(
    model: type[models.Model], rows: list[dict[str, Any]], *, using: str | None = None
) -> int:
    """INSERT one row per ``{attname: value}`` dict with one statement run through
    ``executemany``. ``bulk_create`` builds a model instance per row and compiles every value
    through the ORM's insert compiler; on the first recompute (tens of thousands of new values)
    that was most of the time. A field a row leaves out takes its default, evaluated once per
    call (so ``default=timezone.now`` gives every row the same instant); values go through
    ``get_db_prep_save`` as the ORM sends them; ``auto_now`` and ``auto_now_add`` fields get the
    call's instant, as ``save()`` gives them. No signals and no primary keys returned.
    Identifiers come from the model; an attname the model lacks is a ``TypeError``."""
    if not rows:
        return 0
    from django.db import router

    alias = using or router.db_for_write(model)
    connection = connections[alias]
    meta = model._meta
    fields = [
        f
        for f in meta.concrete_fields
        if not (f.primary_key and isinstance(f, models.AutoField | models.BigAutoField))
    ]
    now = timezone.now()
    defaults = {
        f.attname: now
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        # A value given for an auto_now field is overwritten as save() would.
        else f.get_default()
        for f in fields
    }
    forced = {f.attname for f in fields if getattr(f, "auto_now", False)}
    unknown = set().union(*(row.keys() for row in rows)) - set(defaults)
    if unknown:
        raise TypeError(f"{meta.label} has no field {', '.join(sorted(unknown))}")
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    # Identifiers come from the model and are quoted; values are parameters.
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})"  # noqa: S608
    preps = [(f.attname, _Prepared(f, connection)) for f in fields]
    params = [
        [
            prepared(defaults[name] if name in forced else row.get(name, defaults[name]))
            for name, prepared in preps
        ]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
    return len(rows)


class _Prepared:
    """``field.get_db_prep_save`` of one column of a bulk insert, skipped where it hands the
    driver the value unchanged and remembered per distinct value otherwise: a column of a bulk
    write repeats few values (periods, one timestamp, a kind), and the prep calls were a third
    of the first recompute's time."""

    def __init__(self, field: models.Field, connection: Any) -> None:
        self.prep = field.get_db_prep_save
        self.plain = _plain_type(field)
        self.connection = connection
        self.seen: dict[tuple[type, Any], Any] = {}

    def __call__(self, value: Any) -> Any:
        if value is None or type(value) is self.plain:
            return value
        try:
            key = (type(value), value)
            return self.seen[key]
        except KeyError:
            prepared = self.seen[key] = self.prep(value, self.connection)
            return prepared
        except TypeError:  # unhashable (a list, a dict): prepare every time
            return self.prep(value, self.connection)


def _plain_type(field: models.Field) -> type | None:
    """The Python type whose values ``field.get_db_prep_save`` hands to the driver unchanged
    (``float(x)``, ``int(x)``, ``str(x)`` of a value already of that type), so the call can be
    skipped: a third of the first recompute's time was spent in it. Dates, times, decimals,
    JSON and anything else still go through it."""
    if isinstance(field, models.ForeignKey):
        return _plain_type(field.target_field)
    if isinstance(field, models.BooleanField | models.JSONField):
        return None
    if isinstance(field, models.FloatField):
        return float
    if isinstance(field, models.IntegerField):
        return int
    if isinstance(field, models.CharField | models.TextField):
        return str
    return None
