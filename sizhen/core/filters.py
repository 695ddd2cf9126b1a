from __future__ import annotations

from typing import Any, ClassVar

import django_filters
from django import forms
from django.apps import apps
from django.db.models import Q, QuerySet

from sizhen.core.audit_labels import all_action_labels
from sizhen.core.models import NOTIFICATION_KINDS, AuditEvent, Job, JobStatus, Notification

DATE = forms.DateInput(attrs={"type": "date"})


class AddressFilter(django_filters.Filter):
    """An IP address; anything else is a form error (PostgreSQL's inet type refuses it)."""

    field_class = forms.GenericIPAddressField


def date_from(field: str) -> django_filters.DateFilter:
    """起始日期: the datetime ``field`` on or after the day (local time)."""
    return django_filters.DateFilter(
        label="起始日期", field_name=field, lookup_expr="date__gte", widget=DATE
    )


def date_until(field: str) -> django_filters.DateFilter:
    """截止日期: the datetime ``field`` on or before the day (local time)."""
    return django_filters.DateFilter(
        label="截止日期", field_name=field, lookup_expr="date__lte", widget=DATE
    )


class AuditEventFilter(django_filters.FilterSet):
    actor_label = django_filters.CharFilter(label="操作人", lookup_expr="icontains")
    #: The Chinese name as the page shows it ("登录", "预警：确认"), or the start of a code.
    action = django_filters.CharFilter(label="操作", method="filter_action")
    #: The Chinese name as the page shows it ("承办任务"), or the code.
    object_type = django_filters.CharFilter(label="对象类型", method="filter_object_type")
    client_address = AddressFilter(label="客户端地址")
    since = date_from("at")
    until = date_until("at")

    class Meta:
        model = AuditEvent
        fields: ClassVar[list[str]] = []

    def filter_action(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip()
        if not value:
            return qs
        named = [code for code, label in all_action_labels().items() if value in label]
        return qs.filter(Q(action__istartswith=value) | Q(action__in=named))

    def filter_object_type(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        value = value.strip()
        if not value:
            return qs
        named = [m._meta.label_lower for m in apps.get_models() if m._meta.verbose_name == value]
        return qs.filter(Q(object_type__iexact=value) | Q(object_type__in=named))


class JobFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(label="状态", choices=JobStatus.choices)
    name = django_filters.CharFilter(label="任务", method="filter_name")

    class Meta:
        model = Job
        fields: ClassVar[list[str]] = []

    def filter_name(self, queryset: QuerySet[Job], name: str, value: str) -> QuerySet[Job]:
        """By the Chinese name people read (发送通知), or the internal one an operator has."""
        return queryset.filter(Q(label__icontains=value) | Q(name__icontains=value))


class NotificationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label="状态",
        choices=[("unread", "未读"), ("read", "已读")],
        empty_label="全部",
        method="filter_status",
    )
    kind = django_filters.ChoiceFilter(
        label="类别",
        field_name="category",
        choices=list(NOTIFICATION_KINDS.items()),
        empty_label="全部",
    )
    since = date_from("created_at")
    until = date_until("created_at")

    class Meta:
        model = Notification
        fields: ClassVar[list[str]] = []

    def filter_status(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if value == "unread":
            return qs.filter(read_at__isnull=True)
        if value == "read":
            return qs.filter(read_at__isnull=False)
        return qs
