"""派单目录与智能派单: the dispatch catalogue (派单目录), recorded dispatch choices and the
trained suggester models."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from sizhen.core.access import NOTHING, Actor, ScopedManager
from sizhen.core.permissions import has_capability


class ExampleSource(models.TextChoices):
    CONFIRMED = "confirmed", "采纳建议"
    CHANGED = "changed", "人工改派"
    IMPORTED = "imported", "历史导入"


class DispatchCatalogueEntry(models.Model):
    """One department's entry of the dispatch catalogue (派单目录): its responsibilities and
    typical matters, taken from its 三定 (functions, bodies, staffing) and 权责清单 (list of
    powers), which the national 12345 rules require dispatchers to follow."""

    department = models.OneToOneField(
        "organisations.Department",
        verbose_name="部门",
        on_delete=models.CASCADE,
        related_name="dispatch_entry",
    )
    responsibilities = models.TextField("职责", blank=True)
    typical_matters = models.TextField("典型事项", blank=True, help_text="每行一项")
    keywords = models.TextField("关键词", blank=True, help_text="每行一个")
    is_active = models.BooleanField("参与派单", default=True)
    version = models.PositiveIntegerField("版本", default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="修改人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "派单目录条目"
        ordering = ["department__region__path", "department__sort_order", "department__code"]

    def __str__(self) -> str:
        return f"派单目录：{self.department.name}"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        # The catalogue is the coordinator's tool; nobody else reads or edits it on pages.
        if has_capability(actor, "dispatch_catalogue.edit"):
            return Q()
        return NOTHING

    @property
    def matter_lines(self) -> list[str]:
        return _lines(self.typical_matters)

    @property
    def keyword_lines(self) -> list[str]:
        return _lines(self.keywords)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class DispatchExample(models.Model):
    """A dispatch decision made by staff (confirmed or changed), or an imported past one: the
    training data of the suggester."""

    text = models.TextField("诉求内容")
    department = models.ForeignKey(
        "organisations.Department",
        verbose_name="部门",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    dept_label = models.CharField("部门标签", max_length=100, blank=True)
    category_code = models.CharField("类别", max_length=40, blank=True)
    source = models.CharField("来源", max_length=12, choices=ExampleSource.choices)
    suggested_label = models.CharField("建议的首选部门", max_length=100, blank=True)
    created_at = models.DateTimeField("记录时间", auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "派单样本"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.label}：{self.text[:20]}"

    @property
    def label(self) -> str:
        if self.department_id is not None:
            return f"dept:{self.department_id}"
        return self.dept_label


class DispatchModel(models.Model):
    """A trained suggester, serialised with joblib. Only one is active at a time."""

    version = models.CharField("版本", max_length=40, unique=True)
    trained_at = models.DateTimeField("训练时间", auto_now_add=True)
    n_examples = models.PositiveIntegerField("样本数", default=0)
    metrics = models.JSONField("评估指标", default=dict)
    blob = models.BinaryField("模型")
    is_active = models.BooleanField("启用", default=False)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "派单模型"
        ordering = ["-trained_at", "-id"]

    def __str__(self) -> str:
        return self.version
