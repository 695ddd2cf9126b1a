"""Pages of periodic filling (定期填报), aggregate imports and pull sources (数据对接).

Views parse, fetch through the scope (``visible_to`` / ``get_visible_or_404``), call one service
and render. Filling actions fetch the task with ``action="change"``: a task the user may neither
fill nor review answers 404 (audited), the same as one that does not exist."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from sizhen.core.access import CHANGE, VIEW, get_visible_or_404, has_role, require_role, role_of
from sizhen.core.listing import ListColumn, PageAction, ScopedListView
from sizhen.core.roles import STAFF_ROLES, Role
from sizhen.core.workflow import TransitionConflict, WorkflowError, history_of
from sizhen.core.xlsx import xlsx_response
from sizhen.indicators import filling, pulls
from sizhen.indicators.choices import PullKind
from sizhen.indicators.filling_models import (
    FillingRound,
    FillingRule,
    FillingStatus,
    FillingTarget,
    FillingTask,
    RuleKind,
    RuleSeverity,
    can_fill,
    can_review,
)
from sizhen.indicators.models import DATA_ADMINS, Dataset, Indicator, PullSource
from sizhen.organisations.filters import RegionChoiceFilter
from sizhen.organisations.models import Department

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
ERRORS_ON_PAGE = 200
ROUND_OPENERS = filling.ROUND_OPENERS
RULE_EDITORS = frozenset({Role.COORDINATOR, Role.LEAD_DEPARTMENT})


def _local(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _task_url(task: FillingTask) -> str:
    return reverse("indicator_filling:task_detail", args=[task.pk])


def _required(label: str) -> dict[str, str]:
    return {"required": f"请填写{label}"}


# --- task lists ----------------------------------------------------------------------------


class FillingTaskFilter(django_filters.FilterSet):
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
        overdue = Q(status__in=filling.OPEN_STATES, deadline__lt=timezone.localdate())
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
        render=lambda t: filling.period_label(t.period, t.indicator.frequency),
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
    roles = STAFF_ROLES
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
        if role_of(user) in filling.AGGREGATE_IMPORTERS:
            actions.append(
                PageAction("汇总数据导入", reverse("indicator_filling:aggregate_import"))
            )
        if has_role(user, *DATA_ADMINS):
            actions.append(PageAction("数据对接", reverse("indicator_filling:pull_list")))
        return actions


class OverdueTaskListView(FillingTaskListView):
    title = "逾期未报"
    export_name = "逾期未报"

    def base_queryset(self, action: str) -> Any:
        return (
            super()
            .base_queryset(action)
            .filter(status__in=filling.OPEN_STATES, deadline__lt=timezone.localdate())
        )

    def page_actions(self) -> list[PageAction]:
        return [PageAction("全部填报任务", reverse("indicator_filling:task_list"))]


# --- task detail, filling and review -------------------------------------------------------


class FillForm(forms.Form):
    value = forms.CharField(label="数值", max_length=40, required=False)
    note = forms.CharField(
        label="填报说明", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    explanation = forms.CharField(
        label="警告说明",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="数据触发警告时，请说明原因后提交",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ReviewForm(forms.Form):
    reason = forms.CharField(
        label="审核意见 / 退回理由",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _task_page(
    request: HttpRequest,
    task: FillingTask,
    *,
    fill_form: FillForm | None = None,
    review_form: ReviewForm | None = None,
    problems: filling.FillingValidationFailed | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    user = request.user
    fillable = can_fill(user, task) and task.status in filling.OPEN_STATES
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
    last_period = filling.previous_period(task.period, task.indicator.frequency)
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
                ("期间", filling.period_label(task.period, task.indicator.frequency)),
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
            "last_value": filling.reference_value(task.indicator, task.region, last_period),
            "last_label": filling.period_label(last_period, task.indicator.frequency),
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
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_role(request.user, *STAFF_ROLES, target="定期填报")
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
            filling.submit_filling(
                task,
                actor=request.user,
                value=data["value"].strip(),
                note=data["note"],
                explanation=data["explanation"],
            )
        else:
            filling.save_draft(
                task,
                actor=request.user,
                value=data["value"].strip(),
                note=data["note"],
                expected_version=data.get("version"),
            )
    except filling.FillingValidationFailed as problems:
        return _task_page(request, task, fill_form=form, problems=problems, status=400)
    except (filling.FillingError, WorkflowError) as exc:
        status = 409 if _conflict(exc) else 400
        return _task_page(request, task, fill_form=form, error=str(exc), status=status)
    messages.success(request, "已提交，等待审核" if submitting else "已暂存")
    return redirect(_task_url(task))


def _conflict(exc: Exception) -> bool:
    return isinstance(exc, TransitionConflict)


@login_required
@require_POST
def task_review(request: HttpRequest, pk: int) -> HttpResponse:
    require_role(request.user, *STAFF_ROLES, target="填报审核")
    task = get_visible_or_404(_task_queryset(), request.user, CHANGE, pk=pk)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return _task_page(request, task, review_form=form, status=400)
    action = request.POST.get("action")
    reason = form.cleaned_data["reason"].strip()
    try:
        if action == "approve":
            filling.approve_filling(task, actor=request.user, note=reason)
            messages.success(request, "已审核通过，数据已锁定")
        elif action == "return":
            if not reason:
                form.add_error("reason", "退回时请填写退回理由")
                return _task_page(request, task, review_form=form, status=400)
            filling.return_filling(task, actor=request.user, reason=reason)
            messages.success(request, "已退回填报单位")
        else:
            form.add_error(None, "请选择审核通过或退回")
            return _task_page(request, task, review_form=form, status=400)
    except WorkflowError as exc:
        status = 409 if _conflict(exc) else 400
        return _task_page(request, task, review_form=form, error=str(exc), status=status)
    return redirect(_task_url(task))


# --- rounds --------------------------------------------------------------------------------


def _round_progress(r: Any) -> str:
    # approved_count and task_count are annotations of the list's queryset.
    return f"{r.approved_count}/{r.task_count}"


class FillingRoundListView(ScopedListView):
    model = FillingRound
    title = "填报轮次"
    roles = STAFF_ROLES
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
                    filter=Q(tasks__status__in=filling.OPEN_STATES, tasks__deadline__lt=today),
                    distinct=True,
                ),
            )
        )

    def page_actions(self) -> list[PageAction]:
        actions = [PageAction("填报任务", reverse("indicator_filling:task_list"))]
        if role_of(self.request.user) in ROUND_OPENERS:
            actions.insert(
                0, PageAction("下发填报", reverse("indicator_filling:round_new"), "primary")
            )
        return actions


class RoundForm(forms.Form):
    title = forms.CharField(
        label="名称", max_length=100, required=False, help_text="不填则按期间自动命名"
    )
    indicators = forms.ModelMultipleChoiceField(
        label="指标",
        queryset=Indicator.objects.none(),
        error_messages={"required": "请至少选择一个指标", "invalid_choice": "所选指标不可填报"},
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    period = forms.CharField(
        label="期间",
        max_length=7,
        help_text="YYYY-MM，如 2025-10",
        error_messages=_required("期间"),
    )
    working_days = forms.IntegerField(
        label="填报时限（工作日）",
        initial=filling.DEFAULT_WORKING_DAYS,
        min_value=1,
        max_value=filling.MAX_WORKING_DAYS,
        error_messages={
            "required": "请填写填报时限",
            "invalid": "填报时限应为整数",
            "min_value": "填报时限至少 1 个工作日",
            "max_value": f"填报时限不超过 {filling.MAX_WORKING_DAYS} 个工作日",
        },
    )
    target = forms.ChoiceField(
        label="填报对象",
        choices=FillingTarget.choices,
        initial=FillingTarget.AUTO,
        error_messages={"required": "请选择填报对象", "invalid_choice": "请选择填报对象"},
    )
    instructions = forms.CharField(
        label="填报说明", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, actor: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        leaves = Indicator.objects.filter(is_active=True, children__isnull=True).order_by("code")
        if role_of(actor) == Role.LEAD_DEPARTMENT:
            leaves = leaves.filter(lead_department_id=actor.department_id)
        self.fields["indicators"].queryset = leaves  # type: ignore[attr-defined]

    def clean_period(self) -> Any:
        try:
            return filling.parse_period(self.cleaned_data["period"])
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


@login_required
@require_http_methods(["GET", "POST"])
def round_new(request: HttpRequest) -> HttpResponse:
    require_role(request.user, *ROUND_OPENERS, target="下发填报")
    form = RoundForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = filling.open_filling_round(
                actor=request.user,
                indicators=list(data["indicators"]),
                period=data["period"],
                working_days=data["working_days"],
                target=data["target"],
                title=data["title"],
                instructions=data["instructions"],
            )
        except filling.FillingError as exc:
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
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_role(request.user, *STAFF_ROLES, target="填报轮次")
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


class RuleForm(forms.Form):
    indicator = forms.ModelChoiceField(
        label="指标",
        queryset=Indicator.objects.none(),
        error_messages={"required": "请选择指标", "invalid_choice": "请选择您可以设置规则的指标"},
    )
    kind = forms.ChoiceField(
        label="规则类型",
        choices=RuleKind.choices,
        error_messages={"required": "请选择规则类型", "invalid_choice": "请选择规则类型"},
    )
    severity = forms.ChoiceField(
        label="严重程度",
        choices=RuleSeverity.choices,
        initial=RuleSeverity.ERROR,
        error_messages={"required": "请选择严重程度", "invalid_choice": "请选择严重程度"},
    )
    minimum = forms.FloatField(
        label="下限（取值范围）", required=False, error_messages={"invalid": "下限应为数字"}
    )
    maximum = forms.FloatField(
        label="上限（取值范围）", required=False, error_messages={"invalid": "上限应为数字"}
    )
    max_change_percent = forms.FloatField(
        label="最大变化幅度 %（与上期相比）",
        required=False,
        min_value=0,
        error_messages={"invalid": "变化幅度应为数字", "min_value": "变化幅度不能为负数"},
    )
    other = forms.CharField(
        label="比较的指标编码（与其他指标的关系）", required=False, max_length=20
    )
    operator = forms.ChoiceField(
        label="关系",
        required=False,
        choices=[("", "—"), *((o, o) for o in filling.RULE_OPERATORS)],
    )
    factor = forms.FloatField(
        label="倍数", required=False, initial=1, error_messages={"invalid": "倍数应为数字"}
    )
    message = forms.CharField(
        label="提示信息", required=False, max_length=200, help_text="不填则使用默认提示"
    )

    def __init__(self, *args: Any, actor: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        leaves = Indicator.objects.filter(is_active=True, children__isnull=True).order_by("code")
        if role_of(actor) == Role.LEAD_DEPARTMENT:
            leaves = leaves.filter(lead_department_id=actor.department_id)
        self.fields["indicator"].queryset = leaves  # type: ignore[attr-defined]

    def parameters(self) -> dict[str, Any]:
        data = self.cleaned_data
        kind = data.get("kind")
        if kind == RuleKind.RANGE:
            return {
                k: v
                for k, v in (("min", data.get("minimum")), ("max", data.get("maximum")))
                if v is not None
            }
        if kind == RuleKind.CHANGE_VS_LAST_PERIOD:
            return {"max_change_percent": data.get("max_change_percent")}
        return {
            "other": (data.get("other") or "").strip(),
            "operator": data.get("operator") or "",
            "factor": 1 if data.get("factor") is None else data["factor"],
        }


@login_required
def rule_list(request: HttpRequest) -> HttpResponse:
    require_role(request.user, *STAFF_ROLES, target="填报校验规则")
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
            "can_add": role_of(request.user) in RULE_EDITORS,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def rule_new(request: HttpRequest) -> HttpResponse:
    require_role(request.user, *RULE_EDITORS, target="新增校验规则")
    form = RuleForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            filling.create_filling_rule(
                actor=request.user,
                indicator=form.cleaned_data["indicator"],
                kind=form.cleaned_data["kind"],
                severity=form.cleaned_data["severity"],
                parameters=form.parameters(),
                message=form.cleaned_data["message"],
            )
        except filling.FillingError as exc:
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
def rule_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    rule = get_visible_or_404(FillingRule, request.user, CHANGE, pk=pk)
    active = request.POST.get("active") == "1"
    filling.set_filling_rule_active(rule, actor=request.user, active=active)
    messages.success(request, "已启用该规则" if active else "已停用该规则")
    return redirect("indicator_filling:rule_list")


# --- aggregate import ----------------------------------------------------------------------


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Excel 文件（.xlsx）", error_messages={"required": "请选择要上传的文件"}
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise ValidationError("只支持 .xlsx 格式的 Excel 文件")
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(f"文件不能超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB")
        return upload


@login_required
@require_http_methods(["GET", "POST"])
def aggregate_import(request: HttpRequest) -> HttpResponse:
    require_role(request.user, *filling.AGGREGATE_IMPORTERS, target="汇总数据导入")
    form = UploadForm(request.POST or None, request.FILES or None)
    report = None
    checked = False
    status = 200
    if request.method == "POST":
        if form.is_valid():
            checked = request.POST.get("action") != "import"
            report = filling.import_aggregate_values(
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
            "columns": filling.AGGREGATE_COLUMNS,
            "max_mb": MAX_UPLOAD_BYTES // 1024 // 1024,
        },
        status=status,
    )


@login_required
def aggregate_template(request: HttpRequest) -> HttpResponse:
    require_role(request.user, *filling.AGGREGATE_IMPORTERS, target="汇总数据导入模板")
    return xlsx_response(filling.aggregate_template(), "汇总数据导入模板")


# --- pull sources --------------------------------------------------------------------------


class PullSourceListView(ScopedListView):
    model = PullSource
    title = "数据对接"
    roles = DATA_ADMINS
    default_sort = "name"
    search_fields = ("name", "dataset__code", "dataset__name")
    search_placeholder = "名称或数据集"
    columns = (
        ListColumn(
            "name",
            "名称",
            sort="name",
            link=lambda s: reverse("indicator_filling:pull_edit", args=[s.pk]),
        ),
        ListColumn("dataset.name", "数据集", sort="dataset__code"),
        ListColumn("department.name", "数据提供部门"),
        ListColumn("kind", "类型", sort="kind"),
        ListColumn("url", "地址", render=lambda s: pulls.mask_url(s.url)),
        ListColumn("watermark_field", "水位字段"),
        ListColumn("watermark_value", "当前水位"),
        ListColumn("interval_minutes", "间隔（分钟）"),
        ListColumn("is_active", "启用"),
        ListColumn(
            "last_run_at", "最近运行", sort="last_run_at", render=lambda s: _local(s.last_run_at)
        ),
        ListColumn("last_status", "最近结果"),
    )

    def base_queryset(self, action: str) -> Any:
        return super().base_queryset(action).select_related("dataset", "department")

    def page_actions(self) -> list[PageAction]:
        return [PageAction("新增", reverse("indicator_filling:pull_new"), "primary")]


class PullSourceForm(forms.Form):
    name = forms.CharField(label="名称", max_length=100, error_messages=_required("名称"))
    dataset = forms.ModelChoiceField(
        label="数据集",
        queryset=Dataset.objects.none(),
        error_messages={"required": "请选择数据集", "invalid_choice": "请选择有效的数据集"},
    )
    department = forms.ModelChoiceField(
        label="数据提供部门",
        queryset=Department.objects.none(),
        error_messages={"required": "请选择数据提供部门", "invalid_choice": "请选择有效的部门"},
    )
    kind = forms.ChoiceField(
        label="类型",
        choices=PullKind.choices,
        error_messages={"required": "请选择对接类型", "invalid_choice": "请选择对接类型"},
    )
    url = forms.CharField(
        label="地址或数据库连接串",
        max_length=500,
        error_messages=_required("地址或数据库连接串"),
        help_text="HTTP 接口如 http://10.0.0.8/api/cases（拉取时附加 ?since=当前水位）；"
        "数据库如 sqlite:////data/src.db 或 postgresql://用户:密码@主机/库名（密码显示为 ***，不修改则保留）",
    )
    query = forms.CharField(
        label="SQL 查询",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="仅数据库类型需要，须含 :watermark 参数，如 SELECT * FROM cases WHERE updated_at > :watermark ORDER BY updated_at",
    )
    records_path = forms.CharField(
        label="JSON 记录路径",
        required=False,
        max_length=100,
        initial="records",
        help_text="接口返回对象时记录列表所在的键，多级用点分隔，如 data.items；返回数组时可不填",
    )
    watermark_field = forms.CharField(
        label="水位字段", max_length=40, error_messages=_required("水位字段")
    )
    watermark_value = forms.CharField(
        label="当前水位", required=False, max_length=60, help_text="清空则下次从头拉取"
    )
    interval_minutes = forms.IntegerField(
        label="间隔（分钟）",
        initial=60,
        error_messages={"required": "请填写间隔", "invalid": "间隔应为整数"},
    )
    is_active = forms.BooleanField(label="启用", required=False, initial=True)

    def __init__(self, *args: Any, actor: Any, instance: PullSource | None = None, **kwargs: Any):
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{k: getattr(instance, k) for k in pulls.EDITABLE_FIELDS},
                "dataset": instance.dataset_id,
                "department": instance.department_id,
                "url": pulls.mask_url(instance.url),
            }
        super().__init__(*args, **kwargs)
        self.fields["dataset"].queryset = Dataset.objects.visible_to(actor)  # type: ignore[attr-defined]
        self.fields["department"].queryset = Department.objects.visible_to(actor).filter(  # type: ignore[attr-defined]
            is_active=True
        )


def _pull_form_page(
    request: HttpRequest, *, form: PullSourceForm, title: str, source: PullSource | None
) -> HttpResponse:
    return render(
        request,
        "indicators/filling/pull_form.html",
        {
            "title": title,
            "form": form,
            "source": source,
            "cancel_url": reverse("indicator_filling:pull_list"),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


def _apply_errors(form: forms.Form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, texts in error.message_dict.items():
            form.add_error(name if name in form.fields else None, texts)
    else:
        form.add_error(None, error.messages)


@login_required
@require_http_methods(["GET", "POST"])
def pull_new(request: HttpRequest) -> HttpResponse:
    require_role(request.user, *DATA_ADMINS, target="新增数据对接")
    form = PullSourceForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            source = pulls.create_pull_source(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"已新增数据对接：{source.name}")
            return redirect("indicator_filling:pull_edit", pk=source.pk)
    return _pull_form_page(request, form=form, title="新增数据对接", source=None)


@login_required
@require_http_methods(["GET", "POST"])
def pull_edit(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_visible_or_404(PullSource, request.user, CHANGE, pk=pk)
    form = PullSourceForm(request.POST or None, actor=request.user, instance=source)
    if request.method == "POST" and form.is_valid():
        try:
            pulls.update_pull_source(source, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"已保存数据对接：{source.name}")
            return redirect("indicator_filling:pull_edit", pk=source.pk)
    return _pull_form_page(request, form=form, title=f"数据对接：{source.name}", source=source)


@login_required
@require_POST
def pull_run(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_visible_or_404(PullSource, request.user, CHANGE, pk=pk)
    queued = pulls.request_pull_run(source, actor=request.user)
    messages.success(request, f"已加入后台队列（任务 #{queued.pk}），稍后刷新查看结果")
    return redirect("indicator_filling:pull_edit", pk=source.pk)
