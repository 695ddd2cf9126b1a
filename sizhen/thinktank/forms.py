"""Forms of the policy library pages: the policy form, the list filters, the search box, the
steps (publish, repeal), attachments and redemption records."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, ClassVar

import django_filters
from django import forms
from django.core.exceptions import ValidationError

from sizhen.core.uploads import AttachmentField
from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.catalogue.pickers import indicator_picker
from sizhen.organisations.models import Enterprise, Region
from sizhen.organisations.pickers import enterprise_picker, region_picker
from sizhen.thinktank.choices import SIZES, Level
from sizhen.thinktank.models import Policy
from sizhen.thinktank.selectors import Filters
from sizhen.thinktank.services import PolicyData, check_industry
from sizhen.thinktank.workflow import STATES

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_SPLIT = re.compile(r"[、,，;；\s]+")


def _items(text: str) -> list[str]:
    return list(dict.fromkeys(item for item in _SPLIT.split(text or "") if item))


class PolicyForm(forms.Form):
    title = forms.CharField(label="标题", max_length=300)
    doc_number = forms.CharField(label="文号", max_length=100, required=False)
    issuer = forms.CharField(label="发文机关", max_length=200)
    level = forms.ChoiceField(label="层级", choices=Level.choices)
    published_on = forms.DateField(label="发布日期", required=False, widget=DATE)
    effective_on = forms.DateField(label="生效日期", required=False, widget=DATE)
    expires_on = forms.DateField(label="失效日期", required=False, widget=DATE)
    body = forms.CharField(label="正文", required=False, widget=forms.Textarea(attrs={"rows": 12}))
    industries = forms.CharField(
        label="适用行业（行业代码或前缀，顿号分隔；不填为不限）", max_length=500, required=False
    )
    sizes = forms.MultipleChoiceField(
        label="适用规模（不选为不限）",
        choices=list(SIZES.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    regions = forms.ModelMultipleChoiceField(
        label="适用区划（含下级；不选为全域）",
        queryset=Region.objects.filter(is_active=True).order_by("path"),
        required=False,
        widget=region_picker(multiple=True),
    )
    indicators = forms.ModelMultipleChoiceField(
        label="关联指标",
        queryset=Indicator.objects.order_by("sort_order", "code"),
        required=False,
        widget=indicator_picker(multiple=True),
    )
    tags = forms.CharField(label="标签（顿号分隔）", max_length=500, required=False)
    supersedes = forms.ModelChoiceField(
        label="上一版本（本文件修订的政策）",
        queryset=Policy.objects.exclude(status="draft").order_by("-published_on", "-pk"),
        required=False,
        widget=forms.NumberInput(attrs={"placeholder": "上一版本的政策编号"}),
        error_messages={"invalid_choice": "上一版本应为已发布政策的编号"},
    )

    @classmethod
    def initial_of(cls, policy: Policy) -> dict[str, Any]:
        return {
            "title": policy.title,
            "doc_number": policy.doc_number,
            "issuer": policy.issuer,
            "level": policy.level,
            "published_on": policy.published_on,
            "effective_on": policy.effective_on,
            "expires_on": policy.expires_on,
            "body": policy.body,
            "industries": "、".join(policy.industries),
            "sizes": policy.sizes,
            "regions": list(policy.regions.all()),
            "indicators": list(policy.indicators.all()),
            "tags": "、".join(policy.tags),
            "supersedes": policy.supersedes_id,
        }

    def clean_industries(self) -> list[str]:
        codes = [code.upper() for code in _items(self.cleaned_data.get("industries", ""))]
        problems = [p for p in (check_industry(c) for c in codes) if p]
        if problems:
            raise ValidationError(problems)
        return codes

    def clean_tags(self) -> list[str]:
        return _items(self.cleaned_data.get("tags", ""))

    def data_object(self) -> PolicyData:
        data = self.cleaned_data
        return PolicyData(
            title=data["title"].strip(),
            issuer=data["issuer"].strip(),
            level=data["level"],
            doc_number=data["doc_number"].strip(),
            published_on=data["published_on"],
            effective_on=data["effective_on"] or data["published_on"],
            expires_on=data["expires_on"],
            body=data["body"],
            industries=data["industries"],
            sizes=list(data["sizes"]),
            regions=list(data["regions"]),
            indicators=list(data["indicators"]),
            tags=data["tags"],
            supersedes=data["supersedes"],
        )


class PolicyFilter(django_filters.FilterSet):
    """The staff list's filters (政策库)."""

    status = django_filters.ChoiceFilter(label="状态", choices=list(STATES.items()))
    level = django_filters.ChoiceFilter(label="层级", choices=Level.choices)
    issuer = django_filters.CharFilter(label="发文机关", lookup_expr="icontains", max_length=100)
    indicator = django_filters.CharFilter(
        label="关联指标编码", max_length=20, method="filter_indicator"
    )
    published_from = django_filters.DateFilter(
        label="发布日期自", field_name="published_on", lookup_expr="gte", widget=DATE
    )
    published_to = django_filters.DateFilter(
        label="发布日期至", field_name="published_on", lookup_expr="lte", widget=DATE
    )

    class Meta:
        model = Policy
        fields: ClassVar[list[str]] = []

    def filter_indicator(self, qs: Any, name: str, value: str) -> Any:
        code = value.strip()
        return qs.filter(indicators__code=code) if code else qs


class SearchForm(forms.Form):
    """The public search page (政策检索): the words and the filters."""

    q = forms.CharField(label="关键词", max_length=100, required=False)
    issuer = forms.CharField(label="发文机关", max_length=100, required=False)
    level = forms.ChoiceField(label="层级", choices=[("", "全部"), *Level.choices], required=False)
    status = forms.ChoiceField(
        label="状态",
        choices=[("", "全部"), *((k, v) for k, v in STATES.items() if k != "draft")],
        required=False,
    )
    indicator = forms.CharField(label="关联指标编码", max_length=20, required=False)
    published_from = forms.DateField(label="发布日期自", required=False, widget=DATE)
    published_to = forms.DateField(label="发布日期至", required=False, widget=DATE)

    def filters(self) -> Filters:
        data = self.cleaned_data if self.is_valid() else {}
        return Filters(
            issuer=(data.get("issuer") or "").strip(),
            level=data.get("level") or "",
            status=data.get("status") or "",
            indicator=(data.get("indicator") or "").strip(),
            published_from=data.get("published_from"),
            published_to=data.get("published_to"),
        )


class StepForm(forms.Form):
    note = forms.CharField(label="说明", max_length=500, required=False, widget=forms.Textarea)
    #: the state the person saw when they pressed the button
    status = forms.CharField(max_length=12, required=False, widget=forms.HiddenInput)


class AttachmentForm(forms.Form):
    file = AttachmentField(label="附件（PDF、Word 等）")


class RedemptionForm(forms.Form):
    enterprise = forms.ModelChoiceField(
        label="企业",
        queryset=Enterprise.objects.filter(is_active=True).order_by("name"),
        widget=enterprise_picker(),
        error_messages={"required": "请选择企业", "invalid_choice": "请选择有效的企业"},
    )
    amount = forms.DecimalField(
        label="兑现金额（元）", min_value=0, max_digits=14, decimal_places=2
    )
    cases = forms.IntegerField(label="件数", min_value=1, max_value=100000, initial=1)
    redeemed_on = forms.DateField(label="兑现日期", required=False, widget=DATE)
    note = forms.CharField(label="说明", max_length=200, required=False)

    def clean_redeemed_on(self) -> dt.date | None:
        value: dt.date | None = self.cleaned_data.get("redeemed_on")
        if value is not None and not 2000 <= value.year <= 2100:
            raise ValidationError("日期超出范围（2000–2100 年）")
        return value
