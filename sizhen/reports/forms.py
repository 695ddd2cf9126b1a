"""The reminder letter (提醒函) forms: create, edit a draft, the list filter."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import django_filters
from django import forms
from django.core.exceptions import ValidationError

from sizhen.core.access import Actor
from sizhen.core.periods import Period
from sizhen.core.workqueue import QueueFilter
from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.catalogue.pickers import indicator_picker
from sizhen.organisations.models import Region
from sizhen.organisations.pickers import region_picker
from sizhen.reports.models import PROPOSED_LABEL, LetterStatus, ReminderLetter
from sizhen.reports.selectors import WORK_QUEUES
from sizhen.reports.services import MAX_DEADLINE_DAYS


class LetterForm(forms.Form):
    indicator = forms.ModelChoiceField(
        label="指标",
        queryset=Indicator.objects.none(),
        widget=indicator_picker(),
        error_messages={"required": "请选择指标", "invalid_choice": "所选指标不存在"},
    )
    region = forms.ModelChoiceField(
        label="区划",
        queryset=Region.objects.none(),
        widget=region_picker(),
        error_messages={"required": "请选择区划", "invalid_choice": "所选区划不存在"},
    )
    period = forms.CharField(
        label="期间",
        max_length=10,
        help_text="月份，格式如 2026-03",
        error_messages={"required": "请填写期间"},
    )
    requested_action = forms.CharField(
        label="整改要求",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "请填写整改要求", "max_length": "整改要求不能超过 2000 字"},
    )
    deadline_days = forms.IntegerField(
        label="反馈期限（工作日）",
        initial=10,
        min_value=1,
        max_value=MAX_DEADLINE_DAYS,
        error_messages={
            "required": "请填写反馈期限",
            "invalid": "反馈期限应为整数个工作日",
            "min_value": f"反馈期限应为 1 至 {MAX_DEADLINE_DAYS} 个工作日",
            "max_value": f"反馈期限应为 1 至 {MAX_DEADLINE_DAYS} 个工作日",
        },
    )

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        indicators = self.fields["indicator"]
        regions = self.fields["region"]
        assert isinstance(indicators, forms.ModelChoiceField)
        assert isinstance(regions, forms.ModelChoiceField)
        indicators.queryset = Indicator.objects.visible_to(actor).filter(is_active=True)
        regions.queryset = Region.objects.visible_to(actor).filter(is_active=True)

    def clean_period(self) -> dt.date:
        text = self.cleaned_data["period"].strip()
        for pattern in ("%Y-%m", "%Y-%m-%d"):
            try:
                day = dt.datetime.strptime(text, pattern).date()
            except ValueError:
                continue
            return Period.containing(day).start
        raise ValidationError("期间格式应为 年-月，如 2026-03")


class LetterEditForm(LetterForm):
    """A draft's period, request and time limit; its indicator and region stay."""

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        super().__init__(*args, actor=actor, **kwargs)
        del self.fields["indicator"]
        del self.fields["region"]


#: The list's status filter: the system's proposals apart from the office's own drafts.
PROPOSED = "proposed"


class LetterFilter(django_filters.FilterSet):
    #: ``?queue=<key>`` is the home page's link to one kind of waiting work.
    queue = QueueFilter(WORK_QUEUES)
    status = django_filters.ChoiceFilter(
        label="状态",
        choices=[(PROPOSED, PROPOSED_LABEL), *LetterStatus.choices],
        method="filter_status",
    )

    class Meta:
        model = ReminderLetter
        fields: ClassVar[list[str]] = []

    def filter_status(self, queryset: Any, name: str, value: str) -> Any:
        if value == PROPOSED:
            return queryset.filter(status=LetterStatus.DRAFT, proposed=True)
        if value == LetterStatus.DRAFT:
            return queryset.filter(status=value, proposed=False)
        return queryset.filter(status=value)
