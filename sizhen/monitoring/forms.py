"""Forms of the alert pages: the list filters and the lifecycle step."""

from __future__ import annotations

from typing import Any, ClassVar

import django_filters
from django import forms

from sizhen.core.access import is_city_wide
from sizhen.indicators.models import Indicator
from sizhen.monitoring.models import Alert, AlertKind, Severity
from sizhen.monitoring.workflow import STATES
from sizhen.organisations.models import Department, Region


class AlertFilter(django_filters.FilterSet):
    severity = django_filters.ChoiceFilter(label="预警等级", choices=Severity.choices)
    status = django_filters.ChoiceFilter(label="状态", choices=list(STATES.items()))
    kind = django_filters.ChoiceFilter(label="类型", choices=AlertKind.choices)
    indicator = django_filters.ModelChoiceFilter(
        label="指标", queryset=Indicator.objects.order_by("sort_order", "code")
    )
    region = django_filters.ModelChoiceFilter(
        label="区域", queryset=Region.objects.order_by("path")
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
        error_messages={"invalid_choice": "请选择有效的承办部门"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].error_messages["invalid_choice"] = "页面状态无效，请刷新后重试"
