"""Forms of the catalogue pages. They parse and validate with Chinese messages; the services in
``catalogue.py`` validate again, write and audit."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from sizhen.core.periods import Period
from sizhen.indicators.catalogue.choices import Direction, Frequency, SourceKind, Weighting
from sizhen.indicators.catalogue.defaults import goalpost_problem
from sizhen.indicators.catalogue.models import EvaluationCycle, Indicator
from sizhen.indicators.catalogue.pickers import indicator_picker
from sizhen.organisations.models import Department
from sizhen.organisations.pickers import department_picker

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _required(label: str) -> dict[str, str]:
    return {"required": f"请填写{label}"}


def _number(label: str, *, required: bool = True) -> forms.FloatField:
    return forms.FloatField(
        label=label,
        required=required,
        error_messages={"required": f"请填写{label}", "invalid": f"{label}应为数字"},
    )


def apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service ValidationError on the form: field errors on fields, the rest on top."""
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            form.add_error(name if name in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class DepartmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.region.name}）"


class DepartmentMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name}（{obj.region.name}）"


def _departments(keep: list[int]) -> Any:
    """Active departments, plus those the indicator already names (kept even when inactive)."""
    from django.db.models import Q

    return (
        Department.objects.filter(Q(is_active=True) | Q(pk__in=keep))
        .select_related("region")
        .order_by("region__path", "sort_order", "code")
    )


class IndicatorForm(forms.Form):
    name = forms.CharField(label="指标名称", max_length=100, error_messages=_required("指标名称"))
    name_en = forms.CharField(label="英文名称", max_length=100, required=False)
    unit = forms.CharField(
        label="单位", max_length=40, required=False, help_text="如 工作日、%、个、元"
    )
    direction = forms.ChoiceField(
        label="方向", choices=Direction.choices, error_messages={"required": "请选择方向"}
    )
    frequency = forms.ChoiceField(
        label="频度", choices=Frequency.choices, error_messages={"required": "请选择频度"}
    )
    source_kind = forms.ChoiceField(
        label="数据来源", choices=SourceKind.choices, error_messages={"required": "请选择数据来源"}
    )
    lead_department = DepartmentChoiceField(
        label="牵头部门",
        queryset=Department.objects.none(),
        required=False,
        empty_label="（未指定）",
        widget=department_picker(),
        error_messages={"invalid_choice": "请选择有效的部门"},
    )
    responsible_departments = DepartmentMultipleChoiceField(
        label="责任部门",
        queryset=Department.objects.none(),
        required=False,
        widget=department_picker(multiple=True),
        error_messages={
            "invalid_choice": "请选择有效的部门",
            "invalid_pk_value": "请选择有效的部门",
        },
        help_text="可多选",
    )
    weight = forms.FloatField(
        label="权重",
        min_value=0,
        max_value=100,
        error_messages={
            "required": "请填写权重",
            "invalid": "权重应为数字",
            "min_value": "权重应在 0 到 100 之间",
            "max_value": "权重应在 0 到 100 之间",
        },
        help_text="在同级指标中的相对权重；0 表示仅供参考、不计分",
    )
    definition = forms.CharField(
        label="指标定义", required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    is_active = forms.BooleanField(label="启用", required=False)
    reason = forms.CharField(
        label="修改说明",
        max_length=200,
        error_messages=_required("修改说明"),
        help_text="将记入修改历史，如：依据 2025 年评价方案调整口径",
    )

    def __init__(self, *args: Any, instance: Indicator, **kwargs: Any) -> None:
        self.instance = instance
        responsible = list(instance.responsible_departments.values_list("pk", flat=True))
        if "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.name,
                "name_en": instance.name_en,
                "unit": instance.unit,
                "direction": instance.direction,
                "frequency": instance.frequency,
                "source_kind": instance.source_kind,
                "lead_department": instance.lead_department_id,
                "responsible_departments": responsible,
                "weight": instance.weight,
                "definition": instance.definition,
                "is_active": instance.is_active,
            }
        super().__init__(*args, **kwargs)
        keep = [
            *responsible,
            *([instance.lead_department_id] if instance.lead_department_id else []),
        ]
        self.fields["lead_department"].queryset = _departments(keep)  # type: ignore[attr-defined]
        self.fields["responsible_departments"].queryset = _departments(keep)  # type: ignore[attr-defined]

    def service_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("reason", None)
        return data


class GoalpostForm(forms.Form):
    best = _number("最优值")
    worst = _number("最差值")
    target = _number("目标值", required=False)
    note = forms.CharField(label="取值依据", max_length=200, required=False)
    reason = forms.CharField(label="修改说明", max_length=200, error_messages=_required("修改说明"))

    def __init__(self, *args: Any, indicator: Indicator, **kwargs: Any) -> None:
        self.indicator = indicator
        super().__init__(*args, **kwargs)
        self.fields["best"].help_text = (
            "越低越好：最优值小于最差值"
            if indicator.direction == Direction.LOWER_IS_BETTER
            else "越高越好：最优值大于最差值"
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("best") is not None and data.get("worst") is not None:
            problem = goalpost_problem(self.indicator.direction, data["best"], data["worst"])
            if problem:
                self.add_error("worst", problem)
        return data


class MonthField(forms.Field):
    """A month written as YYYY-MM; cleans to the month's first day."""

    widget = forms.TextInput

    def to_python(self, value: Any) -> dt.date | None:
        text = str(value or "").strip()[:20]
        if not text:
            return None
        try:
            return Period.parse(text, "month", loose=True).start
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class IndicatorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} {obj.name}"


class BenchmarkForm(forms.Form):
    indicator = IndicatorChoiceField(
        label="指标",
        queryset=Indicator.objects.none(),
        empty_label="请选择",
        widget=indicator_picker(),
        error_messages={"required": "请选择指标", "invalid_choice": "请选择有效的指标"},
    )
    city = forms.CharField(label="标杆城市", max_length=40, error_messages=_required("标杆城市"))
    period = MonthField(
        label="期间",
        error_messages=_required("期间"),
        help_text="年月，如 2025-06；季度、年度数据填该期第一个月",
        widget=forms.TextInput(attrs={"placeholder": "2025-06"}),
    )
    value = _number("数值")
    source = forms.CharField(label="来源", max_length=200, required=False)

    def __init__(self, *args: Any, indicators: Any, instance: Any = None, **kwargs: Any) -> None:
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "indicator": instance.indicator_id,
                "city": instance.city,
                "period": instance.period.strftime("%Y-%m"),
                "value": instance.value,
                "source": instance.source,
            }
        super().__init__(*args, **kwargs)
        self.fields["indicator"].queryset = indicators  # type: ignore[attr-defined]

    def clean_city(self) -> str:
        return self.cleaned_data["city"].strip()


class CycleForm(forms.Form):
    code = forms.RegexField(
        label="周期编码",
        regex=r"^[0-9A-Za-z-]{2,20}$",
        error_messages={
            "required": "请填写周期编码",
            "invalid": "周期编码只能包含字母、数字和连字符，如 2027-2029",
        },
    )
    name = forms.CharField(label="名称", max_length=60, error_messages=_required("名称"))
    starts_on = forms.DateField(
        label="开始日期",
        widget=DATE_INPUT,
        error_messages={"required": "请填写开始日期", "invalid": "日期格式应为 年-月-日"},
    )
    ends_on = forms.DateField(
        label="结束日期",
        widget=DATE_INPUT,
        error_messages={"required": "请填写结束日期", "invalid": "日期格式应为 年-月-日"},
    )
    weighting = forms.ChoiceField(
        label="赋权方法", choices=Weighting.choices, initial=Weighting.EQUAL
    )
    make_current = forms.BooleanField(label="设为当前周期", required=False)

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if EvaluationCycle.objects.filter(code=code).exists():
            raise ValidationError(f"周期编码“{code}”已存在")
        return code

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", "结束日期不能早于开始日期")
        return data


class BenchmarkImportForm(forms.Form):
    file = forms.FileField(
        label="Excel 文件（.xlsx）",
        error_messages={
            "required": "请选择要导入的 Excel 文件",
            "empty": "上传的文件是空的",
            "invalid": "未收到文件，请重新选择",
        },
    )
    dry_run = forms.BooleanField(label="仅校验，不写入", required=False)

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if not (upload.name or "").lower().endswith(".xlsx"):
            raise ValidationError("只支持 .xlsx 格式的 Excel 文件，请使用下载的模板")
        if upload.size is not None and upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                f"文件过大（{upload.size / 1024 / 1024:.1f} MB），不能超过 "
                f"{MAX_UPLOAD_BYTES // 1024 // 1024} MB"
            )
        return upload
