"""Shared platform models: audit log, workflow history, calendar overrides, jobs, inbox."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sizhen.core.access import Actor, ScopedManager, ScopedQuerySet, has_role
from sizhen.core.audit_labels import state_label
from sizhen.core.roles import Role


class AppendOnlyError(RuntimeError):
    pass


class AuditEventQuerySet(ScopedQuerySet["AuditEvent"]):
    """Bulk update and delete bypass ``Model.save``/``delete``; refuse them here too."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("审计日志只能追加，不能修改")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("审计日志只能追加，不能删除")


class AuditEvent(models.Model):
    """One append-only audit event (审计日志). Written by services in the same transaction."""

    at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    # DO_NOTHING: the log is append-only (a DB trigger refuses updates); actor_label keeps the
    # name if a user row is ever deleted, and db_constraint=False lets the id dangle.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )
    actor_label = models.CharField("操作人", max_length=200, blank=True)
    actor_role = models.CharField("角色", max_length=40, blank=True)
    action = models.CharField("操作", max_length=80, db_index=True)
    object_type = models.CharField("对象类型", max_length=80, blank=True, db_index=True)
    object_id = models.CharField("对象编号", max_length=64, blank=True, db_index=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    before = models.JSONField("变更前", null=True, blank=True)
    after = models.JSONField("变更后", null=True, blank=True)
    message = models.TextField("说明", blank=True)
    client_address = models.GenericIPAddressField("客户端地址", null=True, blank=True)
    request_id = models.CharField("请求编号", max_length=32, blank=True)

    objects = models.Manager.from_queryset(AuditEventQuerySet)()

    class Meta:
        verbose_name = "审计日志"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("审计日志只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("审计日志只能追加，不能删除")

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        # The audit log is read by the system administrator only (三员分立: 审计员 role later).
        return Q() if has_role(actor, Role.SYSADMIN) else None


class TransitionHistory(models.Model):
    """One row per executed workflow transition, for any stateful model."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64)
    workflow = models.CharField(max_length=80)
    action = models.CharField(max_length=60)
    action_label = models.CharField(max_length=60, blank=True)
    from_state = models.CharField(max_length=40)
    to_state = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    actor_label = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = "流转记录"
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["object_type", "object_id", "at"])]

    def __str__(self) -> str:
        return f"{self.object_type}#{self.object_id} {self.from_state}→{self.to_state}"

    @property
    def from_state_label(self) -> str:
        return state_label(self.workflow, self.from_state)

    @property
    def to_state_label(self) -> str:
        return state_label(self.workflow, self.to_state)


class CalendarDayKind(models.TextChoices):
    WORKDAY = "workday", "工作日"
    HOLIDAY = "holiday", "休息日"


class CalendarDay(models.Model):
    """An admin override of one date (local adjustment, or a year the package lacks)."""

    date = models.DateField("日期", unique=True)
    kind = models.CharField("类型", max_length=10, choices=CalendarDayKind.choices)
    name = models.CharField("名称", max_length=60, blank=True)
    note = models.CharField("依据", max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "工作日历调整"
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()}"


class CalendarYear(models.Model):
    """A year whose official arrangement has been entered by hand (so it is no longer provisional)."""

    year = models.PositiveIntegerField("年份", unique=True)
    source = models.CharField("依据（国务院办公厅通知文号）", max_length=200)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "已确认年度"
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class JobStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "运行中"
    SUCCEEDED = "succeeded", "已完成"
    FAILED = "failed", "失败"
    CANCELLED = "cancelled", "已取消"


ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class Job(models.Model):
    """A background job. Rows are written inside the caller's transaction (a transactional
    outbox): the worker sees the job exactly when, and only if, the change commits."""

    name = models.CharField("任务", max_length=100, db_index=True)
    label = models.CharField("名称", max_length=200, blank=True)
    key = models.CharField("幂等键", max_length=200, null=True, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        "状态", max_length=12, choices=JobStatus.choices, default=JobStatus.QUEUED
    )
    progress_done = models.BigIntegerField(default=0)
    progress_total = models.BigIntegerField(null=True, blank=True)
    progress_message = models.CharField(max_length=300, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=3)
    run_after = models.DateTimeField(default=timezone.now, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )

    objects = ScopedManager()

    class Meta:
        verbose_name = "后台任务"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "run_after"])]
        constraints = [
            models.UniqueConstraint(
                fields=["key"],
                condition=Q(status__in=["queued", "running"]),
                name="core_job_one_active_per_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}#{self.pk}"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        if has_role(actor, Role.SYSADMIN, Role.COORDINATOR):
            return Q()
        if action == "view" and getattr(actor, "pk", None) is not None:
            return Q(created_by_id=actor.pk)
        return None

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return 100 if self.status == JobStatus.SUCCEEDED else None
        return min(100, int(self.progress_done * 100 / self.progress_total))


class JobSchedule(models.Model):
    """Last slot enqueued for each periodic job; advanced by a conditional update."""

    name = models.CharField(max_length=100, unique=True)
    last_slot = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


#: The kinds of message (``Notification.category``) by their Chinese name, for the inbox. The
#: apps write these codes; a code missing here is shown as "其他".
NOTIFICATION_KINDS: dict[str, str] = {
    "alert_digest": "预警摘要",
    "work_task": "工作任务",
    "work_task_reminder": "任务期限提醒",
    "enterprise_requests": "企业诉求",
    "filling": "定期填报",
    "reminder_letter": "提醒函",
    "training": "营商培训",
}


class Notification(models.Model):
    """One message in a user's in-app inbox (站内消息)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    category = models.CharField("类别", max_length=40, blank=True)
    subject = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    link = models.CharField("链接", max_length=300, blank=True)
    #: A digest's entries as ``[{"text": ..., "link": ...}]``: the inbox shows them as a short
    #: list of links (``body`` keeps the same lines as plain text for e-mail).
    items = models.JSONField("条目", default=list, blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "站内消息"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.subject

    @property
    def category_label(self) -> str:
        return NOTIFICATION_KINDS.get(self.category, "其他")

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        return Q(recipient_id=actor.pk) if getattr(actor, "pk", None) is not None else None


class DocumentCounter(models.Model):
    """The last number taken in one numbering scheme (文号/编号) and year; see
    ``sizhen/core/numbering.py``. Its row is locked while a number is taken, so two writers at
    once never get the same number."""

    scheme = models.CharField("编号类别", max_length=40)
    year = models.PositiveIntegerField("年度")
    last_number = models.PositiveIntegerField("已用最大序号", default=0)

    class Meta:
        verbose_name = "编号计数器"
        constraints = [
            models.UniqueConstraint(fields=["scheme", "year"], name="core_counter_scheme_year")
        ]

    def __str__(self) -> str:
        return f"{self.scheme} {self.year}: {self.last_number}"


class DataChange(models.Model):
    """One committed change of a kind of data (数据变更), e.g. indicator values written by a
    recompute. Caches of figures derived from that data key their entries on the newest change
    (``sizhen/core/versions.py``). Rows are only inserted, never updated, so writers never wait
    on one another; a change becomes visible exactly when its transaction commits."""

    name = models.CharField("数据类别", max_length=40)
    at = models.DateTimeField("变更时间", default=timezone.now)

    class Meta:
        verbose_name = "数据变更"
        indexes = [models.Index(fields=["name", "id"], name="core_datachange_name_id")]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"
