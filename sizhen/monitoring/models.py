"""Alerts (预警): one per indicator, region and kind of finding, updated as scans see it again."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from sizhen.core.access import CHANGE, DELETE, ScopedManager, region_scope_q, role_of
from sizhen.core.roles import CITY_WIDE_ROLES, DEPARTMENT_ROLES, Role
from sizhen.indicators.models import Indicator
from sizhen.monitoring.workflow import ALERT_WORKFLOW, MANAGERS, OPEN, STATES
from sizhen.organisations.models import Department, Region


class AlertKind(models.TextChoices):
    CROSS_SECTIONAL_EXTREME = "cross_sectional_extreme", "横向极端值"
    ABNORMAL_CHANGE = "abnormal_change", "异常波动"
    LEVEL_SHIFT = "level_shift", "水平突变"
    GOALPOST_BREACH = "goalpost_breach", "未达目标"
    BENCHMARK_LAG = "benchmark_lag", "落后标杆城市"
    STALE_SOURCE = "stale_source", "数据源陈旧"
    OVERDUE_FILLING = "overdue_filling", "填报逾期"


class Severity(models.TextChoices):
    RED = "red", "红色"
    ORANGE = "orange", "橙色"
    YELLOW = "yellow", "黄色"
    BLUE = "blue", "蓝色"


class Alert(models.Model):
    """An explainable alert: the value, the expected range, the method, the points it used and
    a four-colour severity (四色预警)."""

    indicator = models.ForeignKey(
        Indicator, verbose_name="指标", on_delete=models.CASCADE, related_name="alerts"
    )
    region = models.ForeignKey(
        Region, verbose_name="区域", on_delete=models.CASCADE, related_name="alerts"
    )
    kind = models.CharField("类型", max_length=30, choices=AlertKind.choices)
    period = models.DateField("期间（首日）", null=True)
    status = models.CharField(
        "状态", max_length=20, choices=list(STATES.items()), default=OPEN, editable=False
    )
    severity = models.CharField("预警等级", max_length=10, choices=Severity.choices)
    value = models.FloatField("数值")
    expected = models.FloatField("预期值", null=True, blank=True)
    lower = models.FloatField("正常范围下限", null=True, blank=True)
    upper = models.FloatField("正常范围上限", null=True, blank=True)
    method = models.CharField("检测方法", max_length=30)
    score = models.FloatField("统计量")
    points = models.JSONField("所用数据点", default=list, blank=True)
    explanation = models.TextField("说明")
    impact = models.FloatField("影响度", default=0.0)
    assigned_department = models.ForeignKey(
        Department,
        verbose_name="承办部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alerts",
    )
    note = models.TextField("处置说明", blank=True)
    #: What the alert was converted into: "work_task" or "rectification", and that item's id.
    converted_kind = models.CharField("转办类型", max_length=20, blank=True)
    converted_id = models.PositiveIntegerField("转办事项编号", null=True, blank=True)
    dismiss_reason = models.TextField("忽略理由", blank=True)
    first_seen_at = models.DateTimeField("首次发现", default=timezone.now)
    last_seen_at = models.DateTimeField("最近发现", default=timezone.now)
    occurrences = models.PositiveIntegerField("发现次数", default=1)
    version = models.PositiveIntegerField("版本", default=1)

    objects = ScopedManager()
    workflow = ALERT_WORKFLOW

    class Meta:
        verbose_name = "预警"
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "region", "kind"], name="monitoring_alert_unique"
            )
        ]
        indexes = [
            models.Index(fields=["status", "impact"], name="monitoring_alert_status_impact"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id}/{self.region_id}/{self.kind}"

    @classmethod
    def scope_q(cls, actor: Any, action: str) -> Q | None:
        role = role_of(actor)
        if role is None or role == Role.ENTERPRISE:
            return None
        department_id = getattr(actor, "department_id", None)
        assigned = Q(assigned_department_id=department_id) if department_id else None
        if action in (CHANGE, DELETE):
            if action == CHANGE and role in MANAGERS:
                return Q()
            # The assigned department may acknowledge; the workflow guard decides which action.
            return assigned if action == CHANGE else None
        if role in CITY_WIDE_ROLES:
            return Q()
        q = region_scope_q(actor, "region__path")
        if role in DEPARTMENT_ROLES and assigned is not None:
            q |= assigned
        return q

    @property
    def period_label(self) -> str:
        return self.period.strftime("%Y-%m") if self.period else ""
