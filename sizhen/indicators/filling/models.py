"""Models of periodic filling (定期填报); imported by indicators/models.py so Django registers them.

A filling round (填报轮次) asks, for one period, one value per indicator and region from the
responsible department or the district (县市区/园区) that holds it; each ask is a filling task
(填报任务) with its own workflow: open → submitted → approved | returned → submitted …
Approval (审核通过) is terminal and locks the value; the approved value becomes an
``IndicatorValue`` with source kind "filling"."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sizhen.core.access import (
    CHANGE,
    DELETE,
    EXPORT,
    VIEW,
    Actor,
    ScopedManager,
    region_scope_q,
    role_of,
)
from sizhen.core.permissions import has_capability
from sizhen.core.roles import Role
from sizhen.indicators.filling.choices import FillingStatus, FillingTarget, RuleKind, RuleSeverity
from sizhen.indicators.filling.workflow import FILLING_TASK_WORKFLOW


class FillingRound(models.Model):
    """One period's filling (一次定期填报) for a set of indicators, with a deadline."""

    title = models.CharField("名称", max_length=100)
    indicators = models.ManyToManyField(
        "indicators.Indicator", verbose_name="指标", related_name="filling_rounds"
    )
    period = models.DateField("期间（首日）")
    target = models.CharField(
        "填报对象", max_length=12, choices=FillingTarget.choices, default=FillingTarget.AUTO
    )
    opened_on = models.DateField("下发日期", default=timezone.localdate)
    working_days = models.PositiveSmallIntegerField("填报时限（工作日）")
    deadline = models.DateField("截止日期")
    #: The deadline rests on a year with no official holiday arrangement yet (暂定).
    deadline_provisional = models.BooleanField("截止日期暂定", default=False)
    instructions = models.TextField("填报说明", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="下发人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "填报轮次"
        ordering = ("-period", "-created_at", "-id")

    def __str__(self) -> str:
        return self.title

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        role = role_of(actor)
        if action in (CHANGE, DELETE):
            return Q() if role == Role.COORDINATOR else None
        return Q() if has_capability(actor, "staff.pages") else None


class FillingTask(models.Model):
    """One value to fill (填报任务): an indicator for a region and period, addressed to a
    department or, without one, to the district officers of the region."""

    round = models.ForeignKey(
        FillingRound, verbose_name="填报轮次", on_delete=models.CASCADE, related_name="tasks"
    )
    indicator = models.ForeignKey(
        "indicators.Indicator",
        verbose_name="指标",
        on_delete=models.PROTECT,
        related_name="filling_tasks",
    )
    region = models.ForeignKey(
        "organisations.Region",
        verbose_name="区划",
        on_delete=models.PROTECT,
        related_name="filling_tasks",
    )
    department = models.ForeignKey(
        "organisations.Department",
        verbose_name="填报部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="filling_tasks",
    )
    period = models.DateField("期间（首日）")
    deadline = models.DateField("截止日期")
    status = models.CharField(
        "状态", max_length=12, choices=FillingStatus.choices, default=FillingStatus.OPEN
    )
    value = models.FloatField("数值", null=True, blank=True)
    note = models.TextField("填报说明", blank=True)
    #: Warnings of the validation rules at the last submission, and the filler's explanation.
    warnings = models.JSONField("校验警告", default=list, blank=True)
    explanation = models.TextField("警告说明", blank=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="提交人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    approved_at = models.DateTimeField("审核时间", null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    return_reason = models.TextField("退回理由", blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ScopedManager()
    workflow = FILLING_TASK_WORKFLOW

    class Meta:
        verbose_name = "填报任务"
        ordering = ("deadline", "indicator__code", "region__path", "id")
        constraints = (
            # One figure per indicator, region and period, whichever round asked for it.
            models.UniqueConstraint(
                fields=["indicator", "region", "period"], name="ind_filling_task_unique"
            ),
        )
        indexes = (models.Index(fields=["status", "deadline"], name="ind_filling_status_deadline"),)

    def __str__(self) -> str:
        return f"{self.indicator.code} {self.region.name} {self.period:%Y-%m}"

    @property
    def is_locked(self) -> bool:
        return self.status == FillingStatus.APPROVED

    def is_overdue(self, today: Any = None) -> bool:
        today = today or timezone.localdate()
        return self.status in (FillingStatus.OPEN, FillingStatus.RETURNED) and self.deadline < today

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        """VIEW/EXPORT: who may see a task. CHANGE: who may fill or review it (the services
        check which of the two)."""
        if action == DELETE:
            return None
        role = role_of(actor)
        if role == Role.COORDINATOR:
            return Q()
        if role in (Role.LEADER, Role.SYSADMIN):
            return Q() if action in (VIEW, EXPORT) else None
        department_id = getattr(actor, "department_id", None)
        if role == Role.LEAD_DEPARTMENT:
            if not department_id:
                return None
            return Q(department_id=department_id) | Q(indicator__lead_department_id=department_id)
        if role == Role.RESPONSIBLE_DEPARTMENT:
            return Q(department_id=department_id) if department_id else None
        if role == Role.DISTRICT_OFFICER:
            q = region_scope_q(actor, "region__path")
            if action == CHANGE:
                # A department's task in the district is the department's to fill.
                q &= Q(department__isnull=True)
            return q
        return None


class FillingRule(models.Model):
    """A validation rule (校验规则) of an indicator's filled value, in the manner of DHIS2's
    validation rules.

    ``parameters`` by kind:
    - range: ``{"min": 0, "max": 100}`` (either may be left out);
    - change_vs_last_period: ``{"max_change_percent": 30}``: the value may differ from the
      previous period's value of the same region by at most that many percent;
    - cross_field: ``{"other": "BE01.02", "operator": "<=", "factor": 1}``: this value compared
      with ``factor`` × the other indicator's value of the same region and period.
    A rule whose comparison value is missing (no last period, other indicator not filled) is
    skipped, as DHIS2 does by default."""

    indicator = models.ForeignKey(
        "indicators.Indicator",
        verbose_name="指标",
        on_delete=models.CASCADE,
        related_name="filling_rules",
    )
    kind = models.CharField("规则类型", max_length=24, choices=RuleKind.choices)
    severity = models.CharField(
        "严重程度", max_length=10, choices=RuleSeverity.choices, default=RuleSeverity.ERROR
    )
    parameters = models.JSONField("参数", default=dict)
    message = models.CharField("提示信息", max_length=200, blank=True)
    is_active = models.BooleanField("启用", default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "填报校验规则"
        ordering = ("indicator__code", "id")

    def __str__(self) -> str:
        return f"{self.indicator.code} {self.get_kind_display()}"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        role = role_of(actor)
        if action in (CHANGE, DELETE):
            if role == Role.COORDINATOR:
                return Q()
            department_id = getattr(actor, "department_id", None)
            if role == Role.LEAD_DEPARTMENT and department_id:
                return Q(indicator__lead_department_id=department_id)
            return None
        return Q() if has_capability(actor, "staff.pages") else None
