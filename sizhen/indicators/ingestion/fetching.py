"""Fetching for scheduled pulls (定时拉取): records from an HTTP JSON endpoint
(``GET url?since=<watermark>``) or a read-only SQL query with a ``:watermark`` parameter (SQLite
or PostgreSQL by the URL's scheme), and the largest watermark (水位) among them. A failure is a
``PullError`` whose message, in Chinese, is recorded as the source's ``last_status``."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
import re
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from sizhen.core.errors import ServiceError
from sizhen.indicators.ingestion.choices import PullKind
from sizhen.indicators.ingestion.loads import MAX_API_RECORDS
from sizhen.indicators.ingestion.models import PullSource

logger = logging.getLogger(__name__)


TIMEOUT_SECONDS = 30
#: A response larger than this is refused rather than read into memory.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
MAX_PULL_RECORDS = MAX_API_RECORDS


HTTP_SCHEMES = ("http", "https")
SQLITE_SCHEMES = ("sqlite",)
POSTGRES_SCHEMES = ("postgresql", "postgres")
WATERMARK_PARAMETER = re.compile(r"(?<![:\w]):watermark\b")


class PullError(ServiceError):
    """Why a pull failed, in Chinese, for ``last_status``."""


def _http_url(source: PullSource) -> str:
    parts = urllib.parse.urlsplit(source.url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, v) for k, v in query if k != "since"]
    if source.watermark_value:
        query.append(("since", source.watermark_value))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def fetch_http_json(source: PullSource) -> list[dict[str, Any]]:
    url = _http_url(source)
    if urllib.parse.urlsplit(url).scheme not in HTTP_SCHEMES:
        raise PullError("接口地址应以 http:// 或 https:// 开头")
    headers = {"Accept": "application/json", "User-Agent": "sizhen-pull/1"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - scheme checked above
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            body = response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise PullError(f"接口返回 HTTP {exc.code}") from exc
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise PullError(f"连接接口超时（{TIMEOUT_SECONDS} 秒）") from exc
        raise PullError(f"无法连接接口：{reason}") from exc
    except TimeoutError as exc:
        raise PullError(f"读取接口超时（{TIMEOUT_SECONDS} 秒）") from exc
    except OSError as exc:
        raise PullError(f"读取接口失败：{exc}") from exc
    if len(body) > MAX_RESPONSE_BYTES:
        raise PullError(
            f"接口返回的数据超过 {MAX_RESPONSE_BYTES // 1024 // 1024} MB，请缩小单次返回量"
        )
    try:
        payload = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise PullError("接口返回的不是有效的 JSON（UTF-8）") from exc
    return _records_from(payload, source.records_path)


def _records_from(payload: Any, records_path: str) -> list[dict[str, Any]]:
    records = payload
    if isinstance(payload, dict):
        path = [part for part in (records_path or "").split(".") if part]
        if not path:
            raise PullError("接口返回的是 JSON 对象，请设置“JSON 记录路径”")
        for part in path:
            if not isinstance(records, dict) or part not in records:
                raise PullError(f"接口返回的 JSON 中没有记录列表（路径 {records_path}）")
            records = records[part]
    if not isinstance(records, list):
        raise PullError("接口返回的记录应为 JSON 数组")
    if any(not isinstance(r, dict) for r in records):
        raise PullError("记录列表中的每一项都应是 JSON 对象")
    return records


def _sql_connection(url: str) -> Any:
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in SQLITE_SCHEMES:
        path = url.split("://", 1)[1]
        # sqlite:///relative.db and sqlite:////absolute/path.db, as SQLAlchemy writes them.
        path = path[1:] if path.startswith("/") else path
        if not path:
            raise PullError("SQLite 连接串应写为 sqlite:////绝对路径/文件.db")
        quoted = urllib.parse.quote(path)
        # Read-only: a pull never writes to the source system.
        return sqlite3.connect(f"file:{quoted}?mode=ro", uri=True, timeout=TIMEOUT_SECONDS)
    if scheme in POSTGRES_SCHEMES:
        import psycopg

        connection = psycopg.connect(
            url,
            connect_timeout=TIMEOUT_SECONDS,
            options=f"-c statement_timeout={TIMEOUT_SECONDS * 1000}",
        )
        connection.read_only = True
        return connection
    raise PullError("数据库连接串应以 sqlite:// 或 postgresql:// 开头")


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def fetch_sql(source: PullSource) -> list[dict[str, Any]]:
    if not WATERMARK_PARAMETER.search(source.query or ""):
        raise PullError("SQL 查询中应包含 :watermark 参数")
    try:
        connection = _sql_connection(source.url)
    except PullError:
        raise
    except Exception as exc:  # sqlite3.Error, psycopg.Error: the driver's own message
        raise PullError(f"无法连接数据库：{exc}") from exc
    try:
        cursor = connection.cursor()
        if isinstance(connection, sqlite3.Connection):
            cursor.execute(source.query, {"watermark": source.watermark_value})
        else:
            # psycopg's named style; a literal % must be doubled to survive it.
            query = WATERMARK_PARAMETER.sub("%(watermark)s", source.query.replace("%", "%%"))
            cursor.execute(query, {"watermark": source.watermark_value})
        names = [column[0] for column in cursor.description or []]
        rows = cursor.fetchmany(MAX_PULL_RECORDS + 1)
    except PullError:
        raise
    except Exception as exc:
        raise PullError(f"数据库查询失败：{exc}") from exc
    finally:
        connection.close()
    if not names:
        raise PullError("SQL 查询没有返回列")
    return [{name: _plain(value) for name, value in zip(names, row, strict=True)} for row in rows]


def fetch(source: PullSource) -> list[dict[str, Any]]:
    if source.kind == PullKind.HTTP_JSON:
        return fetch_http_json(source)
    if source.kind == PullKind.SQL:
        return fetch_sql(source)
    raise PullError(f"未知的对接类型：{source.kind}")


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def _watermark_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(_plain(value))


def _later(a: str, b: str) -> str:
    """The later of two watermarks: numerically when both are numbers, else as text (ISO
    dates and times order correctly as text)."""
    if not a:
        return b
    if not b:
        return a
    x, y = _as_number(a), _as_number(b)
    if x is not None and y is not None:
        return a if x >= y else b
    return a if a >= b else b


def max_watermark(records: list[dict[str, Any]], field: str) -> str:
    values = [record.get(field) for record in records]
    missing = sum(1 for v in values if v is None or v == "")
    if missing:
        raise PullError(f"有 {missing} 条记录缺少水位字段“{field}”，本次未入库")
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) == len(values):
        result = _watermark_text(max(numbers))
    else:
        texts = [_watermark_text(v) for v in values]
        result = texts[0]
        for text in texts[1:]:
            result = _later(result, text)
    if len(result) > 60:
        raise PullError(f"水位字段“{field}”的值过长（超过 60 个字符）")
    return result
