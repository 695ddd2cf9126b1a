"""Scheduled pulls (数据对接/定时拉取) from source systems, incremental by a watermark (水位).

A pull source is an HTTP JSON endpoint (``GET url?since=<watermark>``) or a SQL database (a
read-only query with a ``:watermark`` parameter; SQLite or PostgreSQL by the URL's scheme).
What it returns goes through ``loads.submit_records``, the one validation path of every record;
when the batch is accepted the watermark moves to the largest watermark value pulled, in the
same transaction. A failed fetch or a rejected batch records why and leaves the watermark where
it was, so the next run asks again for the same records."""

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
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from sizhen.core.access import has_role
from sizhen.core.audit import changed, record_event, snapshot
from sizhen.core.jobs import JobContext, enqueue, job, schedule
from sizhen.core.models import Job
from sizhen.indicators.choices import LoadChannel, LoadStatus, PullKind
from sizhen.indicators.loads import MAX_API_RECORDS, submit_records
from sizhen.indicators.models import DATA_ADMINS, PullSource

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30
#: A response larger than this is refused rather than read into memory.
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
MAX_PULL_RECORDS = MAX_API_RECORDS
MIN_INTERVAL_MINUTES = 5
MAX_INTERVAL_MINUTES = 7 * 24 * 60
HTTP_SCHEMES = ("http", "https")
SQLITE_SCHEMES = ("sqlite",)
POSTGRES_SCHEMES = ("postgresql", "postgres")
_WATERMARK_PARAMETER = re.compile(r"(?<![:\w]):watermark\b")
_FIELD_NAME = re.compile(r"^[\w\u4e00-\u9fff.-]{1,40}$")
_URL_PASSWORD = re.compile(r"(://[^/:@]*:)[^/@]*@")
EDITABLE_FIELDS = (
    "name",
    "dataset",
    "department",
    "kind",
    "url",
    "query",
    "records_path",
    "watermark_field",
    "watermark_value",
    "interval_minutes",
    "is_active",
)


class PullError(Exception):
    """Why a pull failed, in Chinese, for ``last_status``."""


@dataclass
class PullOutcome:
    status: str  # loaded / empty / rejected / failed / skipped
    message: str
    records: int = 0
    batch_id: int | None = None
    watermark: str = ""


def mask_url(url: str) -> str:
    """The URL with any password replaced, for pages and the audit log."""
    return _URL_PASSWORD.sub(r"\1***@", url or "")


# --- fetching ------------------------------------------------------------------------------


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
    if not _WATERMARK_PARAMETER.search(source.query or ""):
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
            query = _WATERMARK_PARAMETER.sub("%(watermark)s", source.query.replace("%", "%%"))
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


# --- watermark -----------------------------------------------------------------------------


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


# --- running -------------------------------------------------------------------------------


def _finish(
    source_id: int, *, status: str, message: str, before: str, watermark: str | None = None
) -> None:
    updates: dict[str, Any] = {"last_run_at": timezone.now(), "last_status": message[:200]}
    if watermark is not None:
        updates["watermark_value"] = watermark
    PullSource.objects.filter(pk=source_id).update(**updates)
    source = PullSource.objects.get(pk=source_id)
    record_event(
        "pull_source.run" if status != "failed" else "pull_source.failed",
        actor=None,
        obj=source,
        before={"watermark_value": before},
        after={"status": status, "watermark_value": source.watermark_value},
        message=message,
    )


def run_pull(source: PullSource) -> PullOutcome:
    """Fetch what is new since the watermark, submit it, move the watermark if accepted."""
    source = PullSource.objects.select_related("dataset", "department").get(pk=source.pk)
    seen = source.watermark_value
    try:
        records = fetch(source)
        if len(records) > MAX_PULL_RECORDS:
            raise PullError(
                f"单次拉取超过 {MAX_PULL_RECORDS} 条；请在查询或接口中按水位字段排序并限制条数"
            )
        new_watermark = max_watermark(records, source.watermark_field) if records else ""
    except PullError as problem:
        message = f"失败：{problem}"
        with transaction.atomic():
            _finish(source.pk, status="failed", message=message, before=seen)
        return PullOutcome("failed", message)
    if not records:
        message = "无新数据"
        with transaction.atomic():
            _finish(source.pk, status="empty", message=message, before=seen)
        return PullOutcome("empty", message, watermark=seen)
    try:
        return _submit(source, records, seen, new_watermark)
    except Exception as exc:
        # The batch and the watermark rolled back together; say so and let the next run retry.
        logger.exception("pull %s failed", source.pk)
        message = f"失败：入库时出错（{type(exc).__name__}: {exc}）"
        with transaction.atomic():
            _finish(source.pk, status="failed", message=message, before=seen)
        return PullOutcome("failed", message)


@transaction.atomic
def _submit(
    source: PullSource, records: list[dict[str, Any]], seen: str, new_watermark: str
) -> PullOutcome:
    locked = PullSource.objects.select_for_update().get(pk=source.pk)
    if locked.watermark_value != seen:
        # Another run moved the watermark while this one fetched: its records are in already.
        message = "已跳过：另一次拉取同时完成，本次结果未入库"
        _finish(locked.pk, status="skipped", message=message, before=seen)
        return PullOutcome("skipped", message, watermark=locked.watermark_value)
    batch, created = submit_records(actor=None, dataset=source.dataset, records=records)
    if created:
        batch.channel = LoadChannel.PULL
        batch.department = source.department
        batch.file_name = f"定时拉取：{source.name}"[:200]
        batch.save(update_fields=["channel", "department", "file_name"])
    if batch.status in (LoadStatus.REJECTED, LoadStatus.FAILED):
        message = f"校验未通过：批次 #{batch.pk}，{batch.message}"
        _finish(locked.pk, status="rejected", message=message, before=seen)
        return PullOutcome("rejected", message, len(records), batch.pk, seen)
    watermark = _later(seen, new_watermark)
    message = f"成功：拉取 {len(records)} 条，批次 #{batch.pk}，水位 {watermark}"
    _finish(locked.pk, status="loaded", message=message, before=seen, watermark=watermark)
    return PullOutcome("loaded", message, len(records), batch.pk, watermark)


def due_sources(now: dt.datetime | None = None) -> list[PullSource]:
    now = now or timezone.now()
    return [
        source
        for source in PullSource.objects.filter(is_active=True).order_by("pk")
        if source.last_run_at is None
        or source.last_run_at + dt.timedelta(minutes=source.interval_minutes) <= now
    ]


@job("indicators.pull_sources", label="定时拉取数据", max_attempts=1)
def pull_sources_job(ctx: JobContext) -> dict[str, Any]:
    sources = due_sources()
    results: dict[str, str] = {}
    for index, source in enumerate(sources, start=1):
        ctx.progress(index - 1, len(sources), f"拉取 {source.name}")
        results[str(source.pk)] = run_pull(source).status
    ctx.progress(len(sources), len(sources), "完成")
    return {"sources": results}


@job("indicators.run_pull", label="立即拉取数据", max_attempts=1)
def run_pull_job(ctx: JobContext, *, source_id: int) -> dict[str, Any]:
    outcome = run_pull(PullSource.objects.get(pk=source_id))
    return {"status": outcome.status, "message": outcome.message, "batch": outcome.batch_id}


schedule("indicators.pull_sources", every=dt.timedelta(minutes=5))


# --- configuration services ----------------------------------------------------------------


def configuration_problems(data: dict[str, Any]) -> dict[str, str]:
    """Field -> problem (Chinese) of a pull source's configuration."""
    problems: dict[str, str] = {}
    kind = data.get("kind")
    url = str(data.get("url") or "").strip()
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if not str(data.get("name") or "").strip():
        problems["name"] = "请填写名称"
    if kind == PullKind.HTTP_JSON:
        if scheme not in HTTP_SCHEMES or not urllib.parse.urlsplit(url).netloc:
            problems["url"] = "接口地址应以 http:// 或 https:// 开头，如 http://10.0.0.8/api/cases"
    elif kind == PullKind.SQL:
        if scheme not in SQLITE_SCHEMES + POSTGRES_SCHEMES:
            problems["url"] = (
                "数据库连接串应为 sqlite:////绝对路径/文件.db 或 "
                "postgresql://用户:密码@主机:端口/库名"
            )
        query = str(data.get("query") or "").strip()
        if not query:
            problems["query"] = "请填写 SQL 查询"
        elif not re.match(r"^(select|with)\b", query, re.IGNORECASE):
            problems["query"] = "只能使用查询语句（SELECT 或 WITH 开头）"
        elif not _WATERMARK_PARAMETER.search(query):
            problems["query"] = "SQL 查询中应包含 :watermark 参数，如 WHERE updated_at > :watermark"
    else:
        problems["kind"] = "请选择对接类型"
    if not _FIELD_NAME.match(str(data.get("watermark_field") or "")):
        problems["watermark_field"] = "请填写水位字段名（记录中用于增量拉取的字段，如 updated_at）"
    if len(str(data.get("watermark_value") or "")) > 60:
        problems["watermark_value"] = "水位值不超过 60 个字符"
    interval = data.get("interval_minutes")
    if (
        not isinstance(interval, int)
        or not MIN_INTERVAL_MINUTES <= interval <= MAX_INTERVAL_MINUTES
    ):
        problems["interval_minutes"] = (
            f"间隔应为 {MIN_INTERVAL_MINUTES}–{MAX_INTERVAL_MINUTES} 分钟之间的整数"
        )
    if data.get("dataset") is None:
        problems["dataset"] = "请选择数据集"
    if data.get("department") is None:
        problems["department"] = "请选择数据提供部门"
    return problems


def _require_admin(actor: Any) -> None:
    if not has_role(actor, *DATA_ADMINS):
        raise ValidationError("只有营商办或系统管理员可以维护数据对接")


def _audit_snapshot(source: PullSource) -> dict[str, Any]:
    data = snapshot(source, list(EDITABLE_FIELDS))
    data["url"] = mask_url(source.url)
    return data


@transaction.atomic
def create_pull_source(*, actor: Any, **data: Any) -> PullSource:
    _require_admin(actor)
    fields = {k: data.get(k) for k in EDITABLE_FIELDS if k in data}
    fields.setdefault("interval_minutes", 60)
    problems = configuration_problems(fields)
    if problems:
        raise ValidationError(problems)
    for key in ("url", "name", "query", "records_path", "watermark_field", "watermark_value"):
        if key in fields:
            fields[key] = str(fields[key] or "").strip()
    source = PullSource.objects.create(**fields)
    record_event("pull_source.create", actor=actor, obj=source, after=_audit_snapshot(source))
    return source


@transaction.atomic
def update_pull_source(source: PullSource, *, actor: Any, **data: Any) -> PullSource:
    _require_admin(actor)
    locked = PullSource.objects.select_for_update().get(pk=source.pk)
    fields = {k: getattr(locked, k) for k in EDITABLE_FIELDS}
    fields.update({k: v for k, v in data.items() if k in EDITABLE_FIELDS})
    if str(fields["url"]).strip() == mask_url(locked.url) and locked.url != fields["url"]:
        # The form shows the URL with its password masked; unchanged means keep the secret.
        fields["url"] = locked.url
    problems = configuration_problems(fields)
    if problems:
        raise ValidationError(problems)
    before = _audit_snapshot(locked)
    for key, value in fields.items():
        setattr(locked, key, value.strip() if isinstance(value, str) else value)
    locked.save()
    old, new = changed(before, _audit_snapshot(locked))
    record_event("pull_source.update", actor=actor, obj=locked, before=old, after=new)
    return locked


@transaction.atomic
def request_pull_run(source: PullSource, *, actor: Any) -> Job:
    """Run now (立即拉取): queue the pull for the worker, which holds the analytical store."""
    _require_admin(actor)
    queued = enqueue(
        "indicators.run_pull",
        key=f"pull:{source.pk}",
        label=f"立即拉取：{source.name}",
        created_by=actor,
        source_id=source.pk,
    )
    record_event("pull_source.run_requested", actor=actor, obj=source, after={"job": queued.pk})
    return queued
