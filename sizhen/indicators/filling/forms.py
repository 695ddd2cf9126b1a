"""Forms of periodic filling (定期填报): filling and reviewing a task, opening a round, a
validation rule, the aggregate-import upload."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from sizhen.core.access import Actor, role_of
from sizhen.core.periods import Period
from sizhen.core.roles import Role
from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.catalogue.pickers import indicator_picker
from sizhen.indicators.filling import periods, rounds, rules
from sizhen.indicators.filling.choices import FillingTarget, RuleKind, RuleSeverity

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def _required(label: str) -> dict[str, str]:
    return {"required": f"请填写{label}"}


class FillForm(forms.Form):
    value = forms.CharField(label="数值", max_length=40, required=False)
    note = forms.CharField(
        label="填报说明", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    explanation = forms.CharField(
        label="警告说明",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="数据触发警告时，请说明原因后提交",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ReviewForm(forms.Form):
    reason = forms.CharField(
        label="审核意见 / 退回理由",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RoundForm(forms.Form):
    title = forms.CharField(
        label="名称", max_length=100, required=False, help_text="不填则按期间自动命名"
    )
    indicators = forms.ModelMultipleChoiceField(
        label="指标",
        queryset=Indicator.objects.none(),
        error_messages={"required": "请至少选择一个指标", "invalid_choice": "所选指标不可填报"},
        widget=indicator_picker(multiple=True),
    )
    period = forms.CharField(
        label="期间",
        max_length=7,
        help_text="YYYY-MM，如 2025-10",
        error_messages=_required("期间"),
    )
    working_days = forms.IntegerField(
        label="填报时限（工作日）",
        initial=rounds.DEFAULT_WORKING_DAYS,
        min_value=1,
        max_value=rounds.MAX_WORKING_DAYS,
        error_messages={
            "required": "请填写填报时限",
            "invalid": "填报时限应为整数",
            "min_value": "填报时限至少 1 个工作日",
            "max_value": f"填报时限不超过 {rounds.MAX_WORKING_DAYS} 个工作日",
        },
    )
    target = forms.ChoiceField(
        label="填报对象",
        choices=FillingTarget.choices,
        initial=FillingTarget.AUTO,
        error_messages={"required": "请选择填报对象", "invalid_choice": "请选择填报对象"},
    )
    instructions = forms.CharField(
        label="填报说明", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any):
        super().__init__(*args, **kwargs)
        leaves = Indicator.objects.filter(is_active=True, children__isnull=True).order_by("code")
        if role_of(actor) == Role.LEAD_DEPARTMENT:
            leaves = leaves.filter(lead_department_id=actor.department_id)
        self.fields["indicators"].queryset = leaves  # type: ignore[attr-defined]

    def clean_period(self) -> Any:
        try:
            return Period.parse(self.cleaned_data["period"], "month", loose=True).start
        except ValueError as exc:
            raise ValidationError(periods.PERIOD_FORMAT) from exc


class RuleForm(forms.Form):
    indicator = forms.ModelChoiceField(
        label="指标",
        queryset=Indicator.objects.none(),
        error_messages={"required": "请选择指标", "invalid_choice": "请选择您可以设置规则的指标"},
        widget=indicator_picker(),
    )
    kind = forms.ChoiceField(
        label="规则类型",
        choices=RuleKind.choices,
        error_messages={"required": "请选择规则类型", "invalid_choice": "请选择规则类型"},
    )
    severity = forms.ChoiceField(
        label="严重程度",
        choices=RuleSeverity.choices,
        initial=RuleSeverity.ERROR,
        error_messages={"required": "请选择严重程度", "invalid_choice": "请选择严重程度"},
    )
    minimum = forms.FloatField(
        label="下限（取值范围）", required=False, error_messages={"invalid": "下限应为数字"}
    )
    maximum = forms.FloatField(
        label="上限（取值范围）", required=False, error_messages={"invalid": "上限应为数字"}
    )
    max_change_percent = forms.FloatField(
        label="最大变化幅度 %（与上期相比）",
        required=False,
        min_value=0,
        error_messages={"invalid": "变化幅度应为数字", "min_value": "变化幅度不能为负数"},
    )
    other = forms.CharField(
        label="比较的指标编码（与其他指标的关系）", required=False, max_length=20
    )
    operator = forms.ChoiceField(
        label="关系",
        required=False,
        choices=[("", "—"), *((o, o) for o in rules.RULE_OPERATORS)],
    )
    factor = forms.FloatField(
        label="倍数", required=False, initial=1, error_messages={"invalid": "倍数应为数字"}
    )
    message = forms.CharField(
        label="提示信息", required=False, max_length=200, help_text="不填则使用默认提示"
    )

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any):
        super().__init__(*args, **kwargs)
        leaves = Indicator.objects.filter(is_active=True, children__isnull=True).order_by("code")
        if role_of(actor) == Role.LEAD_DEPARTMENT:
            leaves = leaves.filter(lead_department_id=actor.department_id)
        self.fields["indicator"].queryset = leaves  # type: ignore[attr-defined]

    def parameters(self) -> dict[str, Any]:
        data = self.cleaned_data
        kind = data.get("kind")
        if kind == RuleKind.RANGE:
            return {
                k: v
                for k, v in (("min", data.get("minimum")), ("max", data.get("maximum")))
                if v is not None
            }
        if kind == RuleKind.CHANGE_VS_LAST_PERIOD:
            return {"max_change_percent": data.get("max_change_percent")}
        return {
            "other": (data.get("other") or "").strip(),
            "operator": data.get("operator") or "",
            "factor": 1 if data.get("factor") is None else data["factor"],
        }


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Excel 文件（.xlsx）", error_messages={"required": "请选择要上传的文件"}
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise ValidationError("只支持 .xlsx 格式的 Excel 文件")
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(f"文件不能超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB")
        return upload
