"""Reading the source records (明细记录, record drill-down) behind one indicator value, masked.

The records live in the analytical store, which only the worker opens: DuckDB takes a file lock,
so a web process holding it (even read-only) would block the worker's loads, and a web process
must not compute from records anyway. A page therefore asks for an extract
(``services.request_record_extract``); the job ``indicators.record_extract`` (``jobs``) reads the indicator's dataset
in the region's subtree and period, newest first, at most ``ROW_CAP`` rows, masks personal data
and stores the rows on a ``RecordExtract``; the page shows progress, then the table and an XLSX.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sizhen.core.periods import Period
from sizhen.indicators.ingestion.engine import store
from sizhen.indicators.ingestion.models import Dataset, RecordExtract
from sizhen.indicators.ingestion.selectors import DrillSource, drill_source
from sizhen.organisations.models import Region

#: Rows kept per extract: enough to check a figure by hand, small enough for a JSON column.
ROW_CAP = 2000
_SQL_OPS = {"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


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
    period = Period.containing(extract.period, indicator.frequency)
    start = dt.datetime.combine(period.start, dt.time())
    end = dt.datetime.combine(period.shift(1).start, dt.time())
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


# --- whole-dataset extracts (数据调取, data assets) ------------------------------------------

#: Rows fetched from the store at a time: the extract never holds more than this in memory.
STREAM_BATCH = 10_000


def plain_cell(value: Any) -> Any:
    """A cell as an unmasked extract writes it (dates as text, as the masked extract does)."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@dataclass
class RecordStream:
    """The records of a dataset an extract asked for: the columns ([name, label]), how many
    match, and the rows (masked unless asked otherwise), fetched in batches."""

    columns: list[list[str]]
    matched: int
    rows: Iterator[list[Any]]


def stream_records(
    con: Any,
    dataset: Dataset,
    *,
    region_codes: list[str],
    period_field: str | None,
    start: dt.date,
    end: dt.date,
    fields: list[str],
    unmasked: bool,
    batch_size: int = STREAM_BATCH,
) -> RecordStream:
    """Records of ``dataset`` whose region is one of ``region_codes`` and whose
    ``period_field`` lies in [start, end], only ``fields`` (all when empty), in store order."""
    table_name = f"records_{dataset.code}"
    existing = {
        row[0]
        for row in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?",
            [table_name],
        ).fetchall()
    }
    columns, region_field, _key = _columns(dataset, existing)
    if fields:
        wanted = set(fields)
        columns = [c for c in columns if c[0] in wanted]
    if not existing or not columns or region_field not in existing:
        return RecordStream(columns=columns, matched=0, rows=iter(()))
    clauses = [f"list_contains(?::VARCHAR[], {store.ident(region_field)})"]
    params: list[Any] = [region_codes]
    if period_field and period_field in existing:
        column = store.ident(period_field)
        clauses.append(f"{column} >= ? AND {column} < ?")
        params += [
            dt.datetime.combine(start, dt.time()),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time()),
        ]
    where = " AND ".join(clauses)
    table = store.records_table(dataset.code)
    # Identifiers pass store.ident; values are parameters.
    matched = con.execute(f"SELECT count(*) FROM {table} WHERE {where}", params).fetchone()[0]  # noqa: S608
    select = ", ".join(store.ident(name) for name, _ in columns)
    # No ORDER BY: a sort makes DuckDB hold every matching row before the first one comes out
    # (about 100 MB a million rows); without it the result streams in the order the store holds
    # the records (DuckDB preserves insertion order by default).
    cursor = con.execute(f"SELECT {select} FROM {table} WHERE {where}", params)  # noqa: S608
    kinds = [field_kind(name, label) for name, label in columns]

    def rows() -> Iterator[list[Any]]:
        while True:
            chunk = cursor.fetchmany(batch_size)
            if not chunk:
                return
            for row in chunk:
                if unmasked:
                    yield [plain_cell(cell) for cell in row]
                else:
                    yield [mask_cell(kind, cell) for kind, cell in zip(kinds, row, strict=True)]

    return RecordStream(columns=columns, matched=int(matched), rows=rows())
