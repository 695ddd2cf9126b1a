"""Work tasks (工作任务): an issued task (督办事项) with one assignment per addressed unit.

``WorkTask`` holds what the coordinator issued: title, content, source, deadline, milestones and
attachments. ``TaskAssignment`` is one unit's copy with its own state; a transfer (转办) creates
child assignments under the unit's assignment. A task is complete when every assignment is
(see docs/work-tasks.md).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sizhen.core.access import CHANGE, DELETE, Actor, ScopedManager, role_of
from sizhen.core.permissions import has_capability
from sizhen.core.roles import CITY_WIDE_ROLES, DEPARTMENT_ROLES, Role
from sizhen.indicators.catalogue.models import Indicator
from sizhen.organisations.models import Department, Region
from sizhen.work_tasks.choices import ReminderKind, TaskSource, Timeliness
from sizhen.work_tasks.workflow import ASSIGNMENT_WORKFLOW, ISSUED, OPEN_STATES, STATES


def assignment_scope_q(actor: Actor, action: str, prefix: str = "") -> Q | None:
    """Which assignments the actor may see (VIEW/EXPORT) or act on (CHANGE)."""
    role = role_of(actor)
    if role is None or role == Role.ENTERPRISE:
        return None
    if action == DELETE:
        return None
    if role in CITY_WIDE_ROLES:
        if action == CHANGE and not has_capability(actor, "task.issue"):
            return None
        return Q()
    if role in DEPARTMENT_ROLES:
        department_id = getattr(actor, "department_id", None)
        if not department_id:
            return None
        return Q(**{f"{prefix}department_id": department_id}) | Q(
            **{f"{prefix}parent__department_id": department_id}
        )
    if role == Role.DISTRICT_OFFICER:
        path = getattr(actor, "scope_path", None)
        region_id = getattr(actor, "region_id", None)
        if not path or not region_id:
            return None
        return Q(**{f"{prefix}unit_path__startswith": path}) | Q(
            **{f"{prefix}parent__region_id": region_id}
        )
    return None


class WorkTask(models.Model):
    """A supervised work task (督办任务) as issued by the coordinating office."""

    number = models.CharField("任务编号", max_length=30, unique=True)
    title = models.CharField("任务名称", max_length=200)
    content = models.TextField("任务内容")
    source = models.CharField("任务来源", max_length=30, choices=TaskSource.choices)
    indicators = models.ManyToManyField(
        Indicator, verbose_name="关联指标", blank=True, related_name="work_tasks"
    )
    issued_on = models.DateField("下发日期")
    deadline = models.DateField("完成期限")
    #: Set when the deadline was given as working days; the date is computed from issued_on.
    deadline_working_days = models.PositiveIntegerField("期限（工作日）", null=True, blank=True)
    deadline_provisional = models.BooleanField("期限暂定", default=False)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="下发人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    alert_id = models.PositiveIntegerField("来源预警编号", null=True, blank=True)
    plan_year = models.PositiveIntegerField("计划年度", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "工作任务"
        ordering = ["-issued_on", "-id"]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        role = role_of(actor)
        if role in CITY_WIDE_ROLES:
            if action in (CHANGE, DELETE) and not has_capability(actor, "task.issue"):
                return None
            return Q()
        q = assignment_scope_q(actor, action)
        if q is None:
            return None
        return Q(pk__in=TaskAssignment.objects.filter(q).values("task_id"))


class Milestone(models.Model):
    """A milestone (阶段节点) of a task with its own deadline."""

    task = models.ForeignKey(
        WorkTask, verbose_name="任务", on_delete=models.CASCADE, related_name="milestones"
    )
    title = models.CharField("节点名称", max_length=200)
    deadline = models.DateField("节点期限")
    position = models.PositiveIntegerField("顺序", default=0)

    class Meta:
        verbose_name = "阶段节点"
        ordering = ["position", "deadline", "id"]

    def __str__(self) -> str:
        return self.title


class TaskAssignment(models.Model):
    """One unit's assignment (承办任务) of a task: a department or a district, with its state."""

    task = models.ForeignKey(
        WorkTask, verbose_name="任务", on_delete=models.CASCADE, related_name="assignments"
    )
    #: The unit's assignment this sub-task was transferred (转办) from; None for a lead unit.
    parent = models.ForeignKey(
        "self",
        verbose_name="上级承办",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )
    department = models.ForeignKey(
        Department,
        verbose_name="承办部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="task_assignments",
    )
    region = models.ForeignKey(
        Region,
        verbose_name="承办县市区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="task_assignments",
    )
    #: The region path of the unit (a department's region), for district scoping.
    unit_path = models.CharField(max_length=255, editable=False, db_index=True)
    scope_note = models.TextField("转办事项说明", blank=True)
    deadline = models.DateField("完成期限")
    status = models.CharField(
        "状态", max_length=20, choices=list(STATES.items()), default=ISSUED, editable=False
    )
    received_at = models.DateTimeField("签收时间", null=True, blank=True)
    submitted_on = models.DateField("提交日期", null=True, blank=True)
    approved_at = models.DateTimeField("审核通过时间", null=True, blank=True)
    #: The date the unit finished: the date of the submission that was approved.
    finished_on = models.DateField("完成日期", null=True, blank=True)
    timeliness = models.CharField("完成情况", max_length=10, choices=Timeliness.choices, blank=True)
    delay_working_days = models.IntegerField("逾期工作日", null=True, blank=True)
    return_reason = models.TextField("退回理由", blank=True)
    listed = models.BooleanField("挂牌督办", default=False)
    listed_at = models.DateTimeField("挂牌时间", null=True, blank=True)
    listed_reason = models.TextField("挂牌理由", blank=True)
    listed_leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="督办领导",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="listed_assignments",
    )
    version = models.PositiveIntegerField("版本", default=1)

    objects = ScopedManager()
    workflow = ASSIGNMENT_WORKFLOW

    class Meta:
        verbose_name = "承办任务"
        ordering = ["deadline", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(department__isnull=False) & Q(region__isnull=True))
                | (Q(department__isnull=True) & Q(region__isnull=False)),
                name="work_tasks_assignment_one_unit",
            ),
        ]
        indexes = [models.Index(fields=["status", "deadline"], name="work_tasks_status_deadline")]

    def __str__(self) -> str:
        return f"{self.task.number} · {self.unit_name}"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        return assignment_scope_q(actor, action)

    @property
    def unit_name(self) -> str:
        if self.department_id:
            return self.department.name  # type: ignore[union-attr]
        return self.region.name if self.region_id else ""  # type: ignore[union-attr]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    def is_overdue(self, today: dt.date) -> bool:
        return self.is_open and self.deadline < today

    def unfinished(self) -> list[str]:
        """What the unit's own progress reports leave unfinished, for the reviewer (Chinese):
        the last reported progress below 100 %, and, for a lead unit, the task's milestones
        none of its reports marked done. A sub-task (转办) covers part of the work, so the
        task's milestones are its transferring unit's to tick."""
        reports = list(
            self.reports.order_by("created_at", "id").values_list(
                "percent", "milestone_id", "milestone_done"
            )
        )
        items = []
        if reports and reports[-1][0] < 100:
            items.append(f"最近一次进展反馈的完成进度为 {reports[-1][0]}%")
        if self.parent_id is None:
            done = {milestone for _, milestone, ticked in reports if ticked}
            items += [
                f"阶段节点“{m.title}”（期限 {m.deadline:%Y-%m-%d}）未反馈完成"
                for m in self.task.milestones.all()
                if m.pk not in done
            ]
        return items


class ProgressReport(models.Model):
    """A progress report (进展反馈), per milestone or for the task as a whole."""

    assignment = models.ForeignKey(
        TaskAssignment, verbose_name="承办任务", on_delete=models.CASCADE, related_name="reports"
    )
    milestone = models.ForeignKey(
        Milestone,
        verbose_name="阶段节点",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reports",
    )
    content = models.TextField("进展情况")
    percent = models.PositiveSmallIntegerField("完成进度（%）", default=0)
    milestone_done = models.BooleanField("节点已完成", default=False)
    author_label = models.CharField("填报人", max_length=200)
    created_at = models.DateTimeField("填报时间", default=timezone.now)
    #: Makes a machine client's retried report a no-op instead of a duplicate.
    client_key = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        verbose_name = "进展反馈"
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "client_key"],
                condition=Q(client_key__isnull=False),
                name="work_tasks_progress_client_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id}: {self.percent}%"


def _upload_to(instance: TaskFile, filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    stamp = timezone.now()
    return f"work_tasks/{stamp:%Y/%m}/{stamp:%d%H%M%S%f}{suffix}"


class TaskFile(models.Model):
    """An attachment of a task (附件) or the evidence of a progress report (佐证材料)."""

    task = models.ForeignKey(
        WorkTask, verbose_name="任务", on_delete=models.CASCADE, related_name="files"
    )
    report = models.ForeignKey(
        ProgressReport,
        verbose_name="进展反馈",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="files",
    )
    file = models.FileField("文件", upload_to=_upload_to, max_length=255)
    name = models.CharField("文件名", max_length=200)
    size = models.PositiveIntegerField("大小（字节）")
    uploaded_by_label = models.CharField("上传人", max_length=200)
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)

    class Meta:
        verbose_name = "任务附件"
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class UrgeNote(models.Model):
    """An urging note (催办) sent to the unit, kept as a record."""

    assignment = models.ForeignKey(
        TaskAssignment, verbose_name="承办任务", on_delete=models.CASCADE, related_name="urges"
    )
    content = models.TextField("催办内容")
    author_label = models.CharField("催办人", max_length=200)
    created_at = models.DateTimeField("催办时间", default=timezone.now)

    class Meta:
        verbose_name = "催办记录"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.content[:40]


class CoordinationMeeting(models.Model):
    """A coordination meeting (协调会) held on a task under listed supervision (挂牌督办)."""

    assignment = models.ForeignKey(
        TaskAssignment, verbose_name="承办任务", on_delete=models.CASCADE, related_name="meetings"
    )
    held_on = models.DateField("召开日期")
    attendees = models.TextField("参会单位和人员")
    minutes = models.TextField("会议纪要")
    author_label = models.CharField("记录人", max_length=200)
    created_at = models.DateTimeField("记录时间", default=timezone.now)

    class Meta:
        verbose_name = "协调会记录"
        ordering = ["held_on", "id"]

    def __str__(self) -> str:
        return f"{self.held_on} {self.assignment_id}"


class ReminderLog(models.Model):
    """One reminder sent; the unique key makes the daily job idempotent."""

    assignment = models.ForeignKey(
        TaskAssignment, on_delete=models.CASCADE, related_name="reminders"
    )
    kind = models.CharField(max_length=20, choices=ReminderKind.choices)
    sent_on = models.DateField()

    class Meta:
        verbose_name = "提醒记录"
        constraints = [
            models.UniqueConstraint(fields=["assignment", "kind"], name="work_tasks_reminder_once")
        ]

    def __str__(self) -> str:
        return f"{self.assignment_id} {self.kind}"
