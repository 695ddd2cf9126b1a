"""Indicator catalogue (指标体系), source datasets and loads (智慧集数), computed values."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sizhen.core.access import CHANGE, DELETE, ScopedManager, has_role, region_scope_q, role_of
from sizhen.core.roles import STAFF_ROLES, Role
from sizhen.indicators.choices import (
    Direction,
    Frequency,
    LoadChannel,
    LoadMode,
    LoadStatus,
    PullKind,
    QuarantineStatus,
    SourceKind,
    Weighting,
)
from sizhen.organisations.models import Department, Region

CATALOGUE_EDITORS = frozenset({Role.COORDINATOR, Role.SYSADMIN})
DATA_ADMINS = frozenset({Role.COORDINATOR, Role.SYSADMIN})


def _staff_view_coordinator_change(actor: Any, action: str) -> Q | None:
    if action in (CHANGE, DELETE):
        return Q() if has_role(actor, *CATALOGUE_EDITORS) else None
    return Q() if role_of(actor) in STAFF_ROLES else None


class Indicator(models.Model):
    """A node of the indicator tree: the overall index, a first-level indicator (一级指标) or a
    leaf (二级指标). Edits bump ``version`` and write an ``IndicatorRevision``."""

    code = models.CharField("指标编码", max_length=20, unique=True)
    name = models.CharField("指标名称", max_length=100)
    name_en = models.CharField("英文名称", max_length=100, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级指标",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    level = models.PositiveSmallIntegerField("层级", default=0)
    unit = models.CharField("单位", max_length=40, blank=True)
    direction = models.CharField("方向", max_length=20, choices=Direction.choices)
    frequency = models.CharField(
        "频度", max_length=10, choices=Frequency.choices, default=Frequency.MONTH
    )
    source_kind = models.CharField(
        "数据来源", max_length=12, choices=SourceKind.choices, default=SourceKind.FILLING
    )
    lead_department = models.ForeignKey(
        Department,
        verbose_name="牵头部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_indicators",
    )
    responsible_departments = models.ManyToManyField(
        Department, verbose_name="责任部门", blank=True, related_name="responsible_indicators"
    )
    weight = models.FloatField("权重", default=1.0)
    definition = models.TextField("指标定义", blank=True)
    sort_order = models.PositiveIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)
    version = models.PositiveIntegerField("版本", default=1)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "指标"
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    scope_q = classmethod(lambda cls, actor, action: _staff_view_coordinator_change(actor, action))

    @property
    def is_leaf(self) -> bool:
        return not self.children.exists()


class IndicatorRevision(models.Model):
    """One version of an indicator as it was saved; history is never rewritten."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    snapshot = models.JSONField()
    reason = models.CharField("修改说明", max_length=200, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["indicator", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "version"], name="ind_revision_unique")
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id} v{self.version}"


class EvaluationCycle(models.Model):
    """An evaluation cycle (评价周期) freezing goalposts and weights, like Doing Business's
    five-year frontiers."""

    code = models.CharField("周期编码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=60)
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    weighting = models.CharField(
        "赋权方法", max_length=10, choices=Weighting.choices, default=Weighting.EQUAL
    )
    is_current = models.BooleanField("当前周期", default=False)

    objects = ScopedManager()

    class Meta:
        verbose_name = "评价周期"
        ordering = ["-starts_on"]

    def __str__(self) -> str:
        return self.name

    scope_q = classmethod(lambda cls, actor, action: _staff_view_coordinator_change(actor, action))


class Goalpost(models.Model):
    """Best and worst values (前沿与最差值) of a leaf in one cycle, for distance-to-frontier."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="goalposts")
    cycle = models.ForeignKey(EvaluationCycle, on_delete=models.CASCADE, related_name="goalposts")
    best = models.FloatField("最优值")
    worst = models.FloatField("最差值")
    target = models.FloatField("目标值", null=True, blank=True)
    note = models.CharField("取值依据", max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["indicator", "cycle"], name="ind_goalpost_unique")
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id}@{self.cycle_id}: {self.best}/{self.worst}"


class Benchmark(models.Model):
    """A value of an advanced city (标杆城市) for an indicator and period."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="benchmarks")
    city = models.CharField("标杆城市", max_length=40)
    period = models.DateField("期间（月初）")
    value = models.FloatField("数值")
    source = models.CharField("来源", max_length=200, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "标杆值"
        ordering = ["indicator", "period", "city"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "city", "period"], name="ind_benchmark_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.city} {self.period:%Y-%m} {self.value}"

    scope_q = classmethod(lambda cls, actor, action: _staff_view_coordinator_change(actor, action))


class Dataset(models.Model):
    """A kind of source record (数据集), e.g. 政务服务办件 gov_service_cases."""

    code = models.SlugField("数据集编码", max_length=40, unique=True)
    name = models.CharField("名称", max_length=60)
    description = models.TextField("说明", blank=True)
    builtin = models.BooleanField("内置", default=False)
    current_version = models.PositiveIntegerField("当前版本", default=1)
    stale_after_days = models.PositiveIntegerField("超过多少天未更新视为陈旧", default=3)

    objects = ScopedManager()

    class Meta:
        verbose_name = "数据集"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, actor: Any, action: str) -> Q | None:
        if action in (CHANGE, DELETE):
            return Q() if has_role(actor, *DATA_ADMINS) else None
        return Q() if role_of(actor) in (STAFF_ROLES | {Role.MACHINE}) else None

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
    def scope_q(cls, actor: Any, action: str) -> Q | None:
        role = role_of(actor)
        if role in DATA_ADMINS or role == Role.LEADER:
            return Q() if action not in (CHANGE, DELETE) or role in DATA_ADMINS else None
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

    scope_q = classmethod(lambda cls, actor, action: Q() if has_role(actor, *DATA_ADMINS) else None)


class IndicatorValue(models.Model):
    """A computed (or filled, or imported) value of an indicator for a region and period. Pages
    read these; no web request computes from raw records."""

    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="values")
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="indicator_values")
    period = models.DateField("期间（首日）")
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    source_kind = models.CharField(max_length=12, choices=SourceKind.choices)
    value = models.FloatField("数值", null=True)
    numerator = models.FloatField(null=True, blank=True)
    denominator = models.FloatField(null=True, blank=True)
    observations = models.BigIntegerField("样本数", default=0)
    score = models.FloatField("得分", null=True, blank=True)
    rank = models.PositiveIntegerField("排名", null=True, blank=True)
    rank_total = models.PositiveIntegerField("参与排名数", null=True, blank=True)
    batch = models.ForeignKey(
        LoadBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    computed_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "指标值"
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "region", "period", "source_kind"], name="ind_value_unique"
            )
        ]
        indexes = [
            models.Index(fields=["indicator", "period"], name="ind_value_ind_period"),
            models.Index(fields=["region", "period"], name="ind_value_region_period"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id}/{self.region_id}/{self.period:%Y-%m}={self.value}"

    @classmethod
    def scope_q(cls, actor: Any, action: str) -> Q | None:
        if action in (CHANGE, DELETE):
            return None
        role = role_of(actor)
        if role is None or role == Role.ENTERPRISE:
            return None
        # Everyone on the staff sees the city figure and their own subtree; a district officer
        # does not see other districts' values (they see ranks through the city page only).
        path = getattr(actor, "scope_path", None)
        if path == "/" or role in (Role.LEADER, Role.COORDINATOR, Role.SYSADMIN):
            return Q()
        q = region_scope_q(actor, "region__path")
        return q | Q(region__parent__isnull=True)


# Periodic filling models live in their own module to keep this one readable.
from sizhen.indicators.extract_models import RecordExtract  # noqa: E402, F401
from sizhen.indicators.filling_models import *  # noqa: E402, F403
