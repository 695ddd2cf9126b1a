"""Pages of filling tasks (填报任务): the task lists, a task's page, filling and review; rounds,
rules and aggregate imports are in ``rounds``.

Views parse, fetch through the scope (``visible_to`` / ``get_visible_or_404``), call one service
and render. Filling actions fetch the task with ``action="change"``: a task the user may neither
fill nor review answers 404 (audited), the same as one that does not exist."""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from sizhen.core.access import CHANGE, VIEW, get_visible_or_404
from sizhen.core.errors import ServiceError
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.listing import ListColumn, PageAction, ScopedListView
from sizhen.core.periods import Period
from sizhen.core.permissions import capability_roles, has_capability, require_capability
from sizhen.core.workflow import history_of
from sizhen.core.workqueue import QueueFilter
from sizhen.indicators.filling import choices, services
from sizhen.indicators.filling.choices import FillingStatus
from sizhen.indicators.filling.forms import FillForm, ReviewForm
from sizhen.indicators.filling.models import FillingRule, FillingTask
from sizhen.indicators.filling.rules import reference_value
from sizhen.indicators.filling.selectors import WORK_QUEUES
from sizhen.indicators.filling.workflow import can_fill, can_review
from sizhen.organisations.filters import RegionChoiceFilter


def _local(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _task_url(task: FillingTask) -> str:
    return reverse("indicator_filling:task_detail", args=[task.pk])


# --- task lists ----------------------------------------------------------------------------


class FillingTaskFilter(django_filters.FilterSet):
    #: ``?queue=<key>`` is the home page's link to one kind of waiting work.
    queue = QueueFilter(WORK_QUEUES)
    status = django_filters.ChoiceFilter(
        label="状态", choices=FillingStatus.choices, empty_label="全部"
    )
    overdue = django_filters.ChoiceFilter(
        label="逾期未报",
        choices=(("1", "是"), ("0", "否")),
        empty_label="全部",
        method="by_overdue",
    )
    region = RegionChoiceFilter(label="区划")

    class Meta:
        model = FillingTask
        fields: tuple[str, ...] = ()

    def by_overdue(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        overdue = Q(status__in=choices.OPEN_STATES, deadline__lt=timezone.localdate())
        if value == "1":
            return qs.filter(overdue)
        if value == "0":
            return qs.exclude(overdue)
        return qs


def _overdue_text(task: FillingTask) -> str:
    if task.is_overdue():
        return f"逾期 {(timezone.localdate() - task.deadline).days} 天"
    if task.submitted_at and timezone.localdate(task.submitted_at) > task.deadline:
        return "逾期提交"
    return ""


TASK_COLUMNS = (
    ListColumn(
        "indicator",
        "指标",
        sort="indicator__code",
        render=lambda t: f"{t.indicator.code} {t.indicator.name}",
        link=_task_url,
    ),
    ListColumn("region.name", "区划", sort="region__path"),
    ListColumn(
        "department",
        "填报部门",
        render=lambda t: t.department.name if t.department else "县市区/园区",
    ),
    ListColumn(
        "period",
        "期间",
        sort="period",
        render=lambda t: Period.containing(t.period, t.indicator.frequency).label_zh,
    ),
    ListColumn("deadline", "截止日期", sort="deadline", render=lambda t: t.deadline.isoformat()),
    ListColumn("status", "状态", sort="status"),
    ListColumn("value", "数值", render=lambda t: _number(t.value)),
    ListColumn("overdue", "逾期", render=_overdue_text),
    ListColumn(
        "submitted_at", "提交时间", sort="submitted_at", render=lambda t: _local(t.submitted_at)
    ),
)


class FillingTaskListView(ScopedListView):
    model = FillingTask
    title = "定期填报"
    roles = capability_roles("staff.pages")
    filterset_class = FillingTaskFilter
    default_sort = "deadline"
    export_name = "填报任务"
    search_fields = ("indicator__code", "indicator__name")
    search_placeholder = "指标编码或名称"
    columns = TASK_COLUMNS

    def base_queryset(self, action: str) -> Any:
        return super().base_queryset(action).select_related("indicator", "region", "department")

    def page_actions(self) -> list[PageAction]:
        user = self.request.user
        actions = [PageAction("逾期未报", reverse("indicator_filling:overdue"))]
        actions.append(PageAction("填报轮次", reverse("indicator_filling:round_list")))
        actions.append(PageAction("校验规则", reverse("indicator_filling:rule_list")))
        if has_capability(user, "filling.aggregate_import"):
            actions.append(
                PageAction("汇总数据导入", reverse("indicator_filling:aggregate_import"))
            )
        if has_capability(user, "data.admin"):
            actions.append(PageAction("数据对接", reverse("indicator_filling:pull_list")))
        return actions


class OverdueTaskListView(FillingTaskListView):
    title = "逾期未报"
    export_name = "逾期未报"

    def base_queryset(self, action: str) -> Any:
        return (
            super()
            .base_queryset(action)
            .filter(status__in=choices.OPEN_STATES, deadline__lt=timezone.localdate())
        )

    def page_actions(self) -> list[PageAction]:
        return [PageAction("全部填报任务", reverse("indicator_filling:task_list"))]


# --- task detail, filling and review -------------------------------------------------------


def _task_page(
    request: AuthenticatedRequest,
    task: FillingTask,
    *,
    fill_form: FillForm | None = None,
    review_form: ReviewForm | None = None,
    problems: services.FillingValidationFailed | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user = request.user
    fillable = can_fill(user, task) and task.status in choices.OPEN_STATES
    reviewable = can_review(user, task) and task.status == FillingStatus.SUBMITTED
    if fillable and fill_form is None:
        fill_form = FillForm(
            initial={
                "value": _number(task.value),
                "note": task.note,
                "explanation": task.explanation,
                "version": task.version,
            }
        )
    if reviewable and review_form is None:
        review_form = ReviewForm()
    last_period = Period.containing(task.period, task.indicator.frequency).shift(-1)
    rules = FillingRule.objects.filter(indicator=task.indicator, is_active=True)
    return render(
        request,
        "indicators/filling/task_detail.html",
        {
            "title": f"填报任务：{task.indicator.code} {task.indicator.name}",
            "task": task,
            "fields": [
                ("指标", f"{task.indicator.code} {task.indicator.name}"),
                ("计量单位", task.indicator.unit),
                ("区划", f"{task.region.name}（{task.region.code}）"),
                ("填报部门", task.department.name if task.department else "县市区/园区"),
                ("期间", Period.containing(task.period, task.indicator.frequency).label_zh),
                ("截止日期", task.deadline.isoformat()),
                ("状态", task.get_status_display()),
                ("数值", _number(task.value)),
                ("填报说明", task.note),
                ("校验警告", "；".join(task.warnings or [])),
                ("警告说明", task.explanation),
                ("提交时间", _local(task.submitted_at)),
                ("退回理由", task.return_reason),
                ("审核人", str(task.approved_by) if task.approved_by_id else ""),
                ("审核时间", _local(task.approved_at)),
            ],
            "overdue": _overdue_text(task),
            "last_value": reference_value(task.indicator, task.region, last_period.start),
            "last_label": last_period.label_zh,
            "rules": rules,
            "fill_form": fill_form if fillable else None,
            "review_form": review_form if reviewable else None,
            "problems": problems,
            "error": error,
            "history": history_of(task),
            "instructions": task.round.instructions,
        },
        status=status,
    )


def _task_queryset() -> QuerySet[FillingTask]:
    return FillingTask.objects.select_related(
        "indicator", "region", "department", "round", "approved_by"
    )


@login_required
@require_http_methods(["GET", "POST"])
def task_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="定期填报")
    if request.method == "GET":
        task = get_visible_or_404(_task_queryset(), request.user, VIEW, pk=pk)
        return _task_page(request, task)
    task = get_visible_or_404(_task_queryset(), request.user, CHANGE, pk=pk)
    form = FillForm(request.POST)
    if not form.is_valid():
        return _task_page(request, task, fill_form=form, status=400)
    data = form.cleaned_data
    submitting = request.POST.get("action") == "submit"
    try:
        if submitting:
            services.submit_filling(
                task,
                actor=request.user,
                value=data["value"].strip(),
                note=data["note"],
                explanation=data["explanation"],
            )
        else:
            services.save_draft(
                task,
                actor=request.user,
                value=data["value"].strip(),
                note=data["note"],
                expected_version=data.get("version"),
            )
    except services.FillingValidationFailed as problems:
        return _task_page(request, task, fill_form=form, problems=problems, status=400)
    except ServiceError as exc:
        return _task_page(request, task, fill_form=form, error=exc.message, status=exc.status_code)
    messages.success(request, "已提交，等待审核" if submitting else "已暂存")
    return redirect(_task_url(task))


@login_required
@require_POST
def task_review(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="填报审核")
    task = get_visible_or_404(_task_queryset(), request.user, CHANGE, pk=pk)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _task_page(request, task, review_form=form, status=400)
    action = request.POST.get("action")
    reason = form.cleaned_data["reason"].strip()
    try:
        if action == "approve":
            services.approve_filling(task, actor=request.user, note=reason)
            messages.success(request, "已审核通过，数据已锁定")
        elif action == "return":
            if not reason:
                form.add_error("reason", "退回时请填写退回理由")
                return _task_page(request, task, review_form=form, status=400)
            services.return_filling(task, actor=request.user, reason=reason)
            messages.success(request, "已退回填报单位")
        else:
            form.add_error(None, "请选择审核通过或退回")
            return _task_page(request, task, review_form=form, status=400)
    except ServiceError as exc:
        return _task_page(
            request, task, review_form=form, error=exc.message, status=exc.status_code
        )
    return redirect(_task_url(task))
