"""Forms of the survey pages: list filters, the XLSForm upload, rounds, invitations, the
answering form built from a questionnaire's section, and turning an answer into a request or
a ledger item."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar, cast

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.utils import timezone

from sizhen.core.access import VIEW, is_city_wide
from sizhen.enterprise_requests.choices import Kind
from sizhen.organisations.choices import EnterpriseSize
from sizhen.organisations.models import Department, Region
from sizhen.organisations.pickers import department_picker, region_picker
from sizhen.surveys.choices import Channel, QuestionType, Topic
from sizhen.surveys.models import (
    BankItem,
    Invitation,
    Questionnaire,
    QuestionnaireVersion,
    Response,
    SurveyRound,
)
from sizhen.surveys.workflow import PUBLISHED, ROUND_STATES
from sizhen.surveys.xlsform import MAX_BYTES

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_YES_NO = (("yes", "是"), ("no", "否"))


def _scoped_regions(filterset: Any, name: str = "region") -> None:
    """The region filter offers the actor's own subtree only."""
    actor = getattr(filterset.request, "user", None)
    if not is_city_wide(actor):
        path = getattr(actor, "scope_path", None) or "\0"
        field = filterset.filters[name]
        field.queryset = field.queryset.filter(path__startswith=path)


def _subtree(qs: QuerySet[Any], path_field: str, value: Region | None) -> QuerySet[Any]:
    return qs.filter(**{f"{path_field}__startswith": value.path}) if value else qs


class BankFilter(django_filters.FilterSet):
    topic = django_filters.ChoiceFilter(label="主题", choices=Topic.choices)
    type = django_filters.ChoiceFilter(label="题型", choices=QuestionType.choices)
    indicator = django_filters.CharFilter(
        label="关联指标编码", max_length=20, method="filter_indicator"
    )

    class Meta:
        model = BankItem
        fields: ClassVar[list[str]] = []

    def filter_indicator(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        code = value.strip()
        return qs.filter(indicator__code__startswith=code) if code else qs


class RoundFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label="状态", choices=list(ROUND_STATES.items()))
    questionnaire = django_filters.ModelChoiceFilter(
        label="问卷", queryset=Questionnaire.objects.order_by("code")
    )

    class Meta:
        model = SurveyRound
        fields: ClassVar[list[str]] = []


class InvitationFilter(django_filters.FilterSet):
    answered = django_filters.ChoiceFilter(
        label="已提交", choices=_YES_NO, method="filter_answered"
    )
    panel = django_filters.ChoiceFilter(label="企业监测点", choices=_YES_NO, method="filter_panel")
    region = django_filters.ModelChoiceFilter(
        label="区划",
        queryset=Region.objects.order_by("path"),
        method="filter_region",
        widget=region_picker(),
    )

    class Meta:
        model = Invitation
        fields: ClassVar[list[str]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _scoped_regions(self)

    def filter_answered(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if value in ("yes", "no"):
            return qs.filter(answered_at__isnull=value == "no")
        return qs

    def filter_panel(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return qs.filter(panel=value == "yes") if value in ("yes", "no") else qs

    def filter_region(self, qs: QuerySet[Any], name: str, value: Region | None) -> QuerySet[Any]:
        return _subtree(qs, "enterprise__region__path", value)


class ResponseFilter(django_filters.FilterSet):
    round = django_filters.ModelChoiceFilter(
        label="调查轮次", queryset=SurveyRound.objects.order_by("-created_at")
    )
    region = django_filters.ModelChoiceFilter(
        label="区划",
        queryset=Region.objects.order_by("path"),
        method="filter_region",
        widget=region_picker(),
    )
    channel = django_filters.ChoiceFilter(label="渠道", choices=Channel.choices)

    class Meta:
        model = Response
        fields: ClassVar[list[str]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _scoped_regions(self)
        actor = getattr(self.request, "user", None)
        field = self.filters["round"]
        field.queryset = SurveyRound.objects.visible_to(actor, VIEW).order_by("-created_at")

    def filter_region(self, qs: QuerySet[Any], name: str, value: Region | None) -> QuerySet[Any]:
        return _subtree(qs, "region__path", value)


class XLSFormUploadForm(forms.Form):
    file = forms.FileField(
        label="XLSForm 工作簿（.xlsx）",
        error_messages={
            "required": "请选择要导入的 XLSForm 文件",
            "empty": "上传的文件是空的",
            "invalid": "未收到文件，请重新选择",
        },
    )
    publish = forms.BooleanField(label="导入后立即发布", required=False)

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if not (upload.name or "").lower().endswith((".xlsx", ".xls")):
            raise ValidationError("只支持 XLSForm 工作簿（.xlsx 或 .xls）")
        if upload.size is not None and upload.size > MAX_BYTES:
            raise ValidationError(f"文件不能超过 {MAX_BYTES // 1024 // 1024} MB")
        return upload


class RoundForm(forms.Form):
    title = forms.CharField(
        label="调查名称", max_length=200, error_messages={"required": "请填写调查名称"}
    )
    version = forms.ModelChoiceField(
        label="问卷版本",
        queryset=QuestionnaireVersion.objects.none(),
        error_messages={
            "required": "请选择已发布的问卷版本",
            "invalid_choice": "请选择已发布的问卷版本",
        },
    )
    region = forms.ModelChoiceField(
        label="调查范围",
        queryset=Region.objects.filter(is_active=True).order_by("path"),
        widget=region_picker(),
        error_messages={"required": "请选择调查范围", "invalid_choice": "请选择有效的区划"},
    )
    deadline = forms.DateField(
        label="截止日期",
        widget=DATE,
        error_messages={"required": "请填写截止日期", "invalid": "截止日期应为日期，如 2026-12-31"},
    )

    def __init__(self, *args: Any, questionnaire: Questionnaire, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        versions = questionnaire.versions.filter(status=PUBLISHED).order_by("-number")
        version_field = cast(forms.ModelChoiceField, self.fields["version"])
        version_field.queryset = versions
        version_field.label_from_instance = lambda v: f"第 {v.number} 版"  # type: ignore[assignment]
        latest = versions.first()
        if latest is not None:
            self.fields["version"].initial = latest.pk
        self.fields["deadline"].initial = timezone.localdate() + dt.timedelta(days=30)

    def clean_deadline(self) -> dt.date:
        deadline: dt.date = self.cleaned_data["deadline"]
        if deadline < timezone.localdate():
            raise ValidationError("截止日期不能早于今天")
        return deadline


class InviteForm(forms.Form):
    region = forms.ModelChoiceField(
        label="区划（含下级）",
        required=False,
        queryset=Region.objects.filter(is_active=True).order_by("path"),
        widget=region_picker(),
        error_messages={"invalid_choice": "请选择有效的区划"},
    )
    industry = forms.CharField(
        label="行业代码前缀", required=False, max_length=5, help_text="如 C 制造业，I65 软件业"
    )
    size = forms.ChoiceField(
        label="规模", required=False, choices=[("", "全部"), *EnterpriseSize.choices]
    )
    sample = forms.IntegerField(
        label="随机抽取家数",
        required=False,
        min_value=1,
        max_value=5000,
        help_text="不填则邀请全部符合条件的企业",
        error_messages={
            "invalid": "抽取家数应为整数",
            "min_value": "抽取家数应为 1–5000",
            "max_value": "抽取家数应为 1–5000",
        },
    )
    panel = forms.BooleanField(label="作为企业监测点（每轮必答）", required=False)

    def __init__(self, *args: Any, survey_round: SurveyRound, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["region"])
        field.queryset = Region.objects.filter(
            is_active=True, path__startswith=survey_round.region.path
        ).order_by("path")


class RequestFollowUpForm(forms.Form):
    """An answer turned into an enterprise request (转为企业诉求)."""

    kind = forms.ChoiceField(label="诉求类型", choices=Kind.choices, initial=Kind.COMPLAINT)
    text = forms.CharField(label="诉求内容", max_length=5000, widget=forms.Textarea)


class RectificationFollowUpForm(forms.Form):
    """An answer turned into a rectification item (转为整改事项)."""

    title = forms.CharField(label="问题", max_length=200)
    description = forms.CharField(label="问题描述", required=False, widget=forms.Textarea)
    lead_department = forms.ModelChoiceField(
        label="牵头部门",
        queryset=Department.objects.filter(is_active=True).order_by("region__path", "code"),
        widget=department_picker(),
        error_messages={"required": "请选择牵头部门", "invalid_choice": "请选择有效的部门"},
    )
    measures = forms.CharField(label="整改措施", widget=forms.Textarea)
    deadline = forms.DateField(label="整改时限（日期）", required=False, widget=DATE)
    working_days = forms.IntegerField(
        label="或：自今日起工作日数", required=False, min_value=1, max_value=750
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("title", "measures"):
            self.fields[name].error_messages["required"] = f"请填写{self.fields[name].label}"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        given = data.get("deadline") is not None or data.get("working_days") is not None
        if not given and not self.errors.get("deadline") and not self.errors.get("working_days"):
            self.add_error("deadline", "请填写整改时限（日期或工作日数）")
        return data


class StepForm(forms.Form):
    status = forms.ChoiceField(choices=list(ROUND_STATES.items()), widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].error_messages["invalid_choice"] = "页面状态无效，请刷新后重试"
        self.fields["status"].error_messages["required"] = "页面状态无效，请刷新后重试"


def posted_answers(data: Any, form: Any, names: list[str]) -> dict[str, Any]:
    """The answers of the questions ``names`` from a POSTed answering page: one field per
    question (``q-<name>``; several for a multiple choice), ``q-<name>-<row>`` per matrix row.
    Everything stays text here; the validation checks and converts it."""
    by_name = form.by_name
    answers: dict[str, Any] = {}
    for name in names:
        question = by_name.get(name)
        if question is None or not question.answerable:
            continue
        key = f"q-{name}"
        if question.type == QuestionType.MULTIPLE:
            answers[name] = [v for v in data.getlist(key) if v]
        elif question.type == QuestionType.MATRIX:
            answers[name] = {
                row.name: data.get(f"{key}-{row.name}", "")
                for row in question.rows
                if data.get(f"{key}-{row.name}", "")
            }
        else:
            answers[name] = data.get(key, "")
    return answers
