"""Alert pages: the ranked list, the detail with its explanation and history, and the POST that
takes one lifecycle step."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from sizhen.core.access import CHANGE, get_visible_or_404, require_role
from sizhen.core.listing import ListColumn, ScopedListView
from sizhen.core.roles import STAFF_ROLES
from sizhen.core.workflow import WorkflowError, history_of
from sizhen.monitoring.detection import METHOD_LABELS
from sizhen.monitoring.forms import AlertFilter, TransitionForm
from sizhen.monitoring.models import Alert
from sizhen.monitoring.services import transition_alert
from sizhen.organisations.models import Department


def _detail_url(a: Alert) -> str:
    return reverse("monitoring:alert_detail", args=[a.pk])


class AlertListView(ScopedListView):
    model = Alert
    title = "预警"
    roles = STAFF_ROLES
    filterset_class = AlertFilter
    default_sort = "-impact"
    export_name = "预警"
    search_fields = ("indicator__name", "region__name", "explanation")
    search_placeholder = "指标、区域或说明"
    columns = (
        ListColumn("severity", "等级", sort="severity", link=_detail_url),
        ListColumn("indicator.name", "指标", sort="indicator__code"),
        ListColumn("region.name", "区域", sort="region__code"),
        ListColumn("kind", "类型", sort="kind"),
        ListColumn("period", "期间", sort="period", render=lambda a: a.period_label),
        ListColumn("value", "数值", render=lambda a: "" if a.value is None else round(a.value, 2)),
        ListColumn("impact", "影响度", sort="impact", render=lambda a: round(a.impact, 2)),
        ListColumn("status", "状态", sort="status"),
        ListColumn("occurrences", "发现次数", sort="occurrences"),
    )

    def base_queryset(self, action: str) -> QuerySet[Any]:
        return super().base_queryset(action).select_related("indicator", "region")


@login_required
@require_GET
def alert_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_role(request.user, *STAFF_ROLES, target="预警")
    alert = get_visible_or_404(Alert, request.user, pk=pk)
    can_change = Alert.objects.visible_to(request.user, CHANGE).filter(pk=pk).exists()
    transitions = (
        [
            t
            for t in Alert.workflow.available(alert, request.user)
            if t.action not in ("reopen", "convert")
        ]
        if can_change
        else []
    )
    return render(
        request,
        "monitoring/alert_detail.html",
        {
            "title": f"预警：{alert.indicator.name} · {alert.region.name}",
            "alert": alert,
            "method_label": METHOD_LABELS.get(alert.method, alert.method),
            "history": history_of(alert),
            "transitions": transitions,
            "departments": Department.objects.order_by("code"),
        },
    )


@login_required
@require_POST
def alert_transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    require_role(request.user, *STAFF_ROLES, target="预警")
    alert = get_visible_or_404(Alert, request.user, CHANGE, pk=pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("monitoring:alert_detail", pk=alert.pk)
    try:
        transition_alert(
            alert,
            action,
            actor=request.user,
            note=form.cleaned_data["note"],
            department=form.cleaned_data["department"],
            seen_status=form.cleaned_data["status"],
        )
    except WorkflowError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"已办理，当前状态：{alert.get_status_display()}")
    return redirect("monitoring:alert_detail", pk=alert.pk)
