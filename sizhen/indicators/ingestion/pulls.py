"""Scheduled pulls (数据对接/定时拉取) from source systems, incremental by a watermark (水位).

A pull source is an HTTP JSON endpoint (``GET url?since=<watermark>``) or a SQL database (a
read-only query with a ``:watermark`` parameter; SQLite or PostgreSQL by the URL's scheme).
What it returns goes through ``loads.submit_records``, the one validation path of every record;
when the batch is accepted the watermark moves to the largest watermark value pulled, in the
same transaction. A failed fetch or a rejected batch records why and leaves the watermark where
it was, so the next run asks again for the same records."""

from __future__ import annotations

import datetime as dt
import logging
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from sizhen.core.access import Actor
from sizhen.core.audit import changed, record_event, snapshot
from sizhen.core.jobs import enqueue
from sizhen.core.models import Job
from sizhen.core.permissions import has_capability
from sizhen.indicators.ingestion.choices import LoadChannel, LoadStatus, PullKind
from sizhen.indicators.ingestion.fetching import (
    HTTP_SCHEMES,
    MAX_PULL_RECORDS,
    POSTGRES_SCHEMES,
    SQLITE_SCHEMES,
    WATERMARK_PARAMETER,
    PullError,
    _later,
    fetch,
    max_watermark,
)
from sizhen.indicators.ingestion.loads import submit_records
from sizhen.indicators.ingestion.models import PullSource

logger = logging.getLogger(__name__)

MIN_INTERVAL_MINUTES = 5
MAX_INTERVAL_MINUTES = 7 * 24 * 60
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
        elif not WATERMARK_PARAMETER.search(query):
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


def _require_admin(actor: Actor) -> None:
    if not has_capability(actor, "data.admin"):
        raise ValidationError("只有营商办或系统管理员可以维护数据对接")


def _audit_snapshot(source: PullSource) -> dict[str, Any]:
    data = snapshot(source, list(EDITABLE_FIELDS))
    data["url"] = mask_url(source.url)
    return data


@transaction.atomic
def create_pull_source(*, actor: Actor, **data: Any) -> PullSource:
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
def update_pull_source(source: PullSource, *, actor: Actor, **data: Any) -> PullSource:
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
def request_pull_run(source: PullSource, *, actor: Actor) -> Job:
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
