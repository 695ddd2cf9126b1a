"""Data assets (数据资产): what the catalogue cannot derive from the datasets, indicators and
loads that already exist (a dataset's owner, source system, update frequency, restriction),
the historical archives (参评数据 by year, 考核要点 and documents by year) and the requests for
permissioned extracts (数据调取申请). See docs/data-assets.md."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sizhen.assets.choices import DocumentKind, ExtractFormat, ExtractKind, UpdateFrequency
from sizhen.assets.workflow import EXTRACT_WORKFLOW, SUBMITTED
from sizhen.core.access import CHANGE, DELETE, Actor, ScopedManager, role_of
from sizhen.core.permissions import has_capability
from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.ingestion.models import Dataset
from sizhen.organisations.models import Department, Region

#: Archive files and extracts live under MEDIA_ROOT/assets/, which no URL serves: they go out
#: only through the scoped download views. No location is fixed here so that the setting is
#: read when used.
asset_storage = FileSystemStorage()


def _staff_view_manager_change(actor: Actor, action: str) -> Q | None:
    if action in (CHANGE, DELETE):
        return Q() if has_capability(actor, "asset.manage") else None
    return Q() if has_capability(actor, "staff.api") else None


class AssetProfile(models.Model):
    """What the catalogue cannot derive about a dataset (数据资产信息)."""

    dataset = models.OneToOneField(
        Dataset, verbose_name="数据集", on_delete=models.CASCADE, related_name="asset_profile"
    )
    owner_department = models.ForeignKey(
        Department,
        verbose_name="数据责任部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source_system = models.CharField("来源系统", max_length=100, blank=True)
    update_frequency = models.CharField(
        "更新频率", max_length=12, choices=UpdateFrequency.choices, default=UpdateFrequency.DAILY
    )
    restricted = models.BooleanField("受限（调取明细需审批）", default=False)
    description = models.TextField("资产说明", blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "数据资产信息"

    def __str__(self) -> str:
        return f"{self.dataset_id} 资产信息"

    scope_q = classmethod(lambda cls, actor, action: _staff_view_manager_change(actor, action))


class EvaluationResult(models.Model):
    """One archived evaluation result (参评数据): a region's value, score and rank on one
    indicator in one year's evaluation."""

    year = models.PositiveSmallIntegerField("年度")
    region = models.ForeignKey(
        Region, verbose_name="区划", on_delete=models.CASCADE, related_name="+"
    )
    indicator = models.ForeignKey(
        Indicator, verbose_name="指标", on_delete=models.CASCADE, related_name="+"
    )
    value = models.FloatField("数值", null=True, blank=True)
    score = models.FloatField("得分", null=True, blank=True)
    rank = models.PositiveIntegerField("排名", null=True, blank=True)
    rank_total = models.PositiveIntegerField("参评数", null=True, blank=True)
    source = models.CharField("评价来源", max_length=100, blank=True)
    imported_at = models.DateTimeField("导入时间", default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "历年参评数据"
        ordering = ["-year", "indicator__sort_order", "indicator__code", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["year", "region", "indicator"], name="assets_result_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.region_id} {self.indicator_id}"

    # Published evaluation results are shared with every district (they are ranked together).
    scope_q = classmethod(lambda cls, actor, action: _staff_view_manager_change(actor, action))


class ArchiveDocument(models.Model):
    """An archived text or file by year (历史资料): assessment key points (考核要点), documents,
    policy evolution (政策沿革)."""

    kind = models.CharField("类别", max_length=12, choices=DocumentKind.choices)
    year = models.PositiveSmallIntegerField("年度")
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    file = models.FileField(
        "附件", storage=asset_storage, upload_to="assets/documents/", blank=True
    )
    file_name = models.CharField("附件名", max_length=200, blank=True)
    reference = models.CharField("关联政策或出处", max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "历史资料"
        ordering = ["-year", "kind", "pk"]

    def __str__(self) -> str:
        return self.title

    scope_q = classmethod(lambda cls, actor, action: _staff_view_manager_change(actor, action))


class ExtractRequest(models.Model):
    """A request for an extract (数据调取申请): the records of a dataset, or an indicator's
    values, filtered by region, period and fields, as CSV or XLSX."""

    kind = models.CharField("调取内容", max_length=10, choices=ExtractKind.choices)
    dataset = models.ForeignKey(
        Dataset,
        verbose_name="数据集",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    indicator = models.ForeignKey(
        Indicator,
        verbose_name="指标",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    region = models.ForeignKey(
        Region, verbose_name="区划", on_delete=models.PROTECT, related_name="+"
    )
    period_start = models.DateField("起始日期")
    period_end = models.DateField("截止日期")
    #: Field names of the dataset, in the order asked; empty = every field.
    fields = models.JSONField("字段", default=list, blank=True)
    format = models.CharField(
        "文件格式", max_length=4, choices=ExtractFormat.choices, default=ExtractFormat.XLSX
    )
    purpose = models.CharField("用途", max_length=300)
    #: Personal data unmasked: only when asked by someone whose role allows it (decided at
    #: submission and kept, so that a later role change does not alter a granted extract).
    unmasked = models.BooleanField("含未脱敏个人信息", default=False)
    #: The dataset's restriction when the request was made.
    needs_approval = models.BooleanField("需审批", default=False)
    owner_department = models.ForeignKey(
        Department,
        verbose_name="数据责任部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField("状态", max_length=12, default=SUBMITTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="申请人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_by_label = models.CharField("申请人", max_length=200)
    requested_at = models.DateTimeField("申请时间", default=timezone.now)
    decided_by_label = models.CharField("审批人", max_length=200, blank=True)
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.CharField("审批意见", max_length=300, blank=True)
    job = models.ForeignKey(
        "core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file = models.CharField("文件", max_length=300, blank=True)
    file_size = models.BigIntegerField("文件大小", default=0)
    row_count = models.BigIntegerField("行数", null=True, blank=True)
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)
    error = models.CharField("错误", max_length=500, blank=True)
    downloads = models.PositiveIntegerField("下载次数", default=0)

    objects = ScopedManager()
    workflow = EXTRACT_WORKFLOW

    class Meta:
        verbose_name = "数据调取申请"
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["status", "-requested_at"], name="assets_extract_status")]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return f"DQ{self.requested_at:%Y}-{self.pk or 0:04d}"

    @property
    def subject(self) -> str:
        if self.kind == ExtractKind.RECORDS and self.dataset is not None:
            return self.dataset.name
        return str(self.indicator) if self.indicator is not None else ""

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        """The office sees every request; others their own, and a department the requests on
        the datasets it owns (it approves them)."""
        if action == DELETE or not has_capability(actor, "staff.pages"):
            return None
        if has_capability(actor, "asset.manage"):
            return Q()
        user_id = getattr(actor, "pk", None) if role_of(actor) else None
        mine = Q(requested_by_id=user_id) if user_id else Q(pk__in=[])
        department_id = getattr(actor, "department_id", None)
        if department_id and has_capability(actor, "asset.approve"):
            return mine | Q(owner_department_id=department_id)
        return mine
