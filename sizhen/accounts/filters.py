from __future__ import annotations

from typing import Any, ClassVar

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone

from sizhen.accounts.models import ApiToken, User
from sizhen.core.roles import USER_ROLES
from sizhen.organisations.models import Department, Region
from sizhen.organisations.pickers import department_picker, region_picker

ACTIVE_CHOICES = (("1", "启用"), ("0", "停用"))


def _departments(request: Any) -> QuerySet[Department]:
    return Department.objects.visible_to(getattr(request, "user", None)).select_related("region")


def _regions(request: Any) -> QuerySet[Region]:
    return Region.objects.visible_to(getattr(request, "user", None))


class UserFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(
        label="角色", choices=[(r.value, r.label) for r in USER_ROLES], empty_label="全部"
    )
    department = django_filters.ModelChoiceFilter(
        label="所属部门", queryset=_departments, empty_label="全部", widget=department_picker()
    )
    region = django_filters.ModelChoiceFilter(
        label="区划（含下级）",
        queryset=_regions,
        empty_label="全部",
        method="filter_region",
        widget=region_picker(),
    )
    active = django_filters.ChoiceFilter(
        label="状态", choices=ACTIVE_CHOICES, empty_label="全部", method="filter_active"
    )

    class Meta:
        model = User
        fields: ClassVar[list[str]] = []

    def filter_region(self, queryset: QuerySet[User], name: str, value: Region) -> QuerySet[User]:
        # A user sits in a region through whichever binding the role uses.
        path = value.path
        return queryset.filter(
            Q(region__path__startswith=path)
            | Q(department__region__path__startswith=path)
            | Q(enterprise__region__path__startswith=path)
        )

    def filter_active(self, queryset: QuerySet[User], name: str, value: str) -> QuerySet[User]:
        return queryset.filter(is_active=value == "1")


TOKEN_STATE_CHOICES = (("usable", "有效"), ("expired", "已过期"), ("revoked", "已吊销"))


class ApiTokenFilter(django_filters.FilterSet):
    department = django_filters.ModelChoiceFilter(
        label="所属部门", queryset=_departments, empty_label="全部", widget=department_picker()
    )
    state = django_filters.ChoiceFilter(
        label="状态", choices=TOKEN_STATE_CHOICES, empty_label="全部", method="filter_state"
    )

    class Meta:
        model = ApiToken
        fields: ClassVar[list[str]] = []

    def filter_state(
        self, queryset: QuerySet[ApiToken], name: str, value: str
    ) -> QuerySet[ApiToken]:
        now = timezone.now()
        if value == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if value == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        return queryset.filter(revoked_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now)
        )
