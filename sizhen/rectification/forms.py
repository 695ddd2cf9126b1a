"""Forms of the rectification pages: list filters, registration, and the steps of an item."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from sizhen.core.access import is_city_wide
from sizhen.core.uploads import AttachmentField
from sizhen.core.workqueue import QueueFilter
from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.catalogue.pickers import indicator_picker
from sizhen.organisations.models import Department, Region
from sizhen.organisations.pickers import department_picker, region_picker
from sizhen.rectification.choices import Judgement, Source
from sizhen.rectification.models import RectificationItem
from sizhen.rectification.selectors import WORK_QUEUES, overdue_q
from sizhen.rectification.workflow import STATES

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_YES_NO = (("yes", "是"), ("no", "否"))


class ItemFilter(django_filters.FilterSet):
    #: ``?queue=<key>`` is the home page's link to one kind of waiting work.
    queue = QueueFilter(WORK_QUEUES)
    source = django_filters.ChoiceFilter(label="问题来源", choices=Source.choices)
    lead_department = django_filters.ModelChoiceFilter(
        label="牵头部门",
        queryset=Department.objects.order_by("region__path", "code"),
        widget=department_picker(),
    )
    region = django_filters.ModelChoiceFilter(
        label="区划",
        queryset=Region.objects.order_by("path"),
        method="filter_region",
        widget=region_picker(),
    )
    status = django_filters.ChoiceFilter(label="状态", choices=list(STATES.items()))
    overdue = django_filters.ChoiceFilter(label="逾期", choices=_YES_NO, method="filter_overdue")
    repeated = django_filters.ChoiceFilter(
        label="反复出现", choices=_YES_NO, method="filter_repeated"
    )
    year = django_filters.NumberFilter(label="年度")
    #: ``?indicator=<code>`` is the link of an indicator's page; a text box, not a select of
    #: every indicator on each list page.
    indicator = django_filters.CharFilter(
        label="关联指标编码", max_length=20, method="filter_indicator"
    )

    class Meta:
        model = RectificationItem
        fields: ClassVar[list[str]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        actor = getattr(self.request, "user", None)
        if not is_city_wide(actor):
            path = getattr(actor, "scope_path", None) or "\0"
            field = self.filters["region"]
            field.queryset = field.queryset.filter(path__startswith=path)

    def filter_region(self, qs: QuerySet[Any], name: str, value: Region | None) -> QuerySet[Any]:
        # A district includes its parks: the region filter is the subtree.
        return qs.filter(region__path__startswith=value.path) if value else qs

    def filter_overdue(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if value == "yes":
            return qs.filter(overdue_q())
        if value == "no":
            return qs.exclude(overdue_q())
        return qs

    def filter_repeated(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if value in ("yes", "no"):
            return qs.filter(repeated=value == "yes")
        return qs

    def filter_indicator(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        # Indicator codes are unique: the join adds no duplicate rows.
        code = value.strip()
        return qs.filter(indicators__code=code) if code else qs


class ItemForm(forms.Form):
    title = forms.CharField(label="问题", max_length=200)
    description = forms.CharField(label="问题描述", required=False, widget=forms.Textarea)
    source = forms.ChoiceField(label="问题来源", choices=Source.choices)
    source_ref = forms.CharField(label="来源编号", max_length=60, required=False)
    region = forms.ModelChoiceField(
        label="所属区划",
        queryset=Region.objects.filter(is_active=True).order_by("path"),
        widget=region_picker(),
        error_messages={"required": "请选择所属区划", "invalid_choice": "请选择有效的区划"},
    )
    lead_department = forms.ModelChoiceField(
        label="牵头部门",
        queryset=Department.objects.filter(is_active=True).order_by("region__path", "code"),
        widget=department_picker(),
        error_messages={"required": "请选择牵头部门", "invalid_choice": "请选择有效的部门"},
    )
    responsible_departments = forms.ModelMultipleChoiceField(
        label="责任部门",
        required=False,
        queryset=Department.objects.filter(is_active=True).order_by("region__path", "code"),
        widget=department_picker(multiple=True),
        error_messages={"invalid_choice": "请选择有效的责任部门"},
    )
    measures = forms.CharField(label="整改措施", widget=forms.Textarea)
    deadline = forms.DateField(label="整改时限（日期）", required=False, widget=DATE)
    working_days = forms.IntegerField(
        label="或：自今日起工作日数", required=False, min_value=1, max_value=750
    )
    indicators = forms.ModelMultipleChoiceField(
        label="关联指标",
        required=False,
        queryset=Indicator.objects.filter(is_active=True).order_by("sort_order", "code"),
        widget=indicator_picker(multiple=True),
        error_messages={"invalid_choice": "请选择有效的指标"},
    )
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = timezone.localdate().year
        for name, field in self.fields.items():
            if name not in ("region", "lead_department"):
                field.error_messages["required"] = f"请填写{field.label}"
            if name in ("year", "working_days"):
                field.error_messages["invalid"] = f"{field.label}应为整数"
                field.error_messages["min_value"] = f"{field.label}不能小于 %(limit_value)s"
                field.error_messages["max_value"] = f"{field.label}不能大于 %(limit_value)s"
        self.fields["deadline"].error_messages["invalid"] = "整改时限应为日期，如 2026-12-31"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        deadline: dt.date | None = data.get("deadline")
        if (
            deadline is None
            and data.get("working_days") is None
            and not self.errors.get("deadline")
        ):
            self.add_error("deadline", "请填写整改时限（日期或工作日数）")
        elif deadline is not None and deadline < timezone.localdate():
            self.add_error("deadline", "整改时限不能早于今天")
        return data


class StepForm(forms.Form):
    status = forms.ChoiceField(choices=list(STATES.items()), widget=forms.HiddenInput)
    note = forms.CharField(label="说明", required=False, max_length=2000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].error_messages["invalid_choice"] = "页面状态无效，请刷新后重试"
        self.fields["status"].error_messages["required"] = "页面状态无效，请刷新后重试"
        self.fields["note"].error_messages["max_length"] = "说明最多 2000 字"


class ProgressForm(forms.Form):
    note = forms.CharField(
        label="进展说明",
        max_length=2000,
        widget=forms.Textarea,
        error_messages={"required": "请填写进展说明", "max_length": "进展说明最多 2000 字"},
    )
    percent = forms.IntegerField(
        label="完成进度（%）",
        required=False,
        min_value=0,
        max_value=100,
        error_messages={
            "invalid": "完成进度应为 0–100 之间的整数",
            "min_value": "完成进度应为 0–100 之间的整数",
            "max_value": "完成进度应为 0–100 之间的整数",
        },
    )


class EvidenceForm(forms.Form):
    file = AttachmentField(
        label="佐证材料",
        error_messages={"required": "请选择要上传的文件", "empty": "上传的文件是空的"},
    )
    description = forms.CharField(label="说明", max_length=200, required=False)


class ReviewForm(forms.Form):
    judgement = forms.ChoiceField(
        label="核验结论",
        choices=Judgement.choices,
        error_messages={
            "required": "请选择核验结论",
            "invalid_choice": "请选择核验结论：有效、部分有效或无效",
        },
    )
    comment = forms.CharField(label="核验意见", max_length=2000, required=False)


class PublishForm(forms.Form):
    summary = forms.CharField(
        label="曝光内容",
        max_length=1000,
        required=False,
        help_text="公开展示的问题表述；不得包含个人姓名、电话等个人信息。不填则使用问题标题。",
        error_messages={"max_length": "曝光内容最多 1000 字"},
    )
