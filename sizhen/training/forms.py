"""Forms of the training pages: materials, courses and their assignment, questions, exams and
list filters."""

from __future__ import annotations

from typing import Any, ClassVar

import django_filters
from django import forms
from django.db.models import QuerySet

from sizhen.core.uploads import VIDEO_KINDS, AttachmentField
from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.catalogue.pickers import indicator_picker
from sizhen.organisations.models import Department, Region
from sizhen.organisations.pickers import department_picker, region_picker
from sizhen.training.choices import (
    OPTION_LETTERS,
    Audience,
    Difficulty,
    MaterialKind,
    QuestionKind,
)
from sizhen.training.models import Material, Question

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
#: Rows of drawing rules on the exam form.
RULE_ROWS = 5


def _indicators() -> QuerySet[Indicator]:
    return Indicator.objects.filter(is_active=True).order_by("sort_order", "code")


def _departments() -> QuerySet[Department]:
    return Department.objects.filter(is_active=True).order_by("region__path", "code")


def _regions() -> QuerySet[Region]:
    return Region.objects.filter(is_active=True).order_by("path")


class MaterialForm(forms.Form):
    title = forms.CharField(label="标题", max_length=200)
    kind = forms.ChoiceField(label="类型", choices=MaterialKind.choices)
    topic = forms.CharField(label="专题", max_length=60, required=False)
    indicator = forms.ModelChoiceField(
        label="关联指标", queryset=_indicators(), required=False, widget=indicator_picker()
    )
    audience = forms.ChoiceField(
        label="适用范围",
        choices=Audience.choices,
        help_text="共性资料所有人学习；个性资料由适用部门学习（不选部门时为关联指标的牵头和责任部门）",
    )
    departments = forms.ModelMultipleChoiceField(
        label="适用部门",
        queryset=_departments(),
        required=False,
        widget=department_picker(multiple=True),
    )
    upload = AttachmentField(
        label="文件",
        required=False,
        extra=VIDEO_KINDS,
        help_text="文档：PDF、Word、TXT；视频：MP4、WebM；课件：PDF、PowerPoint",
    )
    link_url = forms.URLField(label="链接", max_length=500, required=False, assume_scheme="https")
    minutes = forms.IntegerField(label="学习时长（分钟）", min_value=1, max_value=600, initial=10)
    sort_order = forms.IntegerField(label="排序", min_value=0, initial=0)
    description = forms.CharField(label="简介", required=False, widget=forms.Textarea)


class MaterialEditForm(MaterialForm):
    is_active = forms.BooleanField(label="启用", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The kind decides how the file is shown; a new kind is a new material.
        del self.fields["kind"]


class CourseForm(forms.Form):
    title = forms.CharField(label="课程名称", max_length=200)
    materials = forms.ModelMultipleChoiceField(
        label="学习资料",
        queryset=Material.objects.filter(is_active=True).order_by("sort_order", "pk"),
        widget=forms.SelectMultiple(attrs={"size": 12}),
        help_text="按资料排序依次学习",
    )
    description = forms.CharField(label="课程简介", required=False, widget=forms.Textarea)


class AssignForm(forms.Form):
    departments = forms.ModelMultipleChoiceField(
        label="部门",
        queryset=_departments(),
        required=False,
        widget=department_picker(multiple=True),
    )
    regions = forms.ModelMultipleChoiceField(
        label="县市区/园区",
        queryset=_regions(),
        required=False,
        widget=region_picker(multiple=True),
    )
    deadline = forms.DateField(label="完成期限", widget=DATE)


class QuestionForm(forms.Form):
    kind = forms.ChoiceField(label="题型", choices=QuestionKind.choices)
    stem = forms.CharField(label="题干", max_length=1000, widget=forms.Textarea(attrs={"rows": 3}))
    option_a = forms.CharField(label="选项A", max_length=300, required=False)
    option_b = forms.CharField(label="选项B", max_length=300, required=False)
    option_c = forms.CharField(label="选项C", max_length=300, required=False)
    option_d = forms.CharField(label="选项D", max_length=300, required=False)
    option_e = forms.CharField(label="选项E", max_length=300, required=False)
    option_f = forms.CharField(label="选项F", max_length=300, required=False)
    answer = forms.CharField(
        label="答案",
        max_length=300,
        help_text="选择题填字母（如 B、ACD）；判断题填 正确 或 错误；填空题多个答案用 | 分隔",
    )
    explanation = forms.CharField(label="解析", required=False, widget=forms.Textarea)
    indicator = forms.ModelChoiceField(
        label="关联指标", queryset=_indicators(), required=False, widget=indicator_picker()
    )
    difficulty = forms.ChoiceField(label="难度", choices=Difficulty.choices, initial="medium")
    tags = forms.CharField(label="标签", max_length=200, required=False, help_text="用顿号分隔")
    is_active = forms.BooleanField(label="启用", required=False, initial=True)

    @classmethod
    def initial_of(cls, question: Question) -> dict[str, Any]:
        answer = question.answer
        if question.kind == QuestionKind.FILL:
            answer_text = "|".join(answer)
        elif question.kind == QuestionKind.TRUE_FALSE:
            answer_text = "正确" if answer == ["A"] else "错误"
        else:
            answer_text = "".join(answer)
        initial: dict[str, Any] = {
            "kind": question.kind,
            "stem": question.stem,
            "answer": answer_text,
            "explanation": question.explanation,
            "indicator": question.indicator,
            "difficulty": question.difficulty,
            "tags": "、".join(question.tag_list),
            "is_active": question.is_active,
        }
        if question.kind != QuestionKind.TRUE_FALSE:
            for letter, option in zip(OPTION_LETTERS, question.options, strict=False):
                initial[f"option_{letter.lower()}"] = option
        return initial

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        options = [data.pop(f"option_{letter.lower()}") or "" for letter in OPTION_LETTERS]
        return {**data, "options": options}


class ExamForm(forms.Form):
    title = forms.CharField(label="考试名称", max_length=200)
    duration_minutes = forms.IntegerField(label="考试时长（分钟）", min_value=1, max_value=600)
    max_attempts = forms.IntegerField(label="可考次数", min_value=1, max_value=20, initial=1)
    pass_mark = forms.IntegerField(
        label="及格分数（百分制）", min_value=0, max_value=100, initial=60
    )
    closes_at = forms.DateTimeField(label="截止时间", required=False, widget=DATETIME)
    for_everyone = forms.BooleanField(label="全体工作人员参加", required=False, initial=True)
    departments = forms.ModelMultipleChoiceField(
        label="参加部门",
        queryset=_departments(),
        required=False,
        widget=department_picker(multiple=True),
    )
    regions = forms.ModelMultipleChoiceField(
        label="参加县市区/园区",
        queryset=_regions(),
        required=False,
        widget=region_picker(multiple=True),
    )
    description = forms.CharField(label="考试说明", required=False, widget=forms.Textarea)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for row in range(1, RULE_ROWS + 1):
            self.fields[f"rule{row}_count"] = forms.IntegerField(
                label=f"规则{row} 题数", min_value=1, max_value=200, required=False
            )
            self.fields[f"rule{row}_points"] = forms.IntegerField(
                label=f"规则{row} 每题分值", min_value=1, max_value=100, required=False
            )
            self.fields[f"rule{row}_indicator"] = forms.ModelChoiceField(
                label=f"规则{row} 指标",
                queryset=_indicators(),
                required=False,
                to_field_name="code",
                widget=indicator_picker(),
            )
            self.fields[f"rule{row}_difficulty"] = forms.ChoiceField(
                label=f"规则{row} 难度", choices=[("", "不限"), *Difficulty.choices], required=False
            )
            self.fields[f"rule{row}_kind"] = forms.ChoiceField(
                label=f"规则{row} 题型",
                choices=[("", "不限"), *QuestionKind.choices],
                required=False,
            )
            self.fields[f"rule{row}_tag"] = forms.CharField(
                label=f"规则{row} 标签", max_length=40, required=False
            )

    @property
    def rule_rows(self) -> list[list[Any]]:
        names = ("count", "points", "indicator", "difficulty", "kind", "tag")
        return [[self[f"rule{row}_{name}"] for name in names] for row in range(1, RULE_ROWS + 1)]

    @property
    def main_fields(self) -> list[Any]:
        return [self[name] for name in self.fields if not name.startswith("rule")]

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        rules = []
        for row in range(1, RULE_ROWS + 1):
            values = {name: data.pop(f"rule{row}_{name}") for name in (
                "count", "points", "indicator", "difficulty", "kind", "tag"
            )}  # fmt: skip
            if values["count"] is None:
                continue
            indicator = values["indicator"]
            rules.append(
                {
                    "count": values["count"],
                    "points": values["points"] or 1,
                    "indicator": indicator.code if indicator is not None else "",
                    "difficulty": values["difficulty"],
                    "kind": values["kind"],
                    "tag": (values["tag"] or "").strip(),
                }
            )
        return {**data, "rules": rules}


class QuestionFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label="题型", choices=QuestionKind.choices)
    difficulty = django_filters.ChoiceFilter(label="难度", choices=Difficulty.choices)
    indicator = django_filters.CharFilter(
        label="关联指标编码", max_length=20, method="filter_indicator"
    )
    tag = django_filters.CharFilter(label="标签", max_length=40, method="filter_tag")

    class Meta:
        model = Question
        fields: ClassVar[list[str]] = []

    def filter_indicator(self, qs: QuerySet[Question], name: str, value: str) -> QuerySet[Question]:
        value = value.strip()
        if not value:
            return qs
        return qs.filter(indicator__code__startswith=value)

    def filter_tag(self, qs: QuerySet[Question], name: str, value: str) -> QuerySet[Question]:
        value = value.strip()
        return qs.filter(tags__contains=f"，{value}，") if value else qs


class MaterialFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label="类型", choices=MaterialKind.choices)
    audience = django_filters.ChoiceFilter(label="适用范围", choices=Audience.choices)
    indicator = django_filters.CharFilter(
        label="关联指标编码", max_length=20, method="filter_indicator"
    )

    class Meta:
        model = Material
        fields: ClassVar[list[str]] = []

    def filter_indicator(self, qs: QuerySet[Material], name: str, value: str) -> QuerySet[Material]:
        value = value.strip()
        return qs.filter(indicator__code__startswith=value) if value else qs
