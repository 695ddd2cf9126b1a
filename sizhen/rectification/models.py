"""The rectification ledger (整改清单): problem items, their evidence (佐证材料), progress
reports (进展), and the reviews that verify the effect (效果核验) before close-off (销号)."""

from __future__ import annotations

from pathlib import PurePath

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sizhen.core.access import CHANGE, EXPORT, VIEW, Actor, ScopedManager, region_scope_q, role_of
from sizhen.core.permissions import has_capability
from sizhen.core.roles import CITY_WIDE_ROLES, DEPARTMENT_ROLES, Role
from sizhen.indicators.catalogue.models import EvaluationCycle, Indicator
from sizhen.organisations.models import Department, Region
from sizhen.rectification.choices import Judgement, Source
from sizhen.rectification.workflow import (
    ACTIVE_STATES,
    OPEN,
    RECTIFICATION_WORKFLOW,
    STATES,
)

#: Evidence is stored under MEDIA_ROOT, which no URL serves: files go out only through the
#: scoped download view. No location is fixed here so that the setting is read when used.
evidence_storage = FileSystemStorage()


def _department_q(actor: Actor) -> Q | None:
    department_id = getattr(actor, "department_id", None)
    if department_id is None:
        return None
    responsible = RectificationItem.responsible_departments.through.objects.filter(
        department_id=department_id
    ).values("rectificationitem_id")
    return Q(lead_department_id=department_id) | Q(pk__in=responsible)


class RectificationItem(models.Model):
    """One problem of the ledger (问题事项): where it comes from, who leads it, the measures
    (整改措施), the deadline and the indicators it should move."""

    title = models.CharField("问题", max_length=200)
    description = models.TextField("问题描述", blank=True)
    source = models.CharField("问题来源", max_length=20, choices=Source.choices)
    source_ref = models.CharField("来源编号", max_length=60, blank=True)
    region = models.ForeignKey(
        Region, verbose_name="所属区划", on_delete=models.PROTECT, related_name="+"
    )
    lead_department = models.ForeignKey(
        Department, verbose_name="牵头部门", on_delete=models.PROTECT, related_name="+"
    )
    responsible_departments = models.ManyToManyField(
        Department, verbose_name="责任部门", blank=True, related_name="+"
    )
    measures = models.TextField("整改措施")
    deadline = models.DateField("整改时限")
    indicators = models.ManyToManyField(
        Indicator, verbose_name="关联指标", blank=True, related_name="+"
    )
    year = models.PositiveSmallIntegerField("年度")
    cycle = models.ForeignKey(
        EvaluationCycle,
        verbose_name="评价周期",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        "状态", max_length=20, choices=list(STATES.items()), default=OPEN, editable=False
    )
    #: Incremented on each reopening: evidence and reviews count for the current round only.
    round = models.PositiveSmallIntegerField("整改轮次", default=1, editable=False)
    repeated = models.BooleanField("反复出现", default=False)
    repeated_of = models.ManyToManyField(
        "self", verbose_name="往年同类问题", symmetrical=False, blank=True, related_name="+"
    )
    repeat_reason = models.CharField("反复判定依据", max_length=200, blank=True)
    published = models.BooleanField("已曝光", default=False)
    public_summary = models.TextField("曝光内容", blank=True)
    published_at = models.DateTimeField("曝光时间", null=True, blank=True)
    source_alert_id = models.PositiveIntegerField("来源预警", null=True, blank=True)
    progress_note = models.TextField("最新进展", blank=True)
    closed_at = models.DateTimeField("销号时间", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", default=timezone.now)
    version = models.PositiveIntegerField("版本", default=1)

    objects = ScopedManager()
    workflow = RECTIFICATION_WORKFLOW

    class Meta:
        verbose_name = "整改事项"
        ordering = ["-year", "-id"]
        indexes = [
            models.Index(fields=["status", "deadline"], name="rect_item_status_deadline"),
            models.Index(fields=["year"], name="rect_item_year"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def number(self) -> str:
        return f"ZG{self.year}-{self.pk or 0:04d}"

    @property
    def is_overdue(self) -> bool:
        return self.status in ACTIVE_STATES and self.deadline < timezone.localdate()

    @property
    def is_closed(self) -> bool:
        return self.status not in ACTIVE_STATES

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        role = role_of(actor)
        if role is None or role == Role.ENTERPRISE:
            return None
        if action == CHANGE:
            if has_capability(actor, "rectification.manage"):
                return Q()
            if role in DEPARTMENT_ROLES:
                department_id = getattr(actor, "department_id", None)
                return Q(lead_department_id=department_id) if department_id else None
            if role == Role.DISTRICT_OFFICER:
                return region_scope_q(actor, "region__path")
            return None
        if action not in (VIEW, EXPORT):
            return None
        if role in CITY_WIDE_ROLES:
            return Q()
        if role == Role.DISTRICT_OFFICER:
            return region_scope_q(actor, "region__path")
        if role in DEPARTMENT_ROLES:
            return _department_q(actor)
        return None


class ItemScoped:
    """Children of an item are visible exactly when their item is."""

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        q = RectificationItem.scope_q(actor, VIEW if action == EXPORT else action)
        if q is None:
            return None
        return Q(item__in=RectificationItem.objects.filter(q).values("pk"))


def _evidence_path(instance: Evidence, filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()
    stamp = timezone.now().strftime("%Y%m")
    return f"rectification/evidence/{stamp}/{instance.item_id}-{timezone.now():%H%M%S%f}{suffix}"


class Evidence(ItemScoped, models.Model):
    """A supporting file (佐证材料) of one rectification round."""

    item = models.ForeignKey(
        RectificationItem,
        verbose_name="整改事项",
        on_delete=models.CASCADE,
        related_name="evidence",
    )
    round = models.PositiveSmallIntegerField("整改轮次", default=1)
    file = models.FileField("文件", storage=evidence_storage, upload_to=_evidence_path)
    name = models.CharField("文件名", max_length=200)
    size = models.PositiveIntegerField("大小（字节）", default=0)
    description = models.CharField("说明", max_length=200, blank=True)
    uploaded_by_label = models.CharField("上传人", max_length=200, blank=True)
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "整改佐证材料"
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class ProgressReport(ItemScoped, models.Model):
    """A progress report (整改进展) by the lead unit, from a page or a department's token."""

    item = models.ForeignKey(
        RectificationItem,
        verbose_name="整改事项",
        on_delete=models.CASCADE,
        related_name="progress",
    )
    round = models.PositiveSmallIntegerField("整改轮次", default=1)
    note = models.TextField("进展说明")
    percent = models.PositiveSmallIntegerField("完成进度（%）", null=True, blank=True)
    reported_by_label = models.CharField("报送人", max_length=200, blank=True)
    reported_at = models.DateTimeField("报送时间", default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "整改进展"
        ordering = ["reported_at", "id"]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.note[:20]}"


class Review(ItemScoped, models.Model):
    """The coordinator's verification of effect (整改效果核验): the indicator values before and
    after, frozen when the reviewer judged, and the judgement."""

    item = models.ForeignKey(
        RectificationItem, verbose_name="整改事项", on_delete=models.CASCADE, related_name="reviews"
    )
    round = models.PositiveSmallIntegerField("整改轮次", default=1)
    judgement = models.CharField("核验结论", max_length=20, choices=Judgement.choices)
    comment = models.TextField("核验意见", blank=True)
    snapshot = models.JSONField("指标前后对比", default=list, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewer_label = models.CharField("核验人", max_length=200, blank=True)
    at = models.DateTimeField("核验时间", default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "整改效果核验"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.judgement}"
