"""Drill-down to the source records (明细记录, record drill-down) behind one indicator value.

The records live in the analytical store, which only the worker opens: DuckDB takes a file lock,
so a web process holding it (even read-only) would block the worker's loads, and a web process
must not compute from records anyway. A page therefore asks for an extract
(``request_record_extract``); the job ``indicators.record_extract`` reads the indicator's dataset
in the region's subtree and period, newest first, at most ``ROW_CAP`` rows, masks personal data
and stores the rows on a ``RecordExtract``; the page shows progress, then the table and an XLSX.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from sizhen.core.access import VIEW
from sizhen.core.audit import record_event
from sizhen.core.jobs import JobContext, enqueue, job
from sizhen.core.xlsx import build_workbook
from sizhen.indicators.engine import store
from sizhen.indicators.engine.definitions import DEFINITIONS_BY_INDICATOR
from sizhen.indicators.extract_models import PENDING, RecordExtract
from sizhen.indicators.models import Dataset, Indicator
from sizhen.organisations.models import Region

JOB_NAME = "indicators.record_extract"
#: Rows kept per extract: enough to check a figure by hand, small enough for a JSON column.
ROW_CAP = 2000
_MONTHS = {"month": 1, "quarter": 3, "year": 12}
_SQL_OPS = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


@dataclass(frozen=True)
class DrillSource:
    """Where an indicator's records are: its dataset, the date field that assigns a record to
    a period, and the definition's row filter (口径)."""

    dataset: str
    period_field: str
    filters: tuple[tuple[str, str, Any], ...]


def drill_source(indicator: Indicator) -> DrillSource | None:
    """None for indicators not computed from records (filled in, surveyed, composite)."""
    definition = DEFINITIONS_BY_INDICATOR.get(indicator.code)
    if definition is None:
        return None
    filters = tuple(tuple(f) for f in definition.get("filter", []))
    return DrillSource(definition["dataset"], definition["period_field"], filters)  # type: ignore[arg-type]


def period_end(period: dt.date, frequency: str) -> dt.date:
    months = period.year * 12 + period.month - 1 + _MONTHS.get(frequency, 1)
    return dt.date(months // 12, months % 12 + 1, 1)


# --- masking (个人信息去标识化, de-identification) -------------------------------------------

_PHONE_WORDS = ("phone", "mobile", "tel", "电话", "手机", "联系方式")
_ID_WORDS = ("id_card", "id_number", "id_no", "idcard", "identity", "身份证", "证件号")
_NAME_FIELDS = {
    "name",
    "person_name",
    "applicant_name",
    "contact",
    "contact_name",
    "contact_person",
    "legal_representative",
    "legal_person",
    "handler",
    "handler_name",
    "operator_name",
}
_NAME_LABELS = ("姓名", "联系人", "法定代表人", "法人代表", "经办人", "办事人", "申请人")
_ID_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_MOBILE_IN_TEXT = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def field_kind(name: str, label: str) -> str:
    """ "phone", "id", "name" or "" for a dataset field, from its name and Chinese label."""
    lowered = name.lower()
    if any(word in lowered or word in label for word in _ID_WORDS):
        return "id"
    if any(word in lowered or word in label for word in _PHONE_WORDS):
        return "phone"
    if lowered in _NAME_FIELDS or label in _NAME_LABELS or label.endswith("姓名"):
        return "name"
    return ""


def mask_phone(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    return digits[:3] + "****" + digits[-4:] if len(digits) >= 7 else "****"


def mask_id(value: str) -> str:
    text = value.strip()
    return text[:3] + "*" * max(len(text) - 7, 4) + text[-4:] if len(text) > 7 else "****"


def mask_name(value: str) -> str:
    text = value.strip()
    return text[:1] + "*" * max(len(text) - 1, 1) if text else ""


def mask_text(value: str) -> str:
    """Free text may carry an ID or a mobile number in any field: mask those patterns too."""
    value = _ID_IN_TEXT.sub(lambda m: m.group(1)[:3] + "*" * 11 + m.group(2), value)
    return _MOBILE_IN_TEXT.sub(lambda m: m.group(1) + "****" + m.group(2), value)


def mask_cell(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (int, float)) and not kind:
        # An ID or a mobile number loaded into a numeric column is still personal data.
        return mask_text(str(value)) if isinstance(value, int) and value >= 10**10 else value
    text = str(value)
    if kind == "phone":
        return mask_phone(text)
    if kind == "id":
        return mask_id(text)
    if kind == "name":
        return mask_name(text)
    return mask_text(text)


# --- reads (selectors) -----------------------------------------------------------------------


def drillable_regions(actor: Any) -> Any:
    """Regions whose records the actor may open: their own subtree only. A district officer
    sees the city figure on the indicator page, but never the city's records, which include
    every other district's."""
    from sizhen.core.access import region_scope_q

    return Region.objects.filter(region_scope_q(actor, "path"))


def get_latest_extract(
    indicator: Indicator, region: Region, period: dt.date, *, actor: Any
) -> RecordExtract | None:
    return (
        RecordExtract.objects.visible_to(actor, VIEW)
        .filter(indicator=indicator, region=region, period=period)
        .select_related("job")
        .order_by("-requested_at", "-pk")
        .first()
    )


def extract_workbook(extract: RecordExtract) -> bytes:
    headers = [label for _, label in extract.columns]
    return build_workbook([("明细记录", headers, extract.rows)])


# --- writes (services) -----------------------------------------------------------------------


def request_record_extract(
    indicator: Indicator, region: Region, period: dt.date, *, actor: Any
) -> RecordExtract:
    """Ask the worker for the records behind one value. While an extract of the same value is
    still pending, that one is returned and nothing is written."""
    source = drill_source(indicator)
    if source is None:
        raise ValueError(f"{indicator.code} 不是由业务记录计算的指标")
    with transaction.atomic():
        pending = get_latest_extract(indicator, region, period, actor=actor)
        if pending is not None and pending.state == PENDING:
            return pending
        extract = RecordExtract.objects.create(
            indicator=indicator,
            region=region,
            period=period,
            dataset_code=source.dataset,
            requested_by=actor if getattr(actor, "pk", None) else None,
        )
        extract.job = enqueue(
            JOB_NAME,
            key=f"{JOB_NAME}:{extract.pk}",
            label=f"明细记录：{indicator.code} {region.name} {period:%Y-%m}",
            created_by=actor,
            extract_id=extract.pk,
        )
        extract.save(update_fields=["job"])
        record_event(
            "indicators.record_extract.request",
            actor=actor,
            obj=extract,
            message=f"申请{indicator.code} {indicator.name}（{region.name}，{period:%Y-%m}）明细记录",
            after={"indicator": indicator.code, "region": region.code, "period": str(period)},
        )
    return extract


def _columns(dataset: Dataset, existing: set[str]) -> tuple[list[list[str]], str, str]:
    schema = dataset.schema()
    columns = [[f["name"], str(f["label"])] for f in schema.fields if f["name"] in existing]
    return columns, schema.region_field, schema.key


def _where(source: DrillSource, existing: set[str]) -> tuple[list[str], list[str]]:
    """SQL conditions of the definition's row filter on plain columns; conditions on derived
    fields or comparisons between columns are left out (the extract shows the wider set)."""
    clauses: list[str] = []
    skipped: list[str] = []
    for name, op, value in source.filters:
        if name not in existing or isinstance(value, dict):
            skipped.append(f"{name} {op}")
            continue
        column = store.ident(name)
        if op in _SQL_OPS:
            clauses.append(f"{column} {_SQL_OPS[op]} {_literal(value)}")
        elif op in ("in", "not_in") and isinstance(value, list) and value:
            values = ", ".join(_literal(v) for v in value)
            clauses.append(f"{column} {'NOT IN' if op == 'not_in' else 'IN'} ({values})")
        elif op == "is_null":
            clauses.append(f"{column} IS NULL")
        elif op == "not_null":
            clauses.append(f"{column} IS NOT NULL")
        else:
            skipped.append(f"{name} {op}")
    return clauses, skipped


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def read_records(extract: RecordExtract, con: Any) -> dict[str, Any]:
    """The matching records from an open store connection, masked; never more than ROW_CAP."""
    indicator = extract.indicator
    source = drill_source(indicator)
    if source is None:
        raise ValueError(f"{indicator.code} 不是由业务记录计算的指标")
    table_name = f"records_{source.dataset}"
    existing = {
        row[0]
        for row in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
            [table_name],
        ).fetchall()
    }
    if not existing:
        return {"columns": [], "rows": [], "matched": 0, "skipped": []}
    dataset = Dataset.objects.get(code=source.dataset)
    columns, region_field, key = _columns(dataset, existing)
    subtree = list(
        Region.objects.filter(path__startswith=extract.region.path).values_list("code", flat=True)
    )
    start = dt.datetime.combine(extract.period, dt.time())
    end = dt.datetime.combine(period_end(extract.period, indicator.frequency), dt.time())
    period_column = store.ident(source.period_field)
    clauses, skipped = _where(source, existing)
    where = " AND ".join(
        [
            f"list_contains(?::VARCHAR[], {store.ident(region_field)})",
            f"{period_column} >= ? AND {period_column} < ?",
            *clauses,
        ]
    )
    params = [subtree, start, end]
    table = store.records_table(source.dataset)
    # Identifiers pass store.ident; values are parameters or literals of the definition (code).
    count_sql = f"SELECT count(*) FROM {table} WHERE {where}"  # noqa: S608
    matched = con.execute(count_sql, params).fetchone()[0]
    select = ", ".join(store.ident(name) for name, _ in columns)
    order = f"{period_column} DESC NULLS LAST"
    if key in existing:
        order += f", {store.ident(key)}"
    rows_sql = f"SELECT {select} FROM {table} WHERE {where} ORDER BY {order} LIMIT {ROW_CAP}"  # noqa: S608
    raw = con.execute(rows_sql, params).fetchall()
    kinds = [field_kind(name, label) for name, label in columns]
    rows = [[mask_cell(kind, cell) for kind, cell in zip(kinds, row, strict=True)] for row in raw]
    return {"columns": columns, "rows": rows, "matched": int(matched), "skipped": skipped}


@job(JOB_NAME, label="明细记录抽取", max_attempts=3)
def run_record_extract(ctx: JobContext | None, *, extract_id: int) -> dict[str, Any]:
    """Runs in the worker, the only process that opens the analytical store. Safe to re-run:
    it overwrites the extract's rows."""
    extract = RecordExtract.objects.select_related("indicator", "region").get(pk=extract_id)
    if ctx is not None:
        ctx.progress(0, 1, "正在读取明细记录")
    try:
        with store.open_store() as con:
            result = read_records(extract, con)
    except store.StoreBusy:
        raise  # the job runner retries later
    except (ValueError, Dataset.DoesNotExist) as exc:
        RecordExtract.objects.filter(pk=extract.pk).update(error=str(exc)[:500])
        return {"error": str(exc)}
    RecordExtract.objects.filter(pk=extract.pk).update(
        columns=result["columns"],
        rows=result["rows"],
        matched=result["matched"],
        skipped_filters=result["skipped"],
        completed_at=timezone.now(),
        error="",
    )
    if ctx is not None:
        ctx.progress(1, 1, f"已读取 {len(result['rows'])} 条")
    return {"rows": len(result["rows"]), "matched": result["matched"]}
