"""Forms of the alert pages: the list filters, the lifecycle step and the alert rules."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import django_filters
from django import forms
from django.utils import timezone

from sizhen.core.access import is_city_wide
from sizhen.core.workqueue import QueueFilter
from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.catalogue.pickers import indicator_picker
from sizhen.monitoring.models import Alert, AlertKind, AlertRule, Severity
from sizhen.monitoring.selectors import FILTER_QUEUES
from sizhen.monitoring.services import RULE_FIELDS
from sizhen.monitoring.workflow import STATES
from sizhen.organisations.models import Department, Region
from sizhen.organisations.pickers import department_picker, region_picker


class AlertFilter(django_filters.FilterSet):
    #: ``?queue=<key>`` is the home page's link to one kind of waiting work.
    queue = QueueFilter(FILTER_QUEUES)
    severity = django_filters.ChoiceFilter(label="预警等级", choices=Severity.choices)
    status = django_filters.ChoiceFilter(label="状态", choices=list(STATES.items()))
    kind = django_filters.ChoiceFilter(label="类型", choices=AlertKind.choices)
    indicator = django_filters.ModelChoiceFilter(
        label="指标",
        queryset=Indicator.objects.order_by("sort_order", "code"),
        widget=indicator_picker(),
    )
    region = django_filters.ModelChoiceFilter(
        label="区域", queryset=Region.objects.order_by("path"), widget=region_picker()
    )
    lead_department = django_filters.ModelChoiceFilter(
        label="牵头部门",
        field_name="indicator__lead_department",
        queryset=Department.objects.filter(led_indicators__isnull=False)
        .distinct()
        .order_by("code"),
        widget=department_picker(),
    )

    class Meta:
        model = Alert
        fields: ClassVar[list[str]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        actor = getattr(self.request, "user", None)
        if not is_city_wide(actor):
            # Offer only the regions whose alerts the actor can see at all.
            path = getattr(actor, "scope_path", None) or "\0"
            field = self.filters["region"]
            field.queryset = field.queryset.filter(path__startswith=path)


class TransitionForm(forms.Form):
    status = forms.ChoiceField(choices=list(STATES.items()), widget=forms.HiddenInput)
    note = forms.CharField(label="说明", required=False, max_length=2000, widget=forms.Textarea)
    department = forms.ModelChoiceField(
        label="承办部门",
        queryset=Department.objects.order_by("code"),
        required=False,
        empty_label="请选择",
        widget=department_picker(),
        error_messages={"invalid_choice": "请选择有效的承办部门"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].error_messages["invalid_choice"] = "页面状态无效，请刷新后重试"
        self.fields["status"].error_messages["required"] = "页面状态无效，请刷新后重试"


_INHERIT = [("", "沿用上级设置"), ("true", "启用"), ("false", "停用")]
#: (field, lowest, highest) for the numbers of a rule, with their meaning in the message.
_RANGES: dict[str, tuple[float, float]] = {
    "modified_z_threshold": (1.0, 20.0),
    "iqr_multiplier": (0.5, 10.0),
    "yoy_threshold": (1.0, 20.0),
    "stl_threshold": (1.0, 20.0),
    "hampel_window": (6, 120),
    "hampel_threshold": (1.0, 20.0),
    "level_shift_threshold": (1.0, 20.0),
    "level_shift_points": (3, 12),
    "stale_after_days": (1, 365),
    "filling_grace_days": (0, 60),
    "overdue_cases_minimum": (1, 10000),
}


def _number(value: float) -> str:
    return f"{value:g}"


class AlertRuleForm(forms.ModelForm):
    """The coordinator's (营商办) form for one alert rule; every empty field inherits."""

    class Meta:
        model = AlertRule
        fields: ClassVar[list[str]] = [
            "indicator",
            *(name for name in RULE_FIELDS if name not in ("indicator",)),
        ]
        widgets: ClassVar[dict[str, forms.Widget]] = {"indicator": indicator_picker()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        indicator = self.fields["indicator"]
        assert isinstance(indicator, forms.ModelChoiceField)
        indicator.required = False
        indicator.empty_label = "全部指标（默认规则）"
        indicator.queryset = Indicator.objects.filter(is_active=True).order_by("sort_order", "code")
        indicator.error_messages["invalid_choice"] = "请选择有效的指标"
        indicator.help_text = "不选则为默认规则，适用于所有未单独设置的指标"
        for name, field in self.fields.items():
            if name.startswith("enable_"):
                self.fields[name] = forms.TypedChoiceField(
                    label=f"启用：{field.label}",
                    choices=_INHERIT,
                    coerce=lambda v: v == "true",
                    empty_value=None,
                    required=False,
                )
                if self.instance.pk is not None:
                    value = getattr(self.instance, name)
                    self.initial[name] = "" if value is None else ("true" if value else "false")
            elif name in _RANGES:
                low, high = _RANGES[name]
                field.required = False
                field.help_text = f"留空沿用上级设置；范围 {_number(low)}–{_number(high)}"
                field.error_messages["invalid"] = f"“{field.label}”须为数字"
            elif name in ("log_scale", "min_notify_severity"):
                field.required = False
                field.choices = [("", "沿用上级设置"), *list(field.choices)[1:]]  # type: ignore[attr-defined]
        self.fields["mute_until"].widget = forms.DateInput(attrs={"type": "date"})
        self.fields["mute_until"].help_text = "此日期前（含当日）扫描不对该指标产生新预警"
        self.fields["mute_until"].error_messages["invalid"] = "请输入有效日期，如 2026-12-31"
        self.fields["note"].widget = forms.Textarea(attrs={"rows": 3})
        self.fields["note"].help_text = "调整阈值的理由，便于日后查证"

    def clean_indicator(self) -> Indicator | None:
        indicator: Indicator | None = self.cleaned_data.get("indicator")
        existing = AlertRule.objects.filter(indicator=indicator)
        if self.instance.pk is not None:
            existing = existing.exclude(pk=self.instance.pk)
        if existing.exists():
            raise forms.ValidationError(
                "默认规则已存在，请编辑原规则"
                if indicator is None
                else f"指标“{indicator.name}”已有预警规则，请编辑原规则"
            )
        return indicator

    def clean_mute_until(self) -> dt.date | None:
        value: dt.date | None = self.cleaned_data.get("mute_until")
        changed = self.instance.pk is None or value != self.instance.mute_until
        if value is not None and changed and value < timezone.localdate():
            raise forms.ValidationError("静默截止日期不能早于今天")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name, (low, high) in _RANGES.items():
            value = cleaned.get(name)
            if value is None:
                continue
            label = self.fields[name].label
            if name in ("filling_grace_days",) and value < 0:
                self.add_error(name, f"“{label}”不能为负数")
            elif name not in ("filling_grace_days",) and value <= 0:
                self.add_error(name, f"“{label}”须为正数")
            elif not low <= value <= high:
                self.add_error(
                    name, f"“{label}”须在 {_number(low)} 到 {_number(high)} 之间，收到 {value:g}"
                )
        return cleaned

    def rule_values(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in RULE_FIELDS} | {
            "log_scale": self.cleaned_data.get("log_scale") or "",
            "min_notify_severity": self.cleaned_data.get("min_notify_severity") or "",
            "note": self.cleaned_data.get("note") or "",
        }
