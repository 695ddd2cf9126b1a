"""List filters for regions, departments and enterprises. Region choices are scoped to what the
user may see, so a filter never reveals a region outside the user's scope."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.http import HttpRequest

from sizhen.organisations.choices import DepartmentType, EnterpriseSize, RegionLevel
from sizhen.organisations.models import Department, Enterprise, Region
from sizhen.organisations.pickers import region_picker
from sizhen.organisations.selectors import list_filter_regions, region_label


class RegionChoiceFilter(django_filters.ModelChoiceFilter):
    """A region chosen by code; matches everything in that region's subtree."""

    def __init__(self, *args: Any, path_field: str = "region__path", **kwargs: Any) -> None:
        self.path_field = path_field
        kwargs.setdefault("label", "所属区划")
        kwargs.setdefault("to_field_name", "code")
        kwargs.setdefault("queryset", _visible_regions)
        kwargs.setdefault("empty_label", "全部")
        kwargs.setdefault("widget", region_picker())
        kwargs.setdefault(
            "error_messages", {"invalid_choice": "所选区划不存在或不在您的数据范围内"}
        )
        super().__init__(*args, **kwargs)

    @property
    def field(self) -> forms.Field:
        field = super().field
        field.label_from_instance = region_label
        return field

    def filter(self, qs: QuerySet[Any], value: Region | None) -> QuerySet[Any]:
        if value is None:
            return qs
        return qs.filter(**{f"{self.path_field}__startswith": value.path})


def _visible_regions(request: HttpRequest | None) -> QuerySet[Region]:
    return list_filter_regions(getattr(request, "user", None))


ACTIVE_CHOICES = (("1", "是"), ("0", "否"))


def _filter_active(qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
    if value in ("1", "0"):
        return qs.filter(is_active=value == "1")
    return qs


class RegionFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(
        label="层级", choices=RegionLevel.choices, empty_label="全部"
    )
    within = RegionChoiceFilter(label="范围", path_field="path")
    is_active = django_filters.ChoiceFilter(
        label="启用", choices=ACTIVE_CHOICES, empty_label="全部", method=_filter_active
    )

    class Meta:
        model = Region
        fields: tuple[str, ...] = ()


class DepartmentFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(
        label="类型", choices=DepartmentType.choices, empty_label="全部"
    )
    region = RegionChoiceFilter()
    is_active = django_filters.ChoiceFilter(
        label="启用", choices=ACTIVE_CHOICES, empty_label="全部", method=_filter_active
    )

    class Meta:
        model = Department
        fields: tuple[str, ...] = ()


class EnterpriseFilter(django_filters.FilterSet):
    region = RegionChoiceFilter()
    size = django_filters.ChoiceFilter(
        label="规模", choices=EnterpriseSize.choices, empty_label="全部"
    )
    industry = django_filters.CharFilter(label="行业代码", method="filter_industry", max_length=5)
    is_active = django_filters.ChoiceFilter(
        label="存续", choices=ACTIVE_CHOICES, empty_label="全部", method=_filter_active
    )

    class Meta:
        model = Enterprise
        fields: tuple[str, ...] = ()

    def filter_industry(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        # Industry codes nest by prefix (C → C39 → C397 → C3971), so a prefix is a subtree.
        value = value.strip().upper()
        return qs.filter(industry_code__startswith=value) if value else qs
