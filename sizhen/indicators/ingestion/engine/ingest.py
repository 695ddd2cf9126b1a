"""One validation path for every way records arrive (API push, CSV/XLSX file, scheduled pull).

Records are staged into DuckDB as text, typed and checked with set-based SQL (no Python loop
over rows), and merged into ``records_<dataset>`` in ONE DuckDB transaction together with a row
in ``loads``. A killed process therefore leaves the store exactly as before, and a re-run of the
same batch finds it either absent (and loads it) or committed (and only finishes bookkeeping).

Strict mode (default): any error rejects the whole batch. Lenient: valid rows load, invalid rows
are returned for the quarantine.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from sizhen.indicators.ingestion.engine.schemas import max_length_of
from sizhen.indicators.ingestion.engine.store import (
    SQL_TYPES,
    ensure_records_table,
    ident,
    records_table,
)

#: Row-level errors kept in full; beyond this only the count grows.
MAX_STORED_ERRORS = 10_000
DATETIME_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y%m%d%H%M%S",
    "%Y%m%d",
]
_TYPE_ERRORS = {
    "integer": ("invalid_integer", "应为整数"),
    "decimal": ("invalid_number", "应为数字"),
    "datetime": ("invalid_datetime", "应为日期时间，如 2025-10-09 14:30:00"),
    "date": ("invalid_date", "应为日期，如 2025-10-09"),
}

#: Cross-field rules of the built-in datasets, as SQL conditions that are TRUE for a bad row.
RULES: dict[str, list[dict[str, str]]] = {
    "gov_service_cases": [
        {
            "field": "accepted_at",
            "code": "date_order",
            "when": "accepted_at < submitted_at",
            "message": "受理时间早于申请时间",
        },
        {
            "field": "completed_at",
            "code": "date_order",
            "when": "completed_at < accepted_at",
            "message": "办结时间早于受理时间",
        },
        {
            "field": "completed_at",
            "code": "missing_completion",
            "when": "status = '办结' AND completed_at IS NULL AND r_completed_at IS NULL",
            "message": "办件状态为“办结”但没有办结时间",
        },
        {
            "field": "promised_limit",
            "code": "promise_exceeds_statute",
            "when": "promised_limit > statutory_limit",
            "message": "承诺时限不应超过法定时限",
        },
    ],
    "enterprise_startup": [
        {
            "field": "completed_at",
            "code": "date_order",
            "when": "completed_at < submitted_at",
            "message": "办结时间早于申请提交时间",
        }
    ],
    "utility_connections": [
        {
            "field": "connected_at",
            "code": "date_order",
            "when": "connected_at < applied_at",
            "message": "接通时间早于申请时间",
        }
    ],
    "bidding": [
        {
            "field": "awarded_at",
            "code": "date_order",
            "when": "awarded_at < announced_at",
            "message": "中标通知时间早于公告时间",
        }
    ],
    "construction_permits": [
        {
            "field": "permitted_at",
            "code": "date_order",
            "when": "permitted_at < applied_at",
            "message": "施工许可核发时间早于首次申请时间",
        },
        {
            "field": "completed_at",
            "code": "date_order",
            "when": "completed_at < applied_at",
            "message": "竣工验收备案时间早于首次申请时间",
        },
    ],
    "property_registrations": [
        {
            "field": "completed_at",
            "code": "date_order",
            "when": "completed_at < applied_at",
            "message": "登簿时间早于申请时间",
        },
    ],
    "court_cases": [
        {
            "field": "concluded_at",
            "code": "date_order",
            "when": "concluded_at < filed_at",
            "message": "结案时间早于立案时间",
        },
        {
            "field": "recovered_amount",
            "code": "recovered_exceeds_claim",
            "when": "recovered_amount > claim_amount",
            "message": "实际到位金额不应超过标的金额",
        },
    ],
    "labour_cases": [
        {
            "field": "closed_at",
            "code": "date_order",
            "when": "closed_at < accepted_at",
            "message": "结案时间早于受理时间",
        },
    ],
    "procurement": [
        {
            "field": "evaluated_at",
            "code": "date_order",
            "when": "evaluated_at < announced_at",
            "message": "评审结束时间早于采购公告时间",
        },
        {
            "field": "result_published_at",
            "code": "date_order",
            "when": "result_published_at < evaluated_at",
            "message": "结果公告时间早于评审结束时间",
        },
        {
            "field": "contract_signed_at",
            "code": "date_order",
            "when": "contract_signed_at < result_published_at",
            "message": "合同签订时间早于结果公告时间",
        },
    ],
    "market_supervision": [
        {
            "field": "grade",
            "code": "grade_required",
            "when": "record_kind = '信用评价' AND grade IS NULL",
            "message": "信用评价记录缺少信用等级",
        },
        {
            "field": "published",
            "code": "published_required",
            "when": "record_kind = '行政处罚' AND published IS NULL",
            "message": "行政处罚记录缺少是否公示",
        },
    ],
}


class FileProblem(ValueError):
    """The file as a whole cannot be loaded; the message tells the user what to fix."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass
class Spec:
    """A dataset schema version in the shape the engine needs."""

    code: str
    key: str
    fields: list[dict[str, Any]]
    region_field: str = "region_code"
    department_field: str = ""
    period_fields: list[str] = field(default_factory=list)
    #: Records may only name regions in this subtree (the sending department's), when set.
    allowed_region_path: str | None = None

    @property
    def names(self) -> list[str]:
        return [f["name"] for f in self.fields]

    def label(self, name: str) -> str:
        for f in self.fields:
            if f["name"] == name:
                return str(f["label"])
        return name


@dataclass
class LoadResult:
    total: int = 0
    imported: int = 0
    updated: int = 0
    ignored: int = 0
    rejected: int = 0
    error_count: int = 0
    errors: list[tuple[int, str, str, str, str]] = field(default_factory=list)
    quarantined: list[tuple[int, dict[str, Any], list[dict[str, str]]]] = field(
        default_factory=list
    )
    touched: list[tuple[str, str]] = field(default_factory=list)
    committed: bool = False
    warnings: list[str] = field(default_factory=list)


# --- staging ---------------------------------------------------------------------------------


def _normalise(name: Any) -> str:
    text = "" if name is None else str(name)
    return re.sub(r"[\s\*（）()：:\ufeff]", "", text).lower()


def map_header(header: list[str], spec: Spec) -> dict[str, int]:
    """Field name -> column position; accepts field names, Chinese labels and aliases."""
    lookup: dict[str, str] = {}
    for f in spec.fields:
        for name in (f["name"], f["label"], *f.get("aliases", [])):
            lookup[_normalise(name)] = f["name"]
    positions: dict[str, int] = {}
    for index, raw in enumerate(header):
        key = lookup.get(_normalise(raw))
        if key is None:
            continue
        if key in positions:
            raise FileProblem("duplicate_column", f"列“{raw}”与另一列都对应字段“{spec.label(key)}”")
        positions[key] = index
    missing = [
        spec.label(f["name"]) for f in spec.fields if f["required"] and f["name"] not in positions
    ]
    if missing:
        raise FileProblem("missing_columns", "缺少必填列：" + "、".join(missing))
    return positions


def ensure_utf8(path: Path, workdir: Path) -> tuple[Path, str]:
    """UTF-8 (with or without BOM) is used as is; otherwise GB18030 (a superset of GBK) is
    transcoded to a UTF-8 copy. Anything else is refused with a clear message."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 20)
    if head.startswith(b"\xef\xbb\xbf"):
        return path, "utf-8-sig"
    if _decodes(path, "utf-8"):
        return path, "utf-8"
    if _decodes(path, "gb18030"):
        target = workdir / (path.stem + ".utf8.csv")
        with (
            open(path, encoding="gb18030", newline="") as src,
            open(target, "w", encoding="utf-8", newline="") as dst,
        ):
            while chunk := src.read(1 << 22):
                dst.write(chunk)
        return target, "gb18030"
    raise FileProblem("bad_encoding", "无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV")


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 22):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _read_header(path: Path) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
    if not header or all(not h.strip() for h in header):
        raise FileProblem("empty_file", "文件为空：第一行应为列名")
    return header


#: Per connection: the SQL that re-reads the raw text of a staged CSV (for the rows that have
#: errors) and the temporary folder of a transcoded copy, removed by ``release``.
_CSV_SOURCES: dict[int, tuple[str, list[Any], Path]] = {}


def stage_csv(con: duckdb.DuckDBPyConnection, path: Path, spec: Spec) -> None:
    """Read and type a CSV file in one pass into temp table ``typed`` (raw text is re-read
    later only for rows with errors). UTF-8 (with or without BOM) is read directly; when DuckDB
    reports invalid UTF-8 the file is transcoded from GB18030 (a superset of GBK) first."""
    release(con)
    workdir = Path(tempfile.mkdtemp(prefix="sizhen-load-"))
    try:
        try:
            raw_sql, params = _type_utf8_csv(con, path, spec)
        except _NotUtf8:
            utf8_path, _encoding = ensure_utf8(path, workdir)
            try:
                raw_sql, params = _type_utf8_csv(con, utf8_path, spec)
            except _NotUtf8 as exc:  # pragma: no cover - ensure_utf8 produced UTF-8
                raise FileProblem(
                    "bad_encoding", "无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV"
                ) from exc
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    _CSV_SOURCES[id(con)] = (raw_sql, params, workdir)


def release(con: duckdb.DuckDBPyConnection) -> None:
    """Forget a connection's staged CSV and remove its transcoded copy, if any."""
    source = _CSV_SOURCES.pop(id(con), None)
    if source is not None:
        shutil.rmtree(source[2], ignore_errors=True)


class _NotUtf8(Exception):
    pass


def _type_utf8_csv(con: duckdb.DuckDBPyConnection, path: Path, spec: Spec) -> tuple[str, list[Any]]:
    try:
        header = _read_header(path)
    except UnicodeDecodeError as exc:
        raise _NotUtf8 from exc
    positions = map_header(header, spec)
    names = [f"c{i}" for i in range(len(header))]
    select = ", ".join(f"c{positions[name]} AS {ident(name)}" for name in positions)
    absent = ", ".join(f"NULL::VARCHAR AS {ident(n)}" for n in spec.names if n not in positions)
    columns = "{" + ", ".join(f"'{n}': 'VARCHAR'" for n in names) + "}"
    raw_sql = f"""SELECT {select}{", " + absent if absent else ""}
        FROM read_csv(?, header = true, columns = {columns}, delim = ',', quote = '"',
                      escape = '"', strict_mode = true, null_padding = false, parallel = true)"""
    params: list[Any] = [str(path)]
    con.execute("DROP TABLE IF EXISTS staging")
    try:
        _create_typed(con, spec, raw_sql, params)
    except duckdb.Error as exc:
        text = str(exc)
        if "invalid unicode" in text.lower():
            raise _NotUtf8 from exc
        line = re.search(r"[Ll]ine:?\s*(\d+)", text)
        where = f"（约第 {line.group(1)} 行）" if line else ""
        raise FileProblem(
            "malformed_csv",
            f"CSV 文件格式错误{where}：某些行的列数与表头不一致，或引号不配对。请检查后重新导出为"
            f"逗号分隔的 CSV。（{_short(exc)}）",
        ) from exc
    return raw_sql, params


def _create_typed(
    con: duckdb.DuckDBPyConnection, spec: Spec, raw_sql: str, params: list[Any] | None = None
) -> None:
    """One pass: raw text -> typed columns (plus the raw text of optional typed fields, which
    the checks need). Insertion order is preserved, so ``typed.rowid`` is the source order."""
    raw_columns = ", ".join(f"{ident(n)} AS r_{n}" for n in spec.names)
    typed_columns = ", ".join(f"{_typed_expression(f)} AS {ident(f['name'])}" for f in spec.fields)
    optional_raw = "".join(
        f", r_{f['name']}" for f in spec.fields if not f["required"] and f["type"] != "string"
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE typed AS
        SELECT {typed_columns}{optional_raw}
        FROM (SELECT {raw_columns} FROM ({raw_sql}))""",
        params or [],
    )


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:300]


def _count_typed(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT count(*) FROM typed").fetchall()[0]
    return int(row[0]) if row else 0


def _ensure_raw_staging(con: duckdb.DuckDBPyConnection) -> None:
    """The raw text of every row, for error messages: re-read the CSV when it was typed
    directly (only happens when some row has an error)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'staging'"
    ).fetchall()[0][0]
    if exists:
        return
    raw_sql, params, _workdir = _CSV_SOURCES[id(con)]
    con.execute(f"CREATE TEMP TABLE staging AS {raw_sql}", params)


def stage_xlsx(con: duckdb.DuckDBPyConnection, path: Path, spec: Spec) -> int:
    """XLSX via calamine (a Rust reader, ~10x openpyxl); values become text like CSV cells."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for corrupt files
        raise FileProblem(
            "corrupt_xlsx", "文件不是有效的 Excel（.xlsx）文件，或文件已损坏"
        ) from exc
    if not rows:
        raise FileProblem("empty_file", "文件为空：第一行应为列名")
    header = ["" if h is None else str(h) for h in rows[0]]
    positions = map_header(header, spec)
    columns: dict[str, list[str | None]] = {name: [] for name in spec.names}
    for values in rows[1:]:
        if all(v in (None, "") for v in values):
            continue
        for name in spec.names:
            index = positions.get(name)
            value = values[index] if index is not None and index < len(values) else None
            columns[name].append(_cell_text(value))
    _stage_arrow(con, columns, spec)
    return _count_typed(con)


def _cell_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def stage_records(
    con: duckdb.DuckDBPyConnection, records: Iterable[dict[str, Any]], spec: Spec
) -> int:
    """Stage JSON records (API push, pull): keys may be field names, Chinese labels or aliases."""
    records = list(records)
    keys: list[str] = []
    seen: set[str] = set()
    for record in records:
        if not isinstance(record, dict):
            raise FileProblem("bad_record", "records 中的每一项都应是对象（JSON object）")
        for key in record:
            if key not in seen:
                seen.add(key)
                keys.append(key)
    positions = map_header(keys, spec) if records else {}
    columns: dict[str, list[str | None]] = {name: [] for name in spec.names}
    for record in records:
        for name in spec.names:
            index = positions.get(name)
            value = record.get(keys[index]) if index is not None else None
            columns[name].append(_cell_text(value) if not isinstance(value, str) else value)
    _stage_arrow(con, columns, spec)
    return len(records)


def _stage_arrow(
    con: duckdb.DuckDBPyConnection, columns: dict[str, list[str | None]], spec: Spec
) -> None:
    release(con)
    table = pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})
    con.register("_staged_arrow", table)
    con.execute("CREATE OR REPLACE TEMP TABLE staging AS SELECT * FROM _staged_arrow")
    con.unregister("_staged_arrow")
    _create_typed(con, spec, "SELECT * FROM staging")


# --- validation ------------------------------------------------------------------------------


def _typed_expression(f: dict[str, Any]) -> str:
    name = f"r_{f['name']}"
    kind = f["type"]
    if kind == "string":
        return f"NULLIF(trim({name}), '')"
    raw = f"NULLIF({name}, '')"
    if kind == "integer":
        # "12" casts directly; "12.0" (from spreadsheets) goes through DOUBLE when integral.
        as_double = f"TRY_CAST({raw} AS DOUBLE)"
        return (
            f"COALESCE(TRY_CAST({raw} AS BIGINT), CASE WHEN {as_double} = floor({as_double}) "
            f"THEN TRY_CAST({as_double} AS BIGINT) END)"
        )
    if kind == "decimal":
        return f"TRY_CAST({raw} AS DOUBLE)"
    formats = "[" + ", ".join(f"'{fmt}'" for fmt in DATETIME_FORMATS) + "]"
    # ISO text takes the fast cast; other layouts fall back to the format list.
    parsed = f"COALESCE(TRY_CAST({raw} AS TIMESTAMP), try_strptime(trim({raw}), {formats}))"
    if kind == "datetime":
        return parsed
    if kind == "date":
        return f"CAST({parsed} AS DATE)"
    raise ValueError(f"unknown type {kind}")


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _checks(spec: Spec, *, with_duplicates: bool) -> list[tuple[str, str, str, str]]:
    """(field, code, bad-row SQL condition over `typed`, message SQL expression)."""
    checks: list[tuple[str, str, str, str]] = []
    for f in spec.fields:
        name, label = f["name"], f["label"]
        raw = f"NULLIF(trim(r_{name}), '')"
        if f["required"]:
            checks.append((name, "required", f"{raw} IS NULL", _quote(f"{label}不能为空")))
        if f["type"] in _TYPE_ERRORS:
            code, hint = _TYPE_ERRORS[f["type"]]
            checks.append(
                (
                    name,
                    code,
                    f"{raw} IS NOT NULL AND {ident(name)} IS NULL",
                    _quote(f"{label}{hint}，实为 ") + f" || {raw}",
                )
            )
        if (longest := max_length_of(f)) is not None:
            checks.append(
                (
                    name,
                    "too_long",
                    f"length({ident(name)}) > {longest}",
                    _quote(f"{label}长度不能超过 {longest} 个字符，实为 ")
                    + f" || length({ident(name)})",
                )
            )
        if "minimum" in f:
            checks.append(
                (
                    name,
                    "below_minimum",
                    f"{ident(name)} < {float(f['minimum'])}",
                    _quote(f"{label}不能小于 {f['minimum']:g}"),
                )
            )
        if f.get("allowed"):
            allowed = ", ".join(_quote(v) for v in f["allowed"])
            checks.append(
                (
                    name,
                    "not_allowed",
                    f"{ident(name)} IS NOT NULL AND {ident(name)} NOT IN ({allowed})",
                    _quote(f"{label}取值应为 {'/'.join(f['allowed'])}，实为 ")
                    + f" || {ident(name)}",
                )
            )
    if spec.region_field:
        rf = ident(spec.region_field)
        checks.append(
            (
                spec.region_field,
                "unknown_region",
                f"{rf} IS NOT NULL AND {rf} NOT IN (SELECT code FROM dim_region)",
                _quote("未知的区划代码 ") + f" || {rf}",
            )
        )
        if spec.allowed_region_path:
            checks.append(
                (
                    spec.region_field,
                    "region_out_of_scope",
                    _out_of_scope(spec),
                    _quote("区划代码 ") + f" || {rf} || " + _quote(" 不在本部门的管辖范围内"),
                )
            )
    if spec.department_field:
        df = ident(spec.department_field)
        checks.append(
            (
                spec.department_field,
                "unknown_department",
                f"{df} IS NOT NULL AND {df} NOT IN (SELECT code FROM dim_department)",
                _quote("未知的部门（实施机构）编码 ") + f" || {df}",
            )
        )
    if with_duplicates:
        checks.append(
            (
                spec.key,
                "duplicate_key",
                "_dup_first IS NOT NULL AND _row <> _dup_first",
                _quote(f"{spec.label(spec.key)}在本批次中重复，首次出现在第 ")
                + " || _dup_first || ' 行'",
            )
        )
    for rule in RULES.get(spec.code, []):
        checks.append((rule["field"], rule["code"], f"({rule['when']})", _quote(rule["message"])))
    return checks


def _out_of_scope(spec: Spec) -> str:
    region = ident(spec.region_field)
    prefix = _quote(spec.allowed_region_path or "/")
    return (
        f"({region} IN (SELECT code FROM dim_region) AND {region} NOT IN "
        f"(SELECT code FROM dim_region WHERE starts_with(path, {prefix})))"
    )


def _flag_conditions(spec: Spec) -> list[str]:
    """Cheap per-row conditions, over typed columns, that are TRUE when a row has any error.
    Kept separate from the detailed checks so a clean file costs one light scan."""
    conditions = []
    for f in spec.fields:
        name = ident(f["name"])
        if f["required"]:
            conditions.append(f"{name} IS NULL")
        elif f["type"] != "string":
            conditions.append(f"({name} IS NULL AND NULLIF(trim(r_{f['name']}), '') IS NOT NULL)")
        if (longest := max_length_of(f)) is not None:
            conditions.append(f"length({name}) > {longest}")
        if "minimum" in f:
            conditions.append(f"{name} < {float(f['minimum'])}")
        if f.get("allowed"):
            allowed = ", ".join(_quote(v) for v in f["allowed"])
            conditions.append(f"{name} NOT IN ({allowed})")
    if spec.region_field:
        conditions.append(f"{ident(spec.region_field)} NOT IN (SELECT code FROM dim_region)")
        if spec.allowed_region_path:
            conditions.append(_out_of_scope(spec))
    if spec.department_field:
        conditions.append(
            f"{ident(spec.department_field)} NOT IN (SELECT code FROM dim_department)"
        )
    conditions.extend(f"({rule['when']})" for rule in RULES.get(spec.code, []))
    return conditions


def validate(con: duckdb.DuckDBPyConnection, spec: Spec, *, first_row_number: int = 2) -> int:
    """Collect the errors of the typed rows into temp table ``errors``; returns their count.

    One light scan over ``typed`` finds the rows failing any check; the detailed error rows
    are produced from those rows only (usually few), joined back to their raw text. A row's
    number is its position in the source (``typed.rowid``) plus ``first_row_number``."""
    n = int(first_row_number)
    key = ident(spec.key)
    any_bad = " OR ".join(_flag_conditions(spec))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE bad_rows AS SELECT rowid + {n} AS _row FROM typed "
        f"WHERE COALESCE({any_bad}, false)"
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE dup_keys AS
        SELECT {key} AS k, min(rowid) + {n} AS first_row FROM typed
        WHERE {key} IS NOT NULL GROUP BY {key} HAVING count(*) > 1"""
    )
    duplicates = con.execute("SELECT count(*) FROM dup_keys").fetchall()[0]
    with_duplicates = bool(duplicates and duplicates[0])
    if with_duplicates:
        con.execute(
            f"""INSERT INTO bad_rows SELECT t.rowid + {n} FROM typed t JOIN dup_keys d ON d.k = t.{key}
            WHERE t.rowid + {n} <> d.first_row AND t.rowid + {n} NOT IN (SELECT _row FROM bad_rows)"""
        )
    checks = _checks(spec, with_duplicates=with_duplicates)
    bad_count = con.execute("SELECT count(*) FROM bad_rows").fetchall()[0]
    if not bad_count or not bad_count[0]:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE errors (_row BIGINT, field VARCHAR, code VARCHAR, "
            "message VARCHAR, value VARCHAR)"
        )
        return 0
    _ensure_raw_staging(con)
    dup_join = f"LEFT JOIN dup_keys d ON d.k = t.{key}" if with_duplicates else ""
    dup_column = ", d.first_row AS _dup_first" if with_duplicates else ""
    raw_select = ", ".join(f"s.{ident(name)} AS r_{name}" for name in spec.names)
    typed_select = ", ".join(f"t.{ident(name)}" for name in spec.names)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE bad AS
        SELECT t.rowid + {n} AS _row, {raw_select}, {typed_select}{dup_column}
        FROM typed t JOIN staging s ON s.rowid = t.rowid {dup_join}
        WHERE t.rowid + {n} IN (SELECT _row FROM bad_rows)"""
    )
    parts = [
        f"SELECT _row, {_quote(name)} AS field, {_quote(code)} AS code, "
        f"CAST({message} AS VARCHAR) AS message, "
        f"CAST({('r_' + name) if name in spec.names else 'NULL'} AS VARCHAR) AS value "
        f"FROM bad WHERE {condition}"
        for name, code, condition, message in checks
    ]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE errors AS "
        + " UNION ALL ".join(parts)
        + " ORDER BY _row, field"
    )
    row = con.execute("SELECT count(*) FROM errors").fetchall()[0]
    return int(row[0]) if row else 0


# --- merge -----------------------------------------------------------------------------------


def merge(
    con: duckdb.DuckDBPyConnection,
    spec: Spec,
    *,
    batch_id: int,
    lenient: bool,
    dry_run: bool,
    first_row_number: int = 2,
) -> LoadResult:
    """Validate the staged rows and, unless rejected or a dry run, commit them atomically.

    ``first_row_number`` is what the first data row is called in the report: 2 for a file
    (row 1 is the header, as a spreadsheet shows it), 1 for pushed records (their position)."""
    result = LoadResult()
    already = committed_load(con, spec, batch_id)
    result.total = _count_typed(con)
    ensure_records_table(con, spec.code, spec.fields)
    error_count = validate(con, spec, first_row_number=first_row_number)
    result.error_count = error_count
    result.errors = [
        (int(r[0]), r[1], r[2], r[3], r[4] or "")
        for r in con.execute(f"SELECT * FROM errors LIMIT {MAX_STORED_ERRORS}").fetchall()
    ]
    bad_rows = con.execute("SELECT count(*) FROM bad_rows").fetchall()[0]
    rejected_rows = int(bad_rows[0]) if bad_rows else 0
    if already is not None:
        # Committed by an earlier run of this batch that died before its bookkeeping: report
        # what that run committed, including what it touched, so the recompute is still queued.
        result.imported, result.updated, result.ignored = (
            already.imported,
            already.updated,
            already.ignored,
        )
        result.touched = already.touched
        result.rejected = rejected_rows
        if lenient and rejected_rows:
            result.quarantined = _quarantine_rows(con, spec)
        result.committed = True
        return result
    if error_count and not lenient:
        result.rejected = result.total
        return result
    result.rejected = rejected_rows
    if lenient and rejected_rows:
        result.quarantined = _quarantine_rows(con, spec)
    table = records_table(spec.code)
    key = ident(spec.key)
    typed_names = ", ".join(ident(n) for n in spec.names)
    only_valid = (
        f"WHERE rowid + {int(first_row_number)} NOT IN (SELECT _row FROM bad_rows)"
        if rejected_rows
        else ""
    )
    existing = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0]
    if existing and existing[0]:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE classified AS
            SELECT i.*, CASE WHEN r.{key} IS NULL THEN 'new'
                             WHEN r._row_hash = i._row_hash THEN 'same' ELSE 'changed' END AS _kind
            FROM (SELECT {typed_names}, hash({typed_names}) AS _row_hash FROM typed {only_valid}) i
            LEFT JOIN (SELECT {key}, _row_hash FROM {table}) r ON r.{key} = i.{key}"""
        )
    else:
        # First load of this dataset: everything is new, no join needed.
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE classified AS
            SELECT {typed_names}, hash({typed_names}) AS _row_hash, 'new' AS _kind
            FROM typed {only_valid}"""
        )
    counts = dict(con.execute("SELECT _kind, count(*) FROM classified GROUP BY _kind").fetchall())
    result.imported = int(counts.get("new", 0))
    result.updated = int(counts.get("changed", 0))
    result.ignored = int(counts.get("same", 0))
    result.touched = _touched(con, spec, table)
    if dry_run:
        return result
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM classified WHERE _kind = 'changed')"
        )
        con.execute(
            f"""INSERT INTO {table} ({typed_names}, _batch_id, _row_hash, _loaded_at)
            SELECT {typed_names}, ?, _row_hash, ? FROM classified WHERE _kind <> 'same'""",
            [batch_id, now],
        )
        con.execute(
            "INSERT INTO loads (batch_id, dataset, committed_at, imported, updated, ignored, "
            "rejected, touched) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                batch_id,
                spec.code,
                now,
                result.imported,
                result.updated,
                result.ignored,
                result.rejected,
                json.dumps(result.touched),
            ],
        )
        if os.environ.get("SIZHEN_TEST_CRASH_BEFORE_COMMIT") == "1":
            # Test hook: simulate the process dying inside the transaction.
            os._exit(17)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    if os.environ.get("SIZHEN_TEST_CRASH_AFTER_COMMIT") == "1":
        # Test hook: the process dies after the store committed, before the batch's report.
        os._exit(18)
    result.committed = True
    return result


def committed_load(con: duckdb.DuckDBPyConnection, spec: Spec, batch_id: int) -> LoadResult | None:
    """What the store committed for a batch (None when it holds nothing of it): the counts and
    the (region, month) pairs it touched. Stores written before ``touched`` was recorded give
    the months of the rows the batch wrote (the replaced versions' months are gone)."""
    rows = con.execute(
        "SELECT imported, updated, ignored, rejected, touched FROM loads WHERE batch_id = ?",
        [batch_id],
    ).fetchall()
    if not rows:
        return None
    imported, updated, ignored, rejected, touched = rows[0]
    result = LoadResult(
        imported=int(imported),
        updated=int(updated),
        ignored=int(ignored),
        rejected=int(rejected or 0),
        committed=True,
    )
    result.total = result.imported + result.updated + result.ignored + result.rejected
    if touched is not None:
        result.touched = [(str(r), str(m)) for r, m in json.loads(touched)]
    elif spec.period_fields and spec.region_field:
        region = ident(spec.region_field)
        months = " UNION ".join(
            f"SELECT {region}, strftime({ident(p)}, '%Y-%m') FROM {records_table(spec.code)} "
            f"WHERE _batch_id = {int(batch_id)} AND {ident(p)} IS NOT NULL"
            for p in spec.period_fields
        )
        result.touched = [
            (str(r), str(m)) for r, m in con.execute(f"{months} ORDER BY 1, 2").fetchall()
        ]
    return result


def _touched(con: duckdb.DuckDBPyConnection, spec: Spec, table: str) -> list[tuple[str, str]]:
    """(region code, YYYY-MM) pairs whose values this load can change: months of the new rows
    and of the old versions of rows it replaces, for every period field."""
    if not spec.period_fields or not spec.region_field:
        return []
    region = ident(spec.region_field)
    key = ident(spec.key)
    parts = []
    for period_field in spec.period_fields:
        p = ident(period_field)
        parts.append(
            f"SELECT {region} AS region, strftime({p}, '%Y-%m') AS month FROM classified "
            f"WHERE _kind <> 'same' AND {p} IS NOT NULL"
        )
        parts.append(
            f"SELECT r.{region}, strftime(r.{p}, '%Y-%m') FROM {table} r "
            f"JOIN classified c ON c.{key} = r.{key} WHERE c._kind = 'changed' AND r.{p} IS NOT NULL"
        )
    rows = con.execute(
        "SELECT DISTINCT * FROM (" + " UNION ALL ".join(parts) + ") ORDER BY 1, 2"
    ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def _quarantine_rows(
    con: duckdb.DuckDBPyConnection, spec: Spec
) -> list[tuple[int, dict[str, Any], list[dict[str, str]]]]:
    raw = ", ".join(f"b.r_{n}" for n in spec.names)
    rows = con.execute(
        f"""SELECT b._row, {raw}, list({{'field': e.field, 'code': e.code, 'message': e.message}})
        FROM bad b JOIN errors e ON e._row = b._row
        GROUP BY b._row, {raw} ORDER BY b._row LIMIT {MAX_STORED_ERRORS}"""
    ).fetchall()
    out = []
    for row in rows:
        data = {name: row[1 + i] for i, name in enumerate(spec.names)}
        out.append((int(row[0]), data, list(row[-1])))
    return out


def csv_text(rows: list[dict[str, Any]], names: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=names)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in names})
    return buffer.getvalue()


__all__ = [
    "MAX_STORED_ERRORS",
    "SQL_TYPES",
    "FileProblem",
    "LoadResult",
    "Spec",
    "committed_load",
    "map_header",
    "merge",
    "stage_csv",
    "stage_records",
    "stage_xlsx",
    "validate",
]
