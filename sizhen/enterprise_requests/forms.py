"""Forms of the enterprise request pages."""

from __future__ import annotations

from typing import Any, ClassVar

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from sizhen.core.access import Actor, is_city_wide
from sizhen.core.uploads import AttachmentsField
from sizhen.core.workqueue import QueueFilter
from sizhen.enterprise_requests.choices import (
    Channel,
    ContactMethod,
    Difficulty,
    EscalationTier,
    FirstContact,
    Kind,
    MessageKind,
    RevisitMethod,
    Satisfaction,
)
from sizhen.enterprise_requests.models import (
    EnterpriseRequest,
    Forum,
    RequestCategory,
    first_contact_q,
)
from sizhen.enterprise_requests.selectors import FILTER_QUEUES, leaf_categories
from sizhen.enterprise_requests.workflow import ON_THE_CLOCK, STATES
from sizhen.organisations.models import Department, Enterprise, Region
from sizhen.organisations.pickers import department_picker, enterprise_picker, region_picker

DATE = forms.DateInput(attrs={"type": "date"})
STAFF_INTAKE_CHANNELS = [
    (c.value, c.label)
    for c in (
        Channel.STAFF_FORUM,
        Channel.STAFF_WINDOW,
        Channel.WECHAT_GROUP,
        Channel.HOTLINE_12345,
    )
]


def _category_field(required: bool = True) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label="诉求分类",
        queryset=leaf_categories(),
        required=required,
        empty_label="请选择",
        error_messages={"required": "请选择诉求分类", "invalid_choice": "请选择有效的诉求分类"},
    )


class OverdueFilter(django_filters.ChoiceFilter):
    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        today = timezone.localdate()
        if value == "overdue":
            return qs.filter(status__in=ON_THE_CLOCK, deadline__lt=today)
        if value == "on_time":
            return qs.exclude(status__in=ON_THE_CLOCK, deadline__lt=today)
        return qs


class FirstContactFilter(django_filters.ChoiceFilter):
    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value in FirstContact.values:
            return qs.filter(first_contact_q(value, timezone.now()))
        return qs


#: "any" keeps every escalated request; a number keeps that tier.
ESCALATED = "any"


class EscalationFilter(django_filters.ChoiceFilter):
    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value == ESCALATED:
            return qs.filter(escalation_tier__gte=EscalationTier.UNIT_LEADER)
        if value in {str(t) for t in EscalationTier.values}:
            return qs.filter(escalation_tier=int(value))
        return qs


class RequestFilter(django_filters.FilterSet):
    #: ``?queue=<key>`` is the home page's link to one kind of waiting work.
    queue = QueueFilter(FILTER_QUEUES)
    channel = django_filters.ChoiceFilter(label="渠道", choices=Channel.choices, empty_label="全部")
    status = django_filters.ChoiceFilter(
        label="状态", choices=list(STATES.items()), empty_label="全部"
    )
    kind = django_filters.ChoiceFilter(label="类型", choices=Kind.choices, empty_label="全部")
    category = django_filters.ModelChoiceFilter(
        label="分类",
        queryset=RequestCategory.objects.select_related("parent").order_by("code"),
        empty_label="全部",
    )
    lead_department = django_filters.ModelChoiceFilter(
        label="主办单位",
        queryset=Department.objects.order_by("code"),
        empty_label="全部",
        widget=department_picker(),
    )
    region = django_filters.ModelChoiceFilter(
        label="区域",
        field_name="region__path",
        method="filter_region",
        queryset=Region.objects.order_by("path"),
        empty_label="全部",
        widget=region_picker(),
    )
    overdue = OverdueFilter(
        label="期限", choices=[("overdue", "已逾期"), ("on_time", "未逾期")], empty_label="全部"
    )
    supervised = django_filters.BooleanFilter(
        label="挂牌督办",
        widget=forms.Select(choices=[("", "全部"), ("true", "是"), ("false", "否")]),
    )
    first_contact = FirstContactFilter(
        label="首次联系", choices=FirstContact.choices, empty_label="全部"
    )
    escalation = EscalationFilter(
        label="升级督办",
        choices=[
            (ESCALATED, "已升级（任一级）"),
            *((str(v), n) for v, n in EscalationTier.choices),
        ],
        empty_label="全部",
    )

    class Meta:
        model = EnterpriseRequest
        fields: ClassVar[list[str]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        actor = getattr(self.request, "user", None)
        if not is_city_wide(actor):
            path = getattr(actor, "scope_path", None) or "\0"
            field = self.filters["region"]
            field.queryset = field.queryset.filter(path__startswith=path)

    def filter_region(self, qs: QuerySet[Any], name: str, value: Region) -> QuerySet[Any]:
        return qs.filter(region__path__startswith=value.path)


class MineFilter(django_filters.FilterSet):
    queue = QueueFilter(FILTER_QUEUES)
    status = django_filters.ChoiceFilter(
        label="状态", choices=list(STATES.items()), empty_label="全部"
    )

    class Meta:
        model = EnterpriseRequest
        fields: ClassVar[list[str]] = []


class PortalForm(forms.Form):
    """The enterprise portal's submission form (企业在线提交诉求)."""

    category = _category_field()
    kind = forms.ChoiceField(label="诉求类型", choices=Kind.choices, initial=Kind.HELP)
    title = forms.CharField(label="标题", max_length=200, required=False)
    text = forms.CharField(
        label="诉求内容",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        error_messages={"required": "请填写诉求内容"},
    )
    contact_name = forms.CharField(label="联系人", max_length=50, required=False)
    contact_phone = forms.RegexField(
        label="联系电话",
        regex=r"^[0-9+\- ]{5,30}$",
        required=False,
        error_messages={"invalid": "联系电话格式不正确"},
    )
    publishable = forms.BooleanField(
        label="同意公开办理结果（企业信息脱敏）",
        required=False,
        widget=forms.CheckboxInput(attrs={"style": "width:auto"}),
    )
    attachments = AttachmentsField(label="附件")


class StaffIntakeForm(PortalForm):
    """Registration by staff of a request heard at a forum, a window, a WeChat group or the
    hotline (座谈会/专窗/微信群/热线登记)."""

    channel = forms.ChoiceField(label="渠道", choices=STAFF_INTAKE_CHANNELS)
    enterprise = forms.ModelChoiceField(
        label="企业",
        queryset=Enterprise.objects.none(),
        required=False,
        empty_label="（未关联企业）",
        widget=enterprise_picker(),
    )
    forum = forms.ModelChoiceField(label="座谈会", queryset=Forum.objects.none(), required=False)
    region = forms.ModelChoiceField(
        label="所属区域",
        queryset=Region.objects.none(),
        required=False,
        empty_label="按企业所在区域",
        widget=region_picker(),
    )
    address = forms.CharField(label="地址", max_length=300, required=False)

    FIELD_ORDER = (
        "channel",
        "forum",
        "enterprise",
        "region",
        "category",
        "kind",
        "title",
        "text",
        "contact_name",
        "contact_phone",
        "address",
        "publishable",
        "attachments",
    )

    def __init__(self, *args: Any, actor: Actor | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order_fields(self.FIELD_ORDER)
        self.fields["enterprise"].queryset = Enterprise.objects.visible_to(actor).order_by("name")  # type: ignore[attr-defined]
        self.fields["forum"].queryset = Forum.objects.visible_to(actor).order_by("-held_on")  # type: ignore[attr-defined]
        regions = Region.objects.order_by("path")
        if not is_city_wide(actor):
            regions = regions.filter(path__startswith=getattr(actor, "scope_path", None) or "\0")
        self.fields["region"].queryset = regions  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("forum") is not None and data.get("channel") != Channel.STAFF_FORUM:
            self.add_error("forum", "只有座谈会渠道的诉求可以关联座谈会")
        if (
            data.get("enterprise") is None
            and data.get("region") is None
            and data.get("forum") is None
        ):
            self.add_error("region", "未关联企业时请选择所属区域")
        return data


class NoteForm(forms.Form):
    note = forms.CharField(label="说明", max_length=2000, required=False)
    status = forms.ChoiceField(
        choices=list(STATES.items()), widget=forms.HiddenInput, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].error_messages["invalid_choice"] = "页面状态无效，请刷新后重试"
        # The note comes last on every step's form.
        self.order_fields([name for name in self.fields if name != "note"] + ["note"])


class RegisterForm(NoteForm):
    category = _category_field()
    kind = forms.ChoiceField(label="诉求类型", choices=Kind.choices)
    difficulty = forms.ChoiceField(label="办理难度", choices=Difficulty.choices)
    title = forms.CharField(label="标题", max_length=200, required=False)


class DispatchForm(NoteForm):
    department = forms.ModelChoiceField(
        label="主办单位",
        queryset=Department.objects.filter(is_active=True).order_by("code"),
        widget=department_picker(),
        error_messages={"required": "请选择主办单位", "invalid_choice": "请选择有效的主办单位"},
    )
    co_departments = forms.ModelMultipleChoiceField(
        label="协办单位",
        queryset=Department.objects.order_by("code"),
        required=False,
        widget=department_picker(multiple=True),
    )
    category = _category_field(required=False)
    difficulty = forms.ChoiceField(
        label="办理难度", choices=[("", "按分类"), *Difficulty.choices], required=False
    )
    time_limit_days = forms.TypedChoiceField(
        label="办理时限",
        coerce=int,
        required=False,
        empty_value=None,
        choices=[
            ("", "按分类"),
            (0, "当日办结"),
            (5, "5个工作日"),
            (10, "10个工作日"),
            (15, "15个工作日"),
            (30, "30个工作日"),
        ],
    )


class ReplyForm(NoteForm):
    text = forms.CharField(
        label="答复内容",
        max_length=5000,
        widget=forms.Textarea,
        error_messages={"required": "请填写答复内容"},
    )


class RevisitForm(NoteForm):
    method = forms.ChoiceField(label="回访方式", choices=RevisitMethod.choices)
    satisfaction = forms.TypedChoiceField(
        label="满意度",
        coerce=int,
        choices=Satisfaction.choices,
        error_messages={"required": "请选择满意度"},
    )
    resolved = forms.BooleanField(label="问题已解决", required=False, initial=True)


class MergeForm(NoteForm):
    main_number = forms.CharField(
        label="主单编号", max_length=32, error_messages={"required": "请填写主单编号"}
    )


class MessageForm(forms.Form):
    kind = forms.ChoiceField(label="类型", choices=MessageKind.choices)
    text = forms.CharField(
        label="内容",
        max_length=5000,
        widget=forms.Textarea,
        error_messages={"required": "请填写内容"},
    )
    attachments = AttachmentsField(label="附件")


class ContactForm(forms.Form):
    """The lead unit's record of reaching the enterprise (联系企业)."""

    method = forms.ChoiceField(
        label="联系方式",
        choices=ContactMethod.choices,
        error_messages={"required": "请选择联系方式", "invalid_choice": "请选择联系方式"},
    )
    note = forms.CharField(
        label="联系情况",
        max_length=2000,
        error_messages={"required": "请填写联系情况（联系了谁、沟通了什么）"},
    )


class ExtensionForm(forms.Form):
    days = forms.IntegerField(
        label="延长工作日",
        min_value=1,
        max_value=60,
        error_messages={
            "required": "请填写延长天数",
            "min_value": "延长天数至少 1 个工作日",
            "max_value": "延长天数最多 60 个工作日",
            "invalid": "请填写整数",
        },
    )
    reason = forms.CharField(
        label="延期理由",
        max_length=2000,
        widget=forms.Textarea,
        error_messages={"required": "请填写延期理由"},
    )


class DecisionForm(forms.Form):
    extension = forms.IntegerField(widget=forms.HiddenInput)
    approve = forms.TypedChoiceField(
        label="审批", coerce=lambda v: v == "1", choices=[("1", "批准"), ("0", "不批准")]
    )
    note = forms.CharField(label="审批意见", max_length=2000, required=False)


class ForumForm(forms.Form):
    held_on = forms.DateField(
        label="日期",
        widget=DATE,
        error_messages={"required": "请填写日期", "invalid": "日期格式不正确"},
    )
    topic = forms.CharField(label="主题", max_length=200, error_messages={"required": "请填写主题"})
    region = forms.ModelChoiceField(
        label="区域",
        queryset=Region.objects.none(),
        widget=region_picker(),
        error_messages={"required": "请选择区域"},
    )
    leaders = forms.CharField(label="参会领导", max_length=300, required=False)
    location = forms.CharField(label="地点", max_length=200, required=False)
    enterprises = forms.ModelMultipleChoiceField(
        label="参会企业",
        queryset=Enterprise.objects.none(),
        required=False,
        widget=enterprise_picker(multiple=True),
    )
    note = forms.CharField(label="纪要", required=False, widget=forms.Textarea)

    def __init__(self, *args: Any, actor: Actor | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        regions = Region.objects.order_by("path")
        if not is_city_wide(actor):
            regions = regions.filter(path__startswith=getattr(actor, "scope_path", None) or "\0")
        self.fields["region"].queryset = regions  # type: ignore[attr-defined]
        self.fields["enterprises"].queryset = Enterprise.objects.visible_to(actor).order_by("name")  # type: ignore[attr-defined]


class CategoryForm(forms.ModelForm):
    class Meta:
        model = RequestCategory
        fields: ClassVar[list[str]] = [
            "code",
            "name",
            "parent",
            "default_kind",
            "difficulty",
            "time_limit_days",
            "first_contact_hours",
            "active",
            "description",
            "sort_order",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parents = RequestCategory.objects.filter(parent__isnull=True).order_by("code")
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
            self.fields["code"].disabled = True
        self.fields["parent"].queryset = parents  # type: ignore[attr-defined]
        self.fields["parent"].required = False
        self.fields["code"].error_messages["unique"] = "该编码已存在"
        self.fields["active"].widget.attrs["style"] = "width:auto"
        self.fields["time_limit_days"].error_messages["max_value"] = "时限过长"

    def clean_time_limit_days(self) -> int:
        value = self.cleaned_data["time_limit_days"]
        if value > 365:
            raise forms.ValidationError("办理时限应在 0 到 365 个工作日之间")
        return value

    def clean_first_contact_hours(self) -> int | None:
        value: int | None = self.cleaned_data["first_contact_hours"]
        if value is not None and not 1 <= value <= 720:
            raise forms.ValidationError("首次联系时限应在 1 到 720 小时之间")
        return value

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if not code.isalnum():
            raise forms.ValidationError("编码只能包含字母和数字")
        return code
