"""XLSX in and out: exports of any list, import templates, all-or-nothing imports with a
row-level error report (行级错误报告)."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from zipfile import BadZipFile

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_IMPORT_ROWS = 200_000
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    required: bool = False
    help: str = ""
    aliases: tuple[str, ...] = ()
    width: int = 18


#: Leading characters that make a spreadsheet treat text as a formula (OWASP CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | decimal.Decimal):
        return value
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value).replace(tzinfo=None)
        return value
    if isinstance(value, dt.date | dt.time):
        return value
    # Anything else (lazy translations, UUIDs, dicts) is written as its text.
    text = _ILLEGAL.sub("", str(value))
    # Neutralise spreadsheet formula injection (CSV/XLSX injection).
    if text.startswith(_FORMULA_START) and not _looks_numeric(text):
        return "'" + text
    return text


def _looks_numeric(value: str) -> bool:
    # "-12.5" is a number written as text, not a formula; "-inf"/"nan" are not numbers here.
    return re.fullmatch(r"[+-]?\d+(\.\d+)?([eE][+-]?\d+)?", value) is not None


def build_workbook(
    sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]],
) -> bytes:
    wb = Workbook(write_only=True)
    for title, headers, rows in sheets:
        ws = wb.create_sheet(title=title[:31])
        ws.append([_cell(h) for h in headers])
        for row in rows:
            ws.append([_cell(v) for v in row])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def stream_rows_to_file(
    path: str | os.PathLike[str],
    file_format: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    progress: Callable[[int], None] | None = None,
    every: int = 50_000,
) -> int:
    """Write rows to a CSV (UTF-8 with BOM, for Excel) or XLSX file as they come, never holding
    the file in memory: csv.writer writes through, openpyxl's write-only workbook keeps each
    row in a temporary file until ``save``. Cells pass the same formula-injection guard as
    every export. Returns the number of rows; ``progress(rows)`` is called every ``every``."""
    count = 0
    if file_format == "csv":
        with open(path, "w", newline="", encoding="utf-8-sig") as handle:
            writer = csv.writer(handle)
            writer.writerow([_cell(h) for h in headers])
            for row in rows:
                writer.writerow([_csv_cell(v) for v in row])
                count += 1
                if progress is not None and count % every == 0:
                    progress(count)
        return count
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title="数据")
    ws.append([_cell(h) for h in headers])
    for row in rows:
        ws.append([_cell(v) for v in row])
        count += 1
        if progress is not None and count % every == 0:
            progress(count)
    wb.save(path)
    return count


def _csv_cell(value: Any) -> Any:
    value = _cell(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    from urllib.parse import quote

    name = f"{filename}-{stamp}.xlsx"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


def template_workbook(columns: Sequence[Column], example: Sequence[Any], notes: str = "") -> bytes:
    """An import template: the header row, one example row, and a sheet explaining each column."""
    wb = Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append([c.label for c in columns])
    ws.append(list(example))
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FDE9D9")
    for index, column in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=index)
        cell.font = bold
        if column.required:
            cell.fill = required_fill
        ws.column_dimensions[cell.column_letter].width = column.width
    guide = wb.create_sheet("填写说明")
    guide.append(["列名", "是否必填", "说明"])
    for column in columns:
        guide.append([column.label, "必填" if column.required else "选填", column.help])
    if notes:
        guide.append([])
        guide.append([notes])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


@dataclass
class RowError:
    row: int
    column: str
    code: str
    message: str


@dataclass
class ImportReport:
    """What an import did, or would have done; no row is written while ``errors`` is non-empty."""

    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    fatal: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors and not self.fatal

    def add(self, row: int, column: str, code: str, message: str) -> None:
        self.errors.append(RowError(row, column, code, message))

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "fatal": self.fatal,
            "errors": [e.__dict__ for e in self.errors],
        }

    def error_workbook(self) -> bytes:
        return build_workbook(
            [
                (
                    "错误报告",
                    # The Chinese message first; the code after it is for whoever fixes the file.
                    ["行号", "列", "说明", "错误代码"],
                    ([e.row, e.column, e.message, e.code] for e in self.errors)
                    if self.errors
                    else [[0, "", self.fatal, "fatal"]],
                )
            ]
        )


class ImportFileError(ValueError):
    """The file as a whole cannot be read; the message says why, in Chinese."""


def _normalise_header(value: Any) -> str:
    text = "" if value is None else str(value)
    return re.sub(r"[\s\*（）()：:]", "", text).lower()


def read_xlsx_rows(
    data: bytes, columns: Sequence[Column], *, max_rows: int = MAX_IMPORT_ROWS
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (row number as shown in Excel, {key: value}) from the first sheet.

    Raises ImportFileError for a file that is not XLSX, has no header, lacks required columns,
    or is larger than ``max_rows``."""
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise ImportFileError("文件不是有效的 Excel（.xlsx）文件，或文件已损坏") from exc
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise ImportFileError("文件为空：第一行应为列名")
        lookup: dict[str, str] = {}
        for column in columns:
            for name in (column.label, column.key, *column.aliases):
                lookup[_normalise_header(name)] = column.key
        positions: dict[int, str] = {}
        seen: set[str] = set()
        for index, name in enumerate(header):
            key = lookup.get(_normalise_header(name))
            if key is not None:
                if key in seen:
                    raise ImportFileError(f"列“{name}”重复出现")
                seen.add(key)
                positions[index] = key
        missing = [c.label for c in columns if c.required and c.key not in seen]
        if missing:
            raise ImportFileError("缺少必填列：" + "、".join(missing) + "（请使用下载的模板）")
        for number, values in enumerate(rows, start=2):
            if values is None or all(v is None or str(v).strip() == "" for v in values):
                continue
            if number - 1 > max_rows:
                raise ImportFileError(f"文件超过 {max_rows} 行，请分批导入")
            record: dict[str, Any] = {key: None for key in positions.values()}
            for index, key in positions.items():
                if index < len(values):
                    value = values[index]
                    record[key] = value.strip() if isinstance(value, str) else value
            yield number, record
    finally:
        wb.close()


@dataclass
class ImportSpec:
    """Describes one XLSX import: its columns and how each row is validated and saved."""

    columns: Sequence[Column]
    #: validate(row_number, record, report, context) -> cleaned object or None when invalid
    validate: Callable[[int, dict[str, Any], ImportReport, dict[str, Any]], Any]
    #: save(cleaned_rows, report, actor) writes everything (called only when there is no error)
    save: Callable[[list[Any], ImportReport, Any], None]
    #: key(cleaned) -> a value that must be unique within the file
    unique_key: Callable[[Any], Any] | None = None
    unique_label: str = ""
