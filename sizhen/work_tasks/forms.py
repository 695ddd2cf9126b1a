"""Forms of the work-task pages."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any, ClassVar

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from sizhen.core.access import is_city_wide
from sizhen.core.roles import Role
from sizhen.core.uploads import AttachmentsField
from sizhen.core.workqueue import QueueFilter
from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.catalogue.pickers import indicator_picker
from sizhen.organisations.choices import RegionLevel
from sizhen.organisations.models import Department, Region
from sizhen.organisations.pickers import department_picker, region_picker
from sizhen.work_tasks import services
from sizhen.work_tasks.choices import TaskSource, Timeliness
from sizhen.work_tasks.models import TaskAssignment
from sizhen.work_tasks.selectors import WORK_QUEUES
from sizhen.work_tasks.workflow import OPEN_STATES, STATES

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def unit_regions() -> Any:
    return Region.objects.filter(is_active=True).exclude(level=RegionLevel.CITY).order_by("path")


#: ``?overdue=1`` is the link of the "逾期未完成" tab and of the cockpit.
_YES_NO = (("1", "是"), ("0", "否"))


class AssignmentFilter(django_filters.FilterSet):
    #: ``?queue=<key>`` is the home page's link to one kind of waiting work.
    queue = QueueFilter(WORK_QUEUES)
    status = django_filters.ChoiceFilter(label="状态", choices=list(STATES.items()))
    source = django_filters.ChoiceFilter(
        label="来源", field_name="task__source", choices=TaskSource.choices
    )
    department = django_filters.ModelChoiceFilter(
        label="承办部门",
        queryset=Department.objects.order_by("region__path", "code"),
        widget=department_picker(),
    )
    district = django_filters.ModelChoiceFilter(
        label="县市区", queryset=unit_regions(), method="filter_district", widget=region_picker()
    )
    overdue = django_filters.ChoiceFilter(
        label="逾期未完成", choices=_YES_NO, method="filter_overdue"
    )
    timeliness = django_filters.ChoiceFilter(label="完成情况", choices=Timeliness.choices)
    listed = django_filters.ChoiceFilter(label="挂牌督办", choices=_YES_NO, method="filter_listed")
    #: ``?indicator=<code>`` is the link of an indicator's page; a text box, not a select of
    #: every indicator on each list page.
    indicator = django_filters.CharFilter(
        label="关联指标编码", max_length=20, method="filter_indicator"
    )

    class Meta:
        model = TaskAssignment
        fields: ClassVar[list[str]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        actor = getattr(self.request, "user", None)
        if not is_city_wide(actor):
            # Only the districts and departments within the actor's own area are offered.
            path = getattr(actor, "scope_path", None) or "\0"
            district = self.filters["district"]
            district.queryset = district.queryset.filter(path__startswith=path)
            department = self.filters["department"]
            department.queryset = department.queryset.filter(region__path__startswith=path)

    def filter_district(self, qs: QuerySet[Any], name: str, value: Region | None) -> QuerySet[Any]:
        # Every unit located in the district: its own office, its departments and its parks.
        return qs.filter(unit_path__startswith=value.path) if value else qs

    def filter_overdue(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        overdue = Q(status__in=OPEN_STATES, deadline__lt=services.today())
        if value == "1":
            return qs.filter(overdue)
        if value == "0":
            return qs.exclude(overdue)
        return qs

    def filter_listed(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if value in ("1", "0"):
            return qs.filter(listed=value == "1")
        return qs

    def filter_indicator(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        # Indicator codes are unique: the join adds no duplicate rows.
        code = value.strip()
        return qs.filter(task__indicators__code=code) if code else qs


#: Milestones one task may have (阶段节点); more belongs in a plan, not in one task.
MAX_MILESTONES = 20


class MilestoneRowsWidget(forms.Widget):
    """One row per milestone: its name and its date (``<input type="date">``); the buttons
    that add and remove rows are shown and handled by static/js/sizhen.js (``data-rows``).
    The inputs are ``<name>-title`` and ``<name>-deadline``, repeated once per row."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[tuple[str, str]]:
        titles = _values(data, f"{name}-title")
        dates = _values(data, f"{name}-deadline")
        return list(itertools.zip_longest(titles, dates, fillvalue=""))

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return f"{name}-title" not in data and f"{name}-deadline" not in data

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        rows = [(str(t), _date_text(d)) for t, d in value or []] or [("", "")]
        items = format_html_join("", "{}", ((self._row(name, t, d),) for t, d in rows))
        return format_html(
            '<div class="rows" data-rows data-testid="milestones">'
            '<div class="rows-list" data-rows-list>{}</div>'
            "<template data-row-template>{}</template>"
            '<button type="button" class="btn btn-secondary" data-row-add hidden>添加节点</button>'
            "</div>",
            items,
            self._row(name, "", ""),
        )

    @staticmethod
    def _row(name: str, title: str, day: str) -> SafeString:
        return format_html(
            '<div class="rows-item" data-row>'
            '<input type="text" name="{}-title" value="{}" maxlength="200" '
            'placeholder="节点名称，如：制定方案" aria-label="节点名称">'
            '<input type="date" name="{}-deadline" value="{}" aria-label="节点期限">'
            '<button type="button" class="btn btn-link" data-row-remove hidden>删除</button>'
            "</div>",
            name,
            title,
            name,
            day,
        )


def _values(data: Any, key: str) -> list[str]:
    if hasattr(data, "getlist"):
        return [str(v) for v in data.getlist(key)]
    value = data.get(key)
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def _date_text(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else str(value or "")


class MilestonesField(forms.Field):
    """Milestones as rows of name and date; empty rows are dropped. Each row's problem is named
    by its position and name; the dates' range (between issue and deadline) is the service's
    rule (``issue_task``)."""

    widget = MilestoneRowsWidget

    def clean(self, value: Any) -> list[tuple[str, dt.date]]:
        milestones: list[tuple[str, dt.date]] = []
        problems: list[str] = []
        for number, (raw_title, raw_day) in enumerate(value or [], 1):
            title, day = str(raw_title).strip(), str(raw_day).strip()
            if not title and not day:
                continue
            named = f"第 {number} 个节点“{title[:40]}”" if title else f"第 {number} 个节点"
            if not title:
                problems.append(f"{named}：请填写节点名称")
            elif len(title) > 200:
                problems.append(f"{named}：名称最多 200 字")
            try:
                when = dt.date.fromisoformat(day) if day else None
            except ValueError:
                problems.append(f"{named}：日期无效")
                continue
            if when is None:
                problems.append(f"{named}：请选择期限")
            elif title:
                milestones.append((title, when))
        names = [title for title, _when in milestones]
        for title in sorted({t for t in names if names.count(t) > 1}):
            problems.append(f"节点“{title[:40]}”重复")
        if len(milestones) > MAX_MILESTONES:
            problems.append(f"阶段节点最多 {MAX_MILESTONES} 个")
        if problems:
            raise forms.ValidationError(problems)
        return milestones


class UnitsMixin(forms.Form):
    departments = forms.ModelMultipleChoiceField(
        label="承办部门",
        queryset=Department.objects.none(),
        required=False,
        widget=department_picker(multiple=True),
        error_messages={"invalid_choice": "请选择有效的部门"},
    )
    regions = forms.ModelMultipleChoiceField(
        label="承办县市区",
        queryset=Region.objects.none(),
        required=False,
        widget=region_picker(multiple=True),
        error_messages={"invalid_choice": "请选择有效的县市区"},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        departments = self.fields["departments"]
        regions = self.fields["regions"]
        assert isinstance(departments, forms.ModelMultipleChoiceField)
        assert isinstance(regions, forms.ModelMultipleChoiceField)
        departments.queryset = Department.objects.filter(is_active=True).order_by(
            "region__path", "sort_order", "code"
        )
        regions.queryset = unit_regions()

    def units(self) -> list[Any]:
        return [*self.cleaned_data.get("departments", []), *self.cleaned_data.get("regions", [])]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("departments") and not data.get("regions"):
            raise forms.ValidationError("请至少选择一个承办部门或县市区")
        return data


class IssueForm(UnitsMixin):
    title = forms.CharField(label="任务名称", max_length=200)
    content = forms.CharField(label="任务内容", widget=forms.Textarea(attrs={"rows": 4}))
    source = forms.ChoiceField(label="任务来源", choices=TaskSource.choices)
    indicators = forms.ModelMultipleChoiceField(
        label="关联指标",
        queryset=Indicator.objects.order_by("sort_order", "code"),
        required=False,
        widget=indicator_picker(multiple=True),
    )
    deadline = forms.DateField(label="完成期限（日期）", required=False, widget=DATE)
    working_days = forms.IntegerField(
        label="或：工作日数", min_value=1, max_value=500, required=False
    )
    milestones = MilestonesField(
        label="阶段节点（可选；每个节点填写名称和期限，期限在下发日期与完成期限之间）",
        required=False,
    )
    files = AttachmentsField(  # type: ignore[assignment]  # input name "files", see ProgressForm
        label="附件（可多选；PDF、Word、Excel、CSV、图片等，单个不超过 20 MB）"
    )

    field_order = [
        "title",
        "content",
        "source",
        "departments",
        "regions",
        "indicators",
        "deadline",
        "working_days",
        "milestones",
    ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if (data.get("deadline") is None) == (data.get("working_days") is None):
            raise forms.ValidationError("完成期限请填写日期或工作日数，二选一")
        return data


class AlertTaskForm(IssueForm):
    """The issue form for an alert: the source and indicator come from the alert."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["source"]
        del self.fields["indicators"]
        del self.fields["files"]


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=list(STATES.items()), widget=forms.HiddenInput)
    note = forms.CharField(label="说明", required=False, max_length=2000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].error_messages["invalid_choice"] = "页面状态无效，请刷新后重试"
        self.fields["status"].error_messages["required"] = "页面状态无效，请刷新后重试"


class TransferForm(UnitsMixin):
    note = forms.CharField(label="转办事项", max_length=2000)
    deadline = forms.DateField(label="子任务期限（不填同本任务）", required=False, widget=DATE)


class ProgressForm(forms.Form):
    content = forms.CharField(label="进展情况", max_length=5000, widget=forms.Textarea)
    percent = forms.IntegerField(label="完成进度（%）", min_value=0, max_value=100)
    milestone = forms.IntegerField(required=False)
    milestone_done = forms.BooleanField(label="该节点已完成", required=False)
    # The field keeps the pages' input name "files"; Django moves declared fields off the class,
    # so it does not replace the form's ``files`` (the uploaded-file dict) at run time.
    files = AttachmentsField(label="佐证材料")  # type: ignore[assignment]


class UrgeForm(forms.Form):
    content = forms.CharField(label="催办内容", max_length=2000)


class ListForm(forms.Form):
    leader = forms.ModelChoiceField(
        label="督办领导",
        queryset=get_user_model().objects.none(),
        error_messages={"invalid_choice": "请选择有效的督办领导", "required": "请选择督办领导"},
    )
    reason = forms.CharField(label="挂牌理由", max_length=2000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        leader = self.fields["leader"]
        assert isinstance(leader, forms.ModelChoiceField)
        leader.queryset = get_user_model().objects.filter(role=Role.LEADER, is_active=True)


class MeetingForm(forms.Form):
    held_on = forms.DateField(label="召开日期", widget=DATE)
    attendees = forms.CharField(label="参会单位和人员", max_length=2000)
    minutes = forms.CharField(label="会议纪要", max_length=10000, widget=forms.Textarea)


class MonthForm(forms.Form):
    month = forms.RegexField(
        label="月份",
        regex=r"^\d{4}-(0[1-9]|1[0-2])$",
        error_messages={"invalid": "月份格式应为 年-月，如 2025-10"},
    )
