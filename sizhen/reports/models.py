"""Reminder letters (提醒函) sent by the coordinating office to an indicator's lead department."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sizhen.core.access import CHANGE, DELETE, Actor, ScopedManager, role_of
from sizhen.core.permissions import has_capability
from sizhen.core.roles import Role
from sizhen.indicators.catalogue.models import Indicator
from sizhen.organisations.models import Department, Region

#: Department roles read the letters addressed to their own department.
ADDRESSEE_ROLES = frozenset({Role.LEAD_DEPARTMENT, Role.RESPONSIBLE_DEPARTMENT})


class LetterStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SENT = "sent", "已发送"


class ReminderLetter(models.Model):
    """A numbered reminder letter (提醒函) about a lagging indicator of one region."""

    year = models.PositiveIntegerField("年度")
    sequence = models.PositiveIntegerField("序号")
    number = models.CharField("文号", max_length=60, unique=True)
    indicator = models.ForeignKey(
        Indicator, verbose_name="指标", on_delete=models.PROTECT, related_name="reminder_letters"
    )
    region = models.ForeignKey(
        Region, verbose_name="区划", on_delete=models.PROTECT, related_name="reminder_letters"
    )
    department = models.ForeignKey(
        Department,
        verbose_name="牵头部门",
        on_delete=models.PROTECT,
        related_name="reminder_letters",
    )
    period = models.DateField("期间（首日）")
    deadline = models.DateField("反馈期限")
    deadline_provisional = models.BooleanField("期限暂定", default=False)
    requested_action = models.TextField("整改要求")
    content = models.JSONField("数据快照")
    docx = models.FileField("Word 文件", upload_to="letters/", blank=True)
    pdf = models.FileField("PDF 文件", upload_to="letters/", blank=True)
    status = models.CharField(
        "状态", max_length=10, choices=LetterStatus.choices, default=LetterStatus.DRAFT
    )
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("生成时间", default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "提醒函"
        ordering = ["-year", "-sequence"]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="reports_letter_year_seq")
        ]

    def __str__(self) -> str:
        return self.number

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        role = role_of(actor)
        if has_capability(actor, "letter.write"):
            return Q()
        if action in (CHANGE, DELETE):
            return None
        if role == Role.LEADER:
            return Q()
        if role in ADDRESSEE_ROLES:
            department_id = getattr(actor, "department_id", None)
            return Q(department_id=department_id) if department_id else None
        return None
