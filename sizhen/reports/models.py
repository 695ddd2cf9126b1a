"""Reminder letters (提醒函) sent by the coordinating office to a region about one of its lagging
indicators, with the indicator's lead department (牵头部门) acting with it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sizhen.core.access import CHANGE, DELETE, Actor, ScopedManager, region_scope_q, role_of
from sizhen.core.permissions import has_capability
from sizhen.core.roles import Role
from sizhen.indicators.catalogue.models import Indicator
from sizhen.organisations.models import Department, Region

#: Department roles read the letters addressed to their own department.
ADDRESSEE_ROLES = frozenset({Role.LEAD_DEPARTMENT, Role.RESPONSIBLE_DEPARTMENT})


class LetterStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    SENT = "sent", "已发送"
    DISCARDED = "discarded", "已作废"


#: How a draft the system proposed (from a red alert) is shown until the coordinator adopts it.
PROPOSED_LABEL = "草稿（建议）"


class ReminderLetter(models.Model):
    """A numbered reminder letter (提醒函) about a lagging indicator of one region. A draft the
    system proposed from a red alert (``proposed``) has no number until the coordinator adopts
    it (edits or sends it), so discarded proposals leave no gap in the year's numbers."""

    year = models.PositiveIntegerField("年度")
    sequence = models.PositiveIntegerField("序号", null=True, blank=True)
    number = models.CharField("文号", max_length=60, unique=True, null=True, blank=True)
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
    proposed = models.BooleanField("系统建议稿", default=False)
    source_alert = models.ForeignKey(
        "monitoring.Alert",
        verbose_name="来源预警",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reminder_letters",
    )

    objects = ScopedManager()

    class Meta:
        verbose_name = "提醒函"
        ordering = ["-year", "-sequence"]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="reports_letter_year_seq")
        ]

    def __str__(self) -> str:
        return self.number or f"提醒函建议稿（{self.region.name}）"

    @property
    def status_label(self) -> str:
        if self.status == LetterStatus.DRAFT and self.proposed:
            return PROPOSED_LABEL
        return self.get_status_display()

    @property
    def number_label(self) -> str:
        return self.number or "（待编号）"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        role = role_of(actor)
        if has_capability(actor, "letter.write"):
            return Q()
        if action in (CHANGE, DELETE):
            return None
        # The system's proposals and discarded drafts are the office's own working papers.
        issued = Q(proposed=False) & ~Q(status=LetterStatus.DISCARDED)
        if role == Role.LEADER:
            return issued
        if role in ADDRESSEE_ROLES:
            department_id = getattr(actor, "department_id", None)
            return Q(department_id=department_id) & issued if department_id else None
        if role == Role.DISTRICT_OFFICER:
            # A letter is addressed to its region: the district officers of that region's
            # subtree read it, and no other district's.
            return region_scope_q(actor, "region__path") & issued
        return None
