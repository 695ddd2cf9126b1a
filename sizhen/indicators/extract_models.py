"""Record extracts (明细记录抽取, record extract): the source records behind one indicator value,
read by the worker from the analytical store and kept here, masked, so that a page can show
and export them without ever opening the store."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sizhen.core.access import CHANGE, DELETE, ScopedManager, region_scope_q, role_of
from sizhen.core.models import JobStatus
from sizhen.core.roles import STAFF_ROLES
from sizhen.organisations.models import Region

#: States a page shows; derived from the row and its job, never assigned.
PENDING, READY, FAILED = "pending", "ready", "failed"


class RecordExtract(models.Model):
    indicator = models.ForeignKey(
        "indicators.Indicator",
        verbose_name="指标",
        on_delete=models.CASCADE,
        related_name="record_extracts",
    )
    region = models.ForeignKey(
        Region, verbose_name="区划", on_delete=models.CASCADE, related_name="record_extracts"
    )
    period = models.DateField("期间（首日）")
    dataset_code = models.CharField("数据集", max_length=40)
    #: [[field name, Chinese label], ...] in display order.
    columns = models.JSONField("字段", default=list, blank=True)
    #: Masked rows, newest first, at most ``extracts.ROW_CAP``.
    rows = models.JSONField("记录", default=list, blank=True)
    matched = models.BigIntegerField("符合条件的记录数", null=True, blank=True)
    #: Conditions of the indicator's definition the extract could not apply (derived fields).
    skipped_filters = models.JSONField("未应用的口径条件", default=list, blank=True)
    job = models.ForeignKey(
        "core.Job",
        verbose_name="后台任务",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="申请人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    requested_at = models.DateTimeField("申请时间", default=timezone.now)
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)
    error = models.TextField("错误", blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "明细记录抽取"
        indexes = [
            models.Index(
                fields=["indicator", "region", "period", "-requested_at"],
                name="ind_extract_lookup",
            )
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id}/{self.region_id}/{self.period:%Y-%m}"

    @classmethod
    def scope_q(cls, actor: Any, action: str) -> Q | None:
        """Staff see extracts of their own region subtree only: a district officer never sees
        another district's records, nor the city-wide extract that contains them."""
        if action in (CHANGE, DELETE):
            return None
        if role_of(actor) not in STAFF_ROLES:
            return None
        return region_scope_q(actor, "region__path")

    @property
    def state(self) -> str:
        if self.completed_at is not None:
            return READY
        if self.error:
            return FAILED
        if self.job is not None and self.job.status == JobStatus.FAILED:
            return FAILED
        return PENDING

    @property
    def truncated(self) -> bool:
        return self.matched is not None and self.matched > len(self.rows)
