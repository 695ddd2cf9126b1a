from __future__ import annotations

from typing import ClassVar

import django_filters
from django import forms

from sizhen.core.models import AuditEvent, Job, JobStatus

DATE = forms.DateInput(attrs={"type": "date"})


class AddressFilter(django_filters.Filter):
    """An IP address; anything else is a form error (PostgreSQL's inet type refuses it)."""

    field_class = forms.GenericIPAddressField


class AuditEventFilter(django_filters.FilterSet):
    actor_label = django_filters.CharFilter(label="操作人", lookup_expr="icontains")
    action = django_filters.CharFilter(label="操作", lookup_expr="istartswith")
    object_type = django_filters.CharFilter(label="对象类型", lookup_expr="iexact")
    client_address = AddressFilter(label="客户端地址")
    since = django_filters.DateFilter(
        label="起始日期", field_name="at", lookup_expr="date__gte", widget=DATE
    )
    until = django_filters.DateFilter(
        label="截止日期", field_name="at", lookup_expr="date__lte", widget=DATE
    )

    class Meta:
        model = AuditEvent
        fields: ClassVar[list[str]] = []


class JobFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label="状态", choices=JobStatus.choices)
    name = django_filters.CharFilter(label="任务", lookup_expr="icontains")

    class Meta:
        model = Job
        fields: ClassVar[list[str]] = []
