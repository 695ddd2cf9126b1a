"""Alert pages: the ranked list, the detail with its explanation and history, the POST that
takes one lifecycle step, and the alert rules (预警规则) of the coordinating office."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sizhen.core.access import CHANGE, get_visible_or_404
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.listing import ListColumn, PageAction, ScopedListView
from sizhen.core.numbers import rounded
from sizhen.core.permissions import capability_roles, require_capability
from sizhen.core.views import run_service
from sizhen.core.workflow import history_of
from sizhen.indicators.catalogue.selectors import departments_of_region
from sizhen.monitoring.detection import METHOD_LABELS
from sizhen.monitoring.forms import AlertFilter, AlertRuleForm, TransitionForm
from sizhen.monitoring.models import Alert, AlertRule, LogScale, Severity
from sizhen.monitoring.rules import BUILTIN, KIND_SWITCH, setting_label
from sizhen.monitoring.services import (
    create_alert_rule,
    delete_alert_rule,
    transition_alert,
    update_alert_rule,
)
from sizhen.monitoring.workflow import SYSTEM_ACTIONS


def _detail_url(a: Alert) -> str:
    return reverse("monitoring:alert_detail", args=[a.pk])


class AlertListView(ScopedListView):
    model = Alert
    title = "预警"
    roles = capability_roles("staff.pages")
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
        ListColumn("value", "数值", render=lambda a: "" if a.value is None else a.value_text),
        ListColumn("impact", "影响度", sort="impact", render=lambda a: rounded(a.impact, 2)),
        ListColumn("status", "状态", sort="status"),
        ListColumn("occurrences", "发现次数", sort="occurrences"),
    )

    def base_queryset(self, action: str) -> QuerySet[Any]:
        return super().base_queryset(action).select_related("indicator", "region")


#: What the page's form supplies on POST (the department of the assign step): without it the
#: step's guard refused it on the page and 交办部门 was never offered. The engine checks the
#: real value when the form is sent.
ASSIGN_FORM_CONTEXT = {"department": "chosen in the form"}


@login_required
@require_GET
def alert_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="预警")
    alert = get_visible_or_404(Alert, request.user, pk=pk)
    can_change = Alert.objects.visible_to(request.user, CHANGE).filter(pk=pk).exists()
    transitions = (
        [
            t
            for t in Alert.workflow.available(alert, request.user, ASSIGN_FORM_CONTEXT)
            if t.action not in SYSTEM_ACTIONS and t.action != "convert"
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
            # The assign step names the department; the service refuses it without one.
            "department_picker": (
                TransitionForm()["department"].as_widget(attrs={"required": True})
                if any(t.action == "assign" for t in transitions)
                else ""
            ),
            "rule_text": alert.rule.get("text", "") if isinstance(alert.rule, dict) else "",
            # 部门维度: which of the region's departments are behind the figure.
            "departments": departments_of_region(
                alert.indicator, alert.region, alert.period, request.user
            ),
        },
    )


@login_required
@require_POST
def alert_transition(request: AuthenticatedRequest, pk: int, action: str) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="预警")
    alert = get_visible_or_404(Alert, request.user, CHANGE, pk=pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("monitoring:alert_detail", pk=alert.pk)
    with run_service(request):
        transition_alert(
            alert,
            action,
            actor=request.user,
            note=form.cleaned_data["note"],
            department=form.cleaned_data["department"],
            seen_status=form.cleaned_data["status"],
        )
        messages.success(request, f"已办理，当前状态：{alert.get_status_display()}")
    return redirect("monitoring:alert_detail", pk=alert.pk)


# --- alert rules (预警规则) ------------------------------------------------------------------


def _rule_url(rule: AlertRule) -> str:
    return reverse("monitoring:rule_edit", args=[rule.pk])


def _disabled_kinds(rule: AlertRule) -> str:
    labels = [setting_label(name) for name in KIND_SWITCH.values() if getattr(rule, name) is False]
    return "、".join(labels) or "—"


def _or_inherit(value: Any) -> Any:
    return "沿用" if value is None or value == "" else value


class AlertRuleListView(ScopedListView):
    model = AlertRule
    title = "预警规则"
    roles = capability_roles("alert_rule.edit")
    default_sort = "indicator__code"
    export_name = "预警规则"
    search_fields = ("indicator__name", "indicator__code", "note")
    search_placeholder = "指标名称、编码或说明"
    columns = (
        ListColumn(
            "indicator",
            "适用指标",
            sort="indicator__code",
            link=_rule_url,
            render=lambda r: (
                f"{r.indicator.code} {r.indicator.name}" if r.indicator else "全部指标（默认规则）"
            ),
        ),
        ListColumn(
            "modified_z_threshold",
            "修正Z分数阈值",
            render=lambda r: _or_inherit(r.modified_z_threshold),
        ),
        ListColumn("yoy_threshold", "同比变化阈值", render=lambda r: _or_inherit(r.yoy_threshold)),
        ListColumn(
            "level_shift_threshold",
            "水平突变阈值",
            render=lambda r: _or_inherit(r.level_shift_threshold),
        ),
        ListColumn("disabled", "停用的类型", render=_disabled_kinds),
        ListColumn("mute_until", "静默至", sort="mute_until"),
        ListColumn("version", "版本", sort="version"),
        ListColumn("updated_at", "更新时间", sort="updated_at"),
        ListColumn("updated_by", "更新人"),
    )

    def base_queryset(self, action: str) -> QuerySet[Any]:
        return super().base_queryset(action).select_related("indicator")

    def page_actions(self) -> list[PageAction]:
        return [PageAction("新增规则", reverse("monitoring:rule_new"), "primary")]


def _builtin_note() -> str:
    return (
        "留空的项沿用默认规则，默认规则留空的项沿用内置默认值：修正Z分数阈值 "
        f"{BUILTIN['modified_z_threshold']:g}，对数四分位距倍数 {BUILTIN['iqr_multiplier']:g}，"
        f"横向比较{LogScale(BUILTIN['log_scale']).label}，同比变化阈值 "
        f"{BUILTIN['yoy_threshold']:g}，STL 残差阈值 {BUILTIN['stl_threshold']:g}，Hampel 窗口 "
        f"{BUILTIN['hampel_window']} 期、阈值 {BUILTIN['hampel_threshold']:g}，水平突变阈值 "
        f"{BUILTIN['level_shift_threshold']:g}、连续 {BUILTIN['level_shift_points']} 期，"
        f"通知最低等级{Severity(BUILTIN['min_notify_severity']).label}，数据源陈旧天数按数据集设置，"
        f"填报逾期宽限 {BUILTIN['filling_grace_days']} 天，办件超期最少 "
        f"{BUILTIN['overdue_cases_minimum']} 件，各类预警均启用。"
    )


def _rule_form_page(
    request: HttpRequest, form: AlertRuleForm, title: str, delete_url: str = ""
) -> HttpResponse:
    return render(
        request,
        "monitoring/rule_form.html",
        {
            "title": title,
            "form": form,
            "note": _builtin_note(),
            "cancel_url": reverse("monitoring:rule_list"),
            "delete_url": delete_url,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def rule_new(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "alert_rule.edit", target="预警规则")
    form = AlertRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        rule = create_alert_rule(actor=request.user, **form.rule_values())
        messages.success(request, f"已新增{rule}")
        return redirect("monitoring:rule_list")
    return _rule_form_page(request, form, "新增预警规则")


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "alert_rule.edit", target="预警规则")
    rule = get_visible_or_404(
        AlertRule.objects.select_related("indicator"), request.user, CHANGE, pk=pk
    )
    form = AlertRuleForm(request.POST or None, instance=rule)
    if request.method == "POST" and form.is_valid():
        saved = update_alert_rule(
            AlertRule.objects.get(pk=rule.pk), actor=request.user, **form.rule_values()
        )
        messages.success(request, f"已保存{saved}（第 {saved.version} 版）")
        return redirect("monitoring:rule_list")
    return _rule_form_page(
        request,
        form,
        f"编辑{rule}（第 {rule.version} 版）",
        delete_url=reverse("monitoring:rule_delete", args=[rule.pk]),
    )


@login_required
@require_POST
def rule_delete(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "alert_rule.edit", target="预警规则")
    rule = get_visible_or_404(AlertRule, request.user, CHANGE, pk=pk)
    delete_alert_rule(rule, actor=request.user)
    messages.success(request, "已删除该预警规则，相关指标改用默认规则")
    return redirect("monitoring:rule_list")
