"""Ingestion (智慧集数): source datasets and their schema versions, load batches with their errors
and quarantined rows, pull sources, and record extracts (明细记录抽取, record extract): the source
records behind one indicator value, read by the worker from the analytical store and kept here,
masked, so that a page can show and export them without ever opening the store."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sizhen.core.access import CHANGE, DELETE, Actor, ScopedManager, region_scope_q, role_of
from sizhen.core.models import JobStatus
from sizhen.core.permissions import has_capability
from sizhen.core.roles import Role
from sizhen.indicators.ingestion.choices import (
    LoadChannel,
    LoadMode,
    LoadStatus,
    PullKind,
    QuarantineStatus,
)
from sizhen.organisations.models import Department, Region


class Dataset(models.Model):
    """A kind of source record (数据集), e.g. 政务服务办件 gov_service_cases."""

    code = models.SlugField("数据集编码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=60)
    description = models.TextField("说明", blank=True)
    builtin = models.BooleanField("内置", default=False)
    current_version = models.PositiveIntegerField("当前版本", default=1)
    stale_after_days = models.PositiveIntegerField("超过多少天未更新视为陈旧", default=3)
    #: How far the loaded records reach (数据截止日期): for each field that assigns a record to a
    #: period, the latest date among the records, "YYYY-MM-DD". Refreshed by the worker when it
    #: recomputes, so that pages can tell a complete period without opening the store.
    watermarks = models.JSONField("数据截止日期", default=dict, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "数据集"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        if action in (CHANGE, DELETE):
            return Q() if has_capability(actor, "data.admin") else None
        return Q() if has_capability(actor, "staff.api") else None

    def schema(self, version: int | None = None) -> DatasetVersion:
        return self.versions.get(version=version or self.current_version)


class DatasetVersion(models.Model):
    """A version of a dataset's schema. ``fields`` is a list of
    {name, label, type, required, allowed, aliases} (Table Schema in spirit); ``key`` names the
    field whose value identifies a record (a re-sent record replaces the earlier version)."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    key = models.CharField("主键字段", max_length=40)
    region_field = models.CharField("区划字段", max_length=40, default="region_code")
    department_field = models.CharField("部门字段", max_length=40, blank=True)
    fields = models.JSONField("字段")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["dataset", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["dataset", "version"], name="ind_dataset_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dataset_id} v{self.version}"


class LoadBatch(models.Model):
    """One load of records (API push, file, pull) with its validation report."""

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="batches")
    schema_version = models.PositiveIntegerField()
    channel = models.CharField("渠道", max_length=12, choices=LoadChannel.choices)
    mode = models.CharField("模式", max_length=8, choices=LoadMode.choices, default=LoadMode.STRICT)
    dry_run = models.BooleanField("仅校验", default=False)
    status = models.CharField(
        "状态", max_length=10, choices=LoadStatus.choices, default=LoadStatus.QUEUED
    )
    content_hash = models.CharField(max_length=64, db_index=True)
    file_name = models.CharField("文件名", max_length=200, blank=True)
    staged_path = models.CharField(max_length=500, blank=True)
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_label = models.CharField(max_length=200, blank=True)
    job_id = models.BigIntegerField(null=True, blank=True)
    rows_total = models.BigIntegerField("总行数", default=0)
    imported = models.BigIntegerField("新增", default=0)
    updated = models.BigIntegerField("更新", default=0)
    ignored = models.BigIntegerField("未变化", default=0)
    rejected = models.BigIntegerField("拒收", default=0)
    error_count = models.BigIntegerField("错误数", default=0)
    message = models.TextField("说明", blank=True)
    touched = models.JSONField("涉及期间与区划", null=True, blank=True)
    created_at = models.DateTimeField("提交时间", default=timezone.now, db_index=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "数据批次"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.dataset.code}#{self.pk}"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        role = role_of(actor)
        admin = has_capability(actor, "data.admin")
        if admin or role == Role.LEADER:
            return Q() if action not in (CHANGE, DELETE) or admin else None
        if role in (Role.LEAD_DEPARTMENT, Role.RESPONSIBLE_DEPARTMENT, Role.MACHINE):
            department_id = getattr(actor, "department_id", None)
            return Q(department_id=department_id) if department_id else None
        if role == Role.DISTRICT_OFFICER:
            return region_scope_q(actor, "department__region__path")
        return None


class LoadError(models.Model):
    """One row-level error of a load (行号、字段、错误代码、说明)."""

    batch = models.ForeignKey(LoadBatch, on_delete=models.CASCADE, related_name="errors")
    row = models.BigIntegerField("行号")
    field = models.CharField("字段", max_length=60, blank=True)
    code = models.CharField("错误代码", max_length=40)
    message = models.CharField("说明", max_length=300)
    value = models.CharField("原值", max_length=200, blank=True)

    class Meta:
        ordering = ["batch", "row", "id"]

    def __str__(self) -> str:
        return f"第 {self.row} 行 {self.field} {self.code}"


class QuarantineRow(models.Model):
    """An invalid row of a lenient load, kept for correction and re-submission (隔离区)."""

    batch = models.ForeignKey(LoadBatch, on_delete=models.CASCADE, related_name="quarantined")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="+")
    row = models.BigIntegerField("行号")
    data = models.JSONField("原始数据")
    errors = models.JSONField("错误")
    status = models.CharField(
        "状态", max_length=12, choices=QuarantineStatus.choices, default=QuarantineStatus.OPEN
    )
    resubmitted_batch = models.ForeignKey(
        LoadBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["batch", "row"]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row}"


class PullSource(models.Model):
    """A scheduled pull (数据对接) from an HTTP JSON endpoint or a SQL database, incremental by a
    watermark field."""

    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="pull_sources")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    name = models.CharField("名称", max_length=100)
    kind = models.CharField("类型", max_length=10, choices=PullKind.choices)
    url = models.CharField("地址或数据库连接串", max_length=500)
    query = models.TextField("SQL 查询（含 :watermark 参数）", blank=True)
    records_path = models.CharField("JSON 记录路径", max_length=100, blank=True, default="records")
    watermark_field = models.CharField("水位字段", max_length=40)
    watermark_value = models.CharField("当前水位", max_length=60, blank=True)
    interval_minutes = models.PositiveIntegerField("间隔（分钟）", default=60)
    is_active = models.BooleanField("启用", default=True)
    last_run_at = models.DateTimeField("最近运行", null=True, blank=True)
    last_status = models.CharField("最近结果", max_length=200, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "数据对接"
        ordering = ["dataset", "name"]

    def __str__(self) -> str:
        return self.name

    scope_q = classmethod(
        lambda cls, actor, action: Q() if has_capability(actor, "data.admin") else None
    )


#: States a page shows; derived from the row and its job, never assigned.
PENDING, READY, FAILED = "pending", "ready", "failed"


class RecordExtract(models.Model):
    indicator = models.ForeignKey(
        "indicators.Indicator",
        verbose_name="指标",
        on_delete=models.CASCADE,
        related_name="record_extracts",
    )
    region = models.ForeignKey(
        Region, verbose_name="区划", on_delete=models.CASCADE, related_name="record_extracts"
    )
    period = models.DateField("期间（首日）")
    dataset_code = models.CharField("数据集", max_length=40)
    #: [[field name, Chinese label], ...] in display order.
    columns = models.JSONField("字段", default=list, blank=True)
    #: Masked rows, newest first, at most ``extracts.ROW_CAP``.
    rows = models.JSONField("记录", default=list, blank=True)
    matched = models.BigIntegerField("符合条件的记录数", null=True, blank=True)
    #: Conditions of the indicator's definition the extract could not apply (derived fields).
    skipped_filters = models.JSONField("未应用的口径条件", default=list, blank=True)
    job = models.ForeignKey(
        "core.Job",
        verbose_name="后台任务",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="申请人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_at = models.DateTimeField("申请时间", default=timezone.now)
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)
    error = models.TextField("错误", blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "明细记录抽取"
        indexes = [
            models.Index(
                fields=["indicator", "region", "period", "-requested_at"],
                name="ind_extract_lookup",
            )
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id}/{self.region_id}/{self.period:%Y-%m}"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        """Staff see extracts of their own region subtree only: a district officer never sees
        another district's records, nor the city-wide extract that contains them."""
        if action in (CHANGE, DELETE):
            return None
        if not has_capability(actor, "staff.pages"):
            return None
        return region_scope_q(actor, "region__path")

    @property
    def state(self) -> str:
        if self.completed_at is not None:
            return READY
        if self.error:
            return FAILED
        if self.job is not None and self.job.status == JobStatus.FAILED:
            return FAILED
        return PENDING

    @property
    def truncated(self) -> bool:
        return self.matched is not None and self.matched > len(self.rows)
