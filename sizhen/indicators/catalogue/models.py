"""Indicator catalogue (指标体系): indicators, revisions, evaluation cycles, goalposts,
benchmarks, and the computed values (指标值) every page reads."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sizhen.core.access import CHANGE, DELETE, Actor, ScopedManager, region_scope_q, role_of
from sizhen.core.permissions import has_capability
from sizhen.core.roles import CITY_WIDE_ROLES, DEPARTMENT_ROLES, Role
from sizhen.indicators.catalogue.choices import (
    Direction,
    Frequency,
    SourceKind,
    Weighting,
)
from sizhen.organisations.models import Department, Region

#: Indicators in % that are changes, not shares: they may be negative or above 100.
SIGNED_PERCENT_WORDS = ("增速", "增长率", "增幅", "变化率")
#: Indicators in % that are ratios to another total and may exceed 100 (外贸依存度).
UNCAPPED_PERCENT_WORDS = ("依存度",)


def _staff_view_coordinator_change(actor: Actor, action: str) -> Q | None:
    if action in (CHANGE, DELETE):
        return Q() if has_capability(actor, "catalogue.edit") else None
    return Q() if has_capability(actor, "staff.pages") else None


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

    @property
    def value_bounds(self) -> tuple[float | None, float | None]:
        """The domain of the indicator's values (lowest, highest; None: open): a share in % lies
        in 0–100; growth rates and ratios to GDP in % are not shares; counts, durations, amounts
        and scores are never negative; without a unit, anything."""
        unit = self.unit.strip()
        if unit == "%":
            if any(word in self.name for word in SIGNED_PERCENT_WORDS):
                return (None, None)
            if any(word in self.name for word in UNCAPPED_PERCENT_WORDS):
                return (0.0, None)
            return (0.0, 100.0)
        return (0.0, None) if unit else (None, None)

    def bounds_problem(self, value: float) -> str | None:
        """Why ``value`` cannot be a value of this indicator (Chinese), or None."""
        low, high = self.value_bounds
        if low is not None and high is not None and not low <= value <= high:
            return (
                f"指标 {self.code}“{self.name}”为比率（%），数值应在 {low:g}–{high:g} 之间，"
                f"收到 {value:g}"
            )
        if low is not None and value < low:
            return f"指标 {self.code}“{self.name}”的数值不能为负数，收到 {value:g}"
        return None


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
        "indicators.LoadBatch", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
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
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
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


class DepartmentIndicatorValue(models.Model):
    """A record-based indicator computed per department (部门维度): a district department's
    own records, and for a city department its whole line of work across the city (its own
    records and those of the district departments it leads, ``Department.superior``). Ranked
    among departments of the same tier (city departments together, district departments
    together) by the indicator's direction. Written by the engine beside ``IndicatorValue``;
    regional figures never read these rows."""

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="department_values"
    )
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="indicator_values"
    )
    period = models.DateField("期间（首日）")
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    value = models.FloatField("数值", null=True)
    numerator = models.FloatField(null=True, blank=True)
    denominator = models.FloatField(null=True, blank=True)
    observations = models.BigIntegerField("样本数", default=0)
    rank = models.PositiveIntegerField("排名", null=True, blank=True)
    rank_total = models.PositiveIntegerField("参与排名数", null=True, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "部门指标值"
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "department", "period"], name="dept_value_unique"
            )
        ]
        indexes = [
            models.Index(fields=["indicator", "period"], name="dept_value_ind_period"),
            models.Index(fields=["department", "period"], name="dept_value_dept_period"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id}/{self.department_id}/{self.period:%Y-%m}={self.value}"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        if action in (CHANGE, DELETE):
            return None
        role = role_of(actor)
        if role is None or role == Role.ENTERPRISE:
            return None
        if role in CITY_WIDE_ROLES:
            return Q()
        if role in DEPARTMENT_ROLES:
            # A department sees its own figures, and a city department those of the district
            # departments of its line; never another department's.
            department_id = getattr(actor, "department_id", None)
            if not department_id:
                return None
            return Q(department_id=department_id) | Q(department__superior_id=department_id)
        return region_scope_q(actor, "department__region__path")
