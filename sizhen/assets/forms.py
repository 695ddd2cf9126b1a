"""Forms and list filters of the data-asset pages."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from sizhen.assets.choices import DocumentKind, ExtractFormat, ExtractKind, UpdateFrequency
from sizhen.assets.models import ArchiveDocument, EvaluationResult, ExtractRequest
from sizhen.assets.selectors import WORK_QUEUES
from sizhen.assets.workflow import STATES
from sizhen.core.access import Actor, region_scope_q
from sizhen.core.permissions import has_capability
from sizhen.core.uploads import AttachmentField
from sizhen.core.workqueue import QueueFilter
from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.catalogue.pickers import indicator_picker
from sizhen.indicators.ingestion.models import Dataset
from sizhen.organisations.models import Department, Region
from sizhen.organisations.pickers import department_picker, region_picker

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProfileForm(forms.Form):
    owner_department = forms.ModelChoiceField(
        label="数据责任部门",
        queryset=Department.objects.filter(is_active=True).order_by("region__path", "code"),
        required=False,
        widget=department_picker(),
    )
    source_system = forms.CharField(label="来源系统", max_length=100, required=False)
    update_frequency = forms.ChoiceField(label="更新频率", choices=UpdateFrequency.choices)
    restricted = forms.BooleanField(
        label="受限资产（调取明细记录需经数据责任部门或营商办审批）", required=False
    )
    description = forms.CharField(
        label="资产说明", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label="类别", choices=DocumentKind.choices)
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)
    title = forms.CharField(label="标题", max_length=200)
    body = forms.CharField(label="内容", required=False, widget=forms.Textarea(attrs={"rows": 8}))
    file = AttachmentField(label="附件", required=False)
    reference = forms.CharField(label="关联政策或出处", max_length=300, required=False)


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Excel 文件（.xlsx）",
        error_messages={"required": "请选择要导入的 Excel 文件", "empty": "上传的文件是空的"},
    )


class ExtractForm(forms.Form):
    kind = forms.ChoiceField(label="调取内容", choices=ExtractKind.choices)
    dataset = forms.ModelChoiceField(
        label="数据集", queryset=Dataset.objects.order_by("code"), required=False
    )
    indicator = forms.ModelChoiceField(
        label="指标",
        queryset=Indicator.objects.order_by("sort_order", "code"),
        required=False,
        widget=indicator_picker(),
    )
    region = forms.ModelChoiceField(
        label="区划", queryset=Region.objects.order_by("path"), widget=region_picker()
    )
    period_start = forms.DateField(label="起始日期", widget=DATE)
    period_end = forms.DateField(label="截止日期", widget=DATE)
    field_names = forms.CharField(
        label="字段",
        required=False,
        help_text="数据集字段的英文名，用逗号分隔；留空为全部字段",
        max_length=1000,
    )
    file_format = forms.ChoiceField(label="文件格式", choices=ExtractFormat.choices)
    purpose = forms.CharField(label="用途", max_length=300)
    unmasked = forms.BooleanField(
        label="包含未脱敏的个人信息（电话、证件号、姓名）", required=False
    )

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["region"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Region.objects.filter(region_scope_q(actor, "path")).order_by("path")
        if not has_capability(actor, "asset.personal_data"):
            del self.fields["unmasked"]
        today = timezone.localdate()
        self.initial.setdefault("period_start", dt.date(today.year - 1, 1, 1))
        self.initial.setdefault("period_end", today)

    def clean_field_names(self) -> list[str]:
        text = self.cleaned_data.get("field_names") or ""
        return [part.strip() for part in text.replace("，", ",").split(",") if part.strip()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == ExtractKind.RECORDS and not data.get("dataset"):
            self.add_error("dataset", "请选择数据集")
        if data.get("kind") == ExtractKind.VALUES and not data.get("indicator"):
            self.add_error("indicator", "请选择指标")
        return data


class DecisionForm(forms.Form):
    note = forms.CharField(label="审批意见", max_length=300, required=False)


class ResultFilter(django_filters.FilterSet):
    year = django_filters.NumberFilter(label="年度")
    region = django_filters.ModelChoiceFilter(
        label="区划", queryset=Region.objects.order_by("path"), widget=region_picker()
    )
    #: ``?indicator=<code>`` (a text box, not a select of every indicator).
    indicator = django_filters.CharFilter(
        label="指标编码", max_length=20, method="filter_indicator"
    )

    class Meta:
        model = EvaluationResult
        fields: ClassVar[list[str]] = []

    def filter_indicator(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return qs.filter(indicator__code=value.strip()) if value.strip() else qs


class DocumentFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label="类别", choices=DocumentKind.choices)
    year = django_filters.NumberFilter(label="年度")

    class Meta:
        model = ArchiveDocument
        fields: ClassVar[list[str]] = []


class ExtractFilter(django_filters.FilterSet):
    queue = QueueFilter(WORK_QUEUES)
    status = django_filters.ChoiceFilter(label="状态", choices=list(STATES.items()))
    kind = django_filters.ChoiceFilter(label="调取内容", choices=ExtractKind.choices)

    class Meta:
        model = ExtractRequest
        fields: ClassVar[list[str]] = []
