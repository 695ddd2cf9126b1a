"""Pages of filling rounds (填报轮次), validation rules (校验规则) and aggregate imports
(汇总数据导入).

Views parse, fetch through the scope, call one service and render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from sizhen.core.access import CHANGE, VIEW, get_visible_or_404
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.listing import ListColumn, PageAction, ScopedListView
from sizhen.core.permissions import capability_roles, has_capability, require_capability
from sizhen.core.xlsx import xlsx_response
from sizhen.indicators.filling import choices, imports, rounds, services
from sizhen.indicators.filling.choices import FillingStatus
from sizhen.indicators.filling.forms import MAX_UPLOAD_BYTES, RoundForm, RuleForm, UploadForm
from sizhen.indicators.filling.models import FillingRound, FillingRule, FillingTask
from sizhen.indicators.filling.views.tasks import TASK_COLUMNS

ERRORS_ON_PAGE = 200


# --- rounds --------------------------------------------------------------------------------


def _round_progress(r: Any) -> str:
    # approved_count and task_count are annotations of the list's queryset.
    return f"{r.approved_count}/{r.task_count}"


class FillingRoundListView(ScopedListView):
    model = FillingRound
    title = "填报轮次"
    roles = capability_roles("staff.pages")
    default_sort = "-period"
    export_name = "填报轮次"
    search_fields = ("title",)
    search_placeholder = "名称"
    columns = (
        ListColumn(
            "title",
            "名称",
            sort="title",
            link=lambda r: reverse("indicator_filling:round_detail", args=[r.pk]),
        ),
        ListColumn("period", "期间", sort="period", render=lambda r: f"{r.period:%Y-%m}"),
        ListColumn("target", "填报对象"),
        ListColumn(
            "opened_on", "下发日期", sort="opened_on", render=lambda r: r.opened_on.isoformat()
        ),
        ListColumn("working_days", "时限（工作日）"),
        ListColumn(
            "deadline",
            "截止日期",
            sort="deadline",
            render=lambda r: (
                r.deadline.isoformat() + ("（暂定）" if r.deadline_provisional else "")
            ),
        ),
        ListColumn("progress", "已审核/任务数", render=_round_progress),
        ListColumn("overdue_count", "逾期未报"),
    )

    def base_queryset(self, action: str) -> Any:
        today = timezone.localdate()
        return (
            super()
            .base_queryset(action)
            .annotate(
                task_count=Count("tasks", distinct=True),
                approved_count=Count(
                    "tasks", filter=Q(tasks__status=FillingStatus.APPROVED), distinct=True
                ),
                overdue_count=Count(
                    "tasks",
                    filter=Q(tasks__status__in=choices.OPEN_STATES, tasks__deadline__lt=today),
                    distinct=True,
                ),
            )
        )

    def page_actions(self) -> list[PageAction]:
        actions = [PageAction("填报任务", reverse("indicator_filling:task_list"))]
        if has_capability(self.request.user, "filling.open_round"):
            actions.insert(
                0, PageAction("下发填报", reverse("indicator_filling:round_new"), "primary")
            )
        return actions


@login_required
@require_http_methods(["GET", "POST"])
def round_new(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "filling.open_round", target="下发填报")
    form = RoundForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = rounds.open_filling_round(
                actor=request.user,
                indicators=list(data["indicators"]),
                period=data["period"],
                working_days=data["working_days"],
                target=data["target"],
                title=data["title"],
                instructions=data["instructions"],
            )
        except services.FillingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                f"已下发“{created.title}”：{created.tasks.count()} 项任务，截止 {created.deadline:%Y-%m-%d}",
            )
            return redirect("indicator_filling:round_detail", pk=created.pk)
    return render(
        request,
        "indicators/filling/form.html",
        {
            "title": "下发定期填报",
            "form": form,
            "cancel_url": reverse("indicator_filling:round_list"),
            "submit_label": "下发",
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
def round_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="填报轮次")
    filling_round = get_visible_or_404(FillingRound, request.user, VIEW, pk=pk)
    tasks = (
        FillingTask.objects.visible_to(request.user)
        .filter(round=filling_round)
        .select_related("indicator", "region", "department")
    )
    return render(
        request,
        "indicators/filling/round_detail.html",
        {
            "title": f"填报轮次：{filling_round.title}",
            "round": filling_round,
            "indicators": filling_round.indicators.order_by("code"),
            "columns": TASK_COLUMNS,
            "rows": [
                [(c.value(t), c.link(t) if c.link else "") for c in TASK_COLUMNS] for t in tasks
            ],
        },
    )


# --- rules ---------------------------------------------------------------------------------


@login_required
def rule_list(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="填报校验规则")
    rules = FillingRule.objects.visible_to(request.user).select_related("indicator")
    changeable = set(
        FillingRule.objects.visible_to(request.user, CHANGE).values_list("pk", flat=True)
    )
    return render(
        request,
        "indicators/filling/rules.html",
        {
            "title": "填报校验规则",
            "rules": [(rule, rule.pk in changeable) for rule in rules],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def rule_new(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "filling.rule_edit", target="新增校验规则")
    form = RuleForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.create_filling_rule(
                actor=request.user,
                indicator=form.cleaned_data["indicator"],
                kind=form.cleaned_data["kind"],
                severity=form.cleaned_data["severity"],
                parameters=form.parameters(),
                message=form.cleaned_data["message"],
            )
        except services.FillingError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "已新增校验规则")
            return redirect("indicator_filling:rule_list")
    return render(
        request,
        "indicators/filling/form.html",
        {
            "title": "新增校验规则",
            "form": form,
            "cancel_url": reverse("indicator_filling:rule_list"),
            "submit_label": "保存",
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_POST
def rule_toggle(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    rule = get_visible_or_404(FillingRule, request.user, CHANGE, pk=pk)
    active = request.POST.get("active") == "1"
    services.set_filling_rule_active(rule, actor=request.user, active=active)
    messages.success(request, "已启用该规则" if active else "已停用该规则")
    return redirect("indicator_filling:rule_list")


# --- aggregate import ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def aggregate_import(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "filling.aggregate_import", target="汇总数据导入")
    form = UploadForm(request.POST or None, request.FILES or None)
    report = None
    checked = False
    status = 200
    if request.method == "POST":
        if form.is_valid():
            checked = request.POST.get("action") != "import"
            report = imports.import_aggregate_values(
                form.cleaned_data["file"].read(), actor=request.user, dry_run=checked
            )
            status = 200 if report.ok else 400
        else:
            status = 400
    return render(
        request,
        "indicators/filling/import.html",
        {
            "title": "汇总数据导入",
            "form": form,
            "report": report,
            "errors": report.errors[:ERRORS_ON_PAGE] if report else [],
            "checked": checked,
            "columns": imports.AGGREGATE_COLUMNS,
            "max_mb": MAX_UPLOAD_BYTES // 1024 // 1024,
        },
        status=status,
    )


@login_required
def aggregate_template(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "filling.aggregate_import", target="汇总数据导入模板")
    return xlsx_response(imports.aggregate_template(), "汇总数据导入模板")
