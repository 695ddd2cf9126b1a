"""Work-task pages: lists (all / my unit's), the board, the task page with its timeline, the
issue form, the POSTs that take one step, downloads through the scope, the annual-plan import,
statistics and the monthly report."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sizhen.core.access import CHANGE, get_visible_or_404
from sizhen.core.errors import ServiceError
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.listing import ListColumn, PageAction, ScopedListView
from sizhen.core.permissions import capability_roles, has_capability, require_capability
from sizhen.core.views import run_service
from sizhen.core.workflow import history_of
from sizhen.work_tasks import forms, selectors, services, supervision
from sizhen.work_tasks.choices import TaskSource
from sizhen.work_tasks.models import Milestone, TaskAssignment, TaskFile, WorkTask
from sizhen.work_tasks.workflow import (
    ASSIGNMENT_WORKFLOW,
    RECEIVED,
    RETURNED,
    STATES,
    acts_for_unit,
    is_reviewer,
)


def _detail_url(a: TaskAssignment) -> str:
    return reverse("work_tasks:detail", args=[a.pk])


def _timeliness(a: TaskAssignment) -> str:
    if a.timeliness:
        return a.get_timeliness_display()
    if a.is_open and a.deadline < services.today():
        return "已逾期"
    return ""


COLUMNS = (
    ListColumn("task.number", "任务编号", sort="task__number", link=_detail_url),
    ListColumn("task.title", "任务名称", sort="task__title", link=_detail_url),
    ListColumn("unit_name", "承办单位", render=lambda a: a.unit_name),
    ListColumn("task.source", "来源", sort="task__source"),
    ListColumn("task.issued_on", "下发日期", sort="task__issued_on"),
    ListColumn("deadline", "完成期限", sort="deadline"),
    ListColumn("status", "状态", sort="status"),
    ListColumn("timeliness", "完成情况", sort="timeliness", render=_timeliness),
    ListColumn("listed", "挂牌督办", sort="listed"),
)


class AssignmentListView(ScopedListView):
    model = TaskAssignment
    title = "全部任务"
    roles = capability_roles("staff.pages")
    filterset_class = forms.AssignmentFilter
    default_sort = "deadline"
    export_name = "工作任务"
    search_fields = ("task__title", "task__number", "department__name", "region__name")
    search_placeholder = "任务名称、编号或承办单位"
    columns = COLUMNS
    template_name = "work_tasks/list.html"
    mine = False

    def base_queryset(self, action: str) -> QuerySet[Any]:
        qs = super().base_queryset(action).select_related("task", "department", "region")
        if self.mine:
            qs = qs.filter(pk__in=selectors.list_my_assignments(self.request.user).values("pk"))
        return qs

    def page_actions(self) -> list[PageAction]:
        actions = [
            PageAction("看板", reverse("work_tasks:board") + ("?mine=1" if self.mine else ""))
        ]
        if has_capability(self.request.user, "task.issue"):
            actions[:0] = [
                PageAction("下发任务", reverse("work_tasks:issue"), "primary"),
                PageAction("导入年度计划", reverse("work_tasks:import")),
            ]
        actions.append(PageAction("统计", reverse("work_tasks:statistics")))
        return actions

    def extra_context(self) -> dict[str, Any]:
        return {"mine": self.mine, "overdue_only": self.request.GET.get("overdue") == "1"}


class MyAssignmentListView(AssignmentListView):
    title = "本单位任务"
    export_name = "本单位任务"
    mine = True


#: Cards per board column: open work by nearest deadline, finished work latest first.
BOARD_OPEN_CARDS = 50
BOARD_DONE_CARDS = 12


@login_required
@require_GET
def board(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="任务看板")
    mine = request.GET.get("mine") == "1"
    qs = (
        selectors.list_my_assignments(request.user)
        if mine
        else selectors.list_assignments(request.user)
    )
    today = services.today()
    list_url = reverse("work_tasks:mine" if mine else "work_tasks:list")
    columns = []
    for state, label in STATES.items():
        in_state = qs.filter(status=state)
        if state in ASSIGNMENT_WORKFLOW.terminal:
            # Finished work: the latest few; the list holds the rest.
            items = list(in_state.order_by("-deadline", "-pk")[:BOARD_DONE_CARDS])
        else:
            items = list(in_state.order_by("deadline", "pk")[:BOARD_OPEN_CARDS])
        columns.append(
            {
                "state": state,
                "label": label,
                "items": items,
                "count": in_state.count(),
                "list_url": f"{list_url}?status={state}",
            }
        )
    return render(
        request,
        "work_tasks/board.html",
        {
            "title": "本单位任务看板" if mine else "任务看板",
            "columns": columns,
            "today": today,
            "mine": mine,
        },
    )


def _timeline(assignment: TaskAssignment) -> list[dict[str, Any]]:
    """Every step of the assignment and its sub-tasks, oldest first."""
    events: list[dict[str, Any]] = []
    for h in history_of(assignment):
        # An approval of unfinished work names what was open (the reason is its note).
        unfinished = h.data.get("unfinished") if isinstance(h.data, dict) else None
        events.append(
            {
                "at": h.at,
                "kind": "transition",
                "label": h.action_label,
                "actor": h.actor_label,
                "text": h.note,
                "unfinished": unfinished or [],
                "state": STATES.get(h.to_state, h.to_state),
            }
        )
    for r in assignment.reports.select_related("milestone").prefetch_related("files"):
        label = f"进展反馈（{r.percent}%）"
        if r.milestone:
            label += f" · {r.milestone.title}{'（已完成）' if r.milestone_done else ''}"
        events.append(
            {
                "at": r.created_at,
                "kind": "progress",
                "label": label,
                "actor": r.author_label,
                "text": r.content,
                "files": list(r.files.all()),
            }
        )
    for u in assignment.urges.all():
        events.append(
            {
                "at": u.created_at,
                "kind": "urge",
                "label": "催办",
                "actor": u.author_label,
                "text": u.content,
            }
        )
    for m in assignment.meetings.all():
        events.append(
            {
                "at": m.created_at,
                "kind": "meeting",
                "label": f"协调会（{m.held_on:%Y-%m-%d}）",
                "actor": m.author_label,
                "text": f"参会：{m.attendees}\n{m.minutes}",
            }
        )
    if assignment.listed and assignment.listed_at:
        leader = assignment.listed_leader
        events.append(
            {
                "at": assignment.listed_at,
                "kind": "listed",
                "label": "挂牌督办",
                "actor": str(leader) if leader else "",
                "text": assignment.listed_reason,
            }
        )
    return sorted(events, key=lambda e: e["at"])


@login_required
@require_GET
def detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="工作任务")
    return _detail_page(request, pk, progress_form=forms.ProgressForm())


def _detail_page(request: AuthenticatedRequest, pk: int, *, progress_form: Any) -> HttpResponse:
    """The assignment's page; a refused progress report comes back in ``progress_form`` with
    what the user typed and the error beside its field."""
    assignment = get_visible_or_404(
        TaskAssignment.objects.select_related("task", "department", "region", "parent"),
        request.user,
        pk=pk,
    )
    user = request.user
    can_change = TaskAssignment.objects.visible_to(user, CHANGE).filter(pk=pk).exists()
    transitions = ASSIGNMENT_WORKFLOW.available(assignment, user) if can_change else []
    # The reviewer sees what the unit's reports leave open before approving it as 已完成.
    review = any(t.action == "approve" for t in transitions)
    is_unit = acts_for_unit(assignment, user)
    supervisor = has_capability(user, "task.supervise")
    task = assignment.task
    siblings = (
        task.assignments.filter(parent__isnull=True).select_related("department", "region")
        if has_capability(user, "staff.pages") and assignment.parent_id is None
        else TaskAssignment.objects.none()
    )
    visible_siblings = siblings.filter(pk__in=selectors.list_assignments(user).values("pk"))
    return render(
        request,
        "work_tasks/detail.html",
        {
            "title": f"{task.number} {task.title}",
            "a": assignment,
            "task": task,
            "timeline": _timeline(assignment),
            "transitions": [t for t in transitions if t.action not in ("cancel",)],
            "can_cancel": any(t.action == "cancel" for t in transitions),
            "can_work": is_unit and assignment.status in (RECEIVED, RETURNED),
            "can_urge": assignment.is_open and (supervisor or is_reviewer(assignment, user)),
            "can_list": supervisor and assignment.is_open and not assignment.listed,
            "can_meet": supervisor and assignment.listed,
            "milestones": task.milestones.all(),
            "children": assignment.children.select_related("department", "region"),
            "siblings": visible_siblings,
            "task_files": task.files.filter(report__isnull=True),
            "progress_form": progress_form,
            "transfer_form": forms.TransferForm(),
            "list_form": forms.ListForm(),
            "meeting_form": forms.MeetingForm(initial={"held_on": services.today()}),
            "overdue": assignment.is_overdue(services.today()),
            "task_complete": selectors.task_is_complete(task),
            "unfinished": assignment.unfinished() if review else [],
        },
    )


def _errors(request: HttpRequest, form: Any) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))


def _fetch_for_change(request: AuthenticatedRequest, pk: int) -> TaskAssignment:
    require_capability(request.user, "staff.pages", target="工作任务")
    return get_visible_or_404(TaskAssignment, request.user, CHANGE, pk=pk)


STEP_SERVICES: dict[str, Callable[..., Any]] = {
    "receive": lambda a, actor, note, seen: services.receive_assignment(
        a, actor=actor, note=note, seen_status=seen
    ),
    "submit": lambda a, actor, note, seen: services.submit_assignment(
        a, actor=actor, note=note, seen_status=seen
    ),
    "resubmit": lambda a, actor, note, seen: services.submit_assignment(
        a, actor=actor, note=note, seen_status=seen
    ),
    "approve": lambda a, actor, note, seen: services.approve_assignment(
        a, actor=actor, note=note, seen_status=seen
    ),
    "return": lambda a, actor, note, seen: services.return_assignment(
        a, actor=actor, reason=note, seen_status=seen
    ),
    "cancel": lambda a, actor, note, seen: services.cancel_assignment(
        a, actor=actor, reason=note, seen_status=seen
    ),
}


@login_required
@require_POST
def step(request: AuthenticatedRequest, pk: int, action: str) -> HttpResponse:
    assignment = _fetch_for_change(request, pk)
    run = STEP_SERVICES.get(action)
    if run is None:
        raise Http404("未找到该操作")
    form = forms.StatusForm(request.POST)
    if not form.is_valid():
        _errors(request, form)
        return redirect("work_tasks:detail", pk=pk)
    with run_service(request):
        run(assignment, request.user, form.cleaned_data["note"], form.cleaned_data["status"])
        messages.success(request, f"已办理，当前状态：{assignment.get_status_display()}")
    return redirect("work_tasks:detail", pk=pk)


@login_required
@require_POST
def transfer(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    assignment = _fetch_for_change(request, pk)
    form = forms.TransferForm(request.POST)
    if not form.is_valid():
        _errors(request, form)
        return redirect("work_tasks:detail", pk=pk)
    data = form.cleaned_data
    with run_service(request):
        services.transfer_assignment(
            assignment,
            actor=request.user,
            units=form.units(),
            note=data["note"],
            deadline=data["deadline"],
        )
        messages.success(request, "已转办")
    return redirect("work_tasks:detail", pk=pk)


@login_required
@require_POST
def progress(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    assignment = _fetch_for_change(request, pk)
    form = forms.ProgressForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        milestone = None
        if data["milestone"]:
            milestone = Milestone.objects.filter(
                pk=data["milestone"], task_id=assignment.task_id
            ).first()
            if milestone is None:
                form.add_error("milestone", "请选择有效的阶段节点")
    if form.is_valid():
        try:
            services.report_progress(
                assignment,
                actor=request.user,
                content=data["content"],
                percent=data["percent"],
                milestone=milestone,
                milestone_done=data["milestone_done"],
                files=data["files"],
            )
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "进展已反馈")
            return redirect("work_tasks:detail", pk=pk)
    # The page again with everything typed kept: a refused file loses no text or tick.
    return _detail_page(request, pk, progress_form=form)


@login_required
@require_POST
def urge(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="工作任务")
    assignment = get_visible_or_404(TaskAssignment, request.user, pk=pk)
    form = forms.UrgeForm(request.POST)
    if not form.is_valid():
        _errors(request, form)
        return redirect("work_tasks:detail", pk=pk)
    with run_service(request):
        supervision.urge_assignment(
            assignment, actor=request.user, content=form.cleaned_data["content"]
        )
        messages.success(request, "已催办")
    return redirect("work_tasks:detail", pk=pk)


@login_required
@require_POST
def list_supervision(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "task.supervise", target="挂牌督办")
    assignment = _fetch_for_change(request, pk)
    form = forms.ListForm(request.POST)
    if not form.is_valid():
        _errors(request, form)
        return redirect("work_tasks:detail", pk=pk)
    with run_service(request):
        supervision.list_for_supervision(
            assignment,
            actor=request.user,
            leader=form.cleaned_data["leader"],
            reason=form.cleaned_data["reason"],
        )
        messages.success(request, "已挂牌督办")
    return redirect("work_tasks:detail", pk=pk)


@login_required
@require_POST
def meeting(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "task.supervise", target="协调会")
    assignment = _fetch_for_change(request, pk)
    form = forms.MeetingForm(request.POST)
    if not form.is_valid():
        _errors(request, form)
        return redirect("work_tasks:detail", pk=pk)
    data = form.cleaned_data
    with run_service(request):
        supervision.record_meeting(
            assignment,
            actor=request.user,
            held_on=data["held_on"],
            attendees=data["attendees"],
            minutes=data["minutes"],
        )
        messages.success(request, "协调会已记录")
    return redirect("work_tasks:detail", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def issue(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "task.issue", action=CHANGE, target="下发任务")
    form = forms.IssueForm(
        request.POST or None, request.FILES or None, initial=_department_initial(request)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            task = services.issue_task(
                actor=request.user,
                title=data["title"],
                content=data["content"],
                source=data["source"],
                units=form.units(),
                deadline=data["deadline"],
                deadline_working_days=data["working_days"],
                milestones=data["milestones"],
                indicators=data["indicators"],
                files=data["files"],
            )
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"任务 {task.number} 已下发至 {task.assignments.count()} 个单位"
            )
            first = task.assignments.order_by("pk").first()
            return (
                redirect("work_tasks:detail", pk=first.pk) if first else redirect("work_tasks:list")
            )
    return render(request, "work_tasks/issue.html", {"title": "下发任务", "form": form})


def _department_initial(request: AuthenticatedRequest) -> dict[str, Any]:
    """From the indicator page's department table (?indicator=&department=&period=): the task
    to the department, about its figure, prefilled; nothing when the figure is not visible."""
    from sizhen.indicators.catalogue.selectors import department_figure, department_figure_text

    params = request.GET
    if request.method != "GET" or not params.get("department"):
        return {}
    figure = department_figure(
        request.user,
        params.get("indicator", ""),
        params.get("department", ""),
        params.get("period", ""),
    )
    if figure is None:
        return {}
    return {
        "title": f"{figure.department.name}“{figure.indicator.name}”提升整改",
        "content": f"{department_figure_text(figure)}。请分析原因，制定整改措施并按期反馈。",
        "source": TaskSource.ALERT,
        "departments": [figure.department.pk],
        "indicators": [figure.indicator.pk],
    }


@login_required
@require_http_methods(["GET", "POST"])
def from_alert(request: AuthenticatedRequest, alert_pk: int) -> HttpResponse:
    from sizhen.monitoring.models import Alert

    require_capability(request.user, "task.issue", action=CHANGE, target="预警转任务")
    alert = get_visible_or_404(Alert, request.user, CHANGE, pk=alert_pk)
    initial = {
        "title": f"{alert.indicator.name}（{alert.region.name}）预警整改",
        "content": alert.explanation,
        "working_days": 20,
    }
    form = forms.AlertTaskForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            task = services.create_task_from_alert(
                alert,
                actor=request.user,
                title=data["title"],
                content=data["content"],
                units=form.units(),
                deadline=data["deadline"],
                deadline_working_days=data["working_days"],
                milestones=data["milestones"],
            )
        except ServiceError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已转为工作任务 {task.number}")
            first = task.assignments.order_by("pk").first()
            return (
                redirect("work_tasks:detail", pk=first.pk) if first else redirect("work_tasks:list")
            )
    return render(
        request,
        "work_tasks/issue.html",
        {"title": "预警转为工作任务", "form": form, "alert": alert},
    )


@login_required
@require_GET
def download(request: AuthenticatedRequest, pk: int) -> FileResponse:
    require_capability(request.user, "staff.pages", target="任务附件")
    row = TaskFile.objects.filter(pk=pk).select_related("report").first()
    if row is None:
        raise Http404("未找到该文件")
    # Evidence is visible with its assignment, a task's attachments with the task.
    if row.report is not None:
        get_visible_or_404(TaskAssignment, request.user, pk=row.report.assignment_id)
    else:
        get_visible_or_404(WorkTask, request.user, pk=row.task_id)
    try:
        handle = row.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("文件已不存在") from exc
    return FileResponse(handle, as_attachment=True, filename=row.name)
