from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from sizhen.core import services
from sizhen.core.access import get_visible_or_404, require_role, role_of
from sizhen.core.audit_labels import action_label, object_type_label, values_text
from sizhen.core.errors import ServiceError
from sizhen.core.filters import AuditEventFilter, JobFilter, NotificationFilter
from sizhen.core.forms import CalendarDayForm, CalendarYearForm, WorkdayQueryForm
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.listing import ListColumn, ScopedListView
from sizhen.core.models import AuditEvent, CalendarDay, CalendarYear, Job, Notification
from sizhen.core.navigation import MODULES_BY_SLUG, modules_for
from sizhen.core.notifications import unread_count
from sizhen.core.permissions import capability_roles, has_capability, require_capability
from sizhen.core.roles import Role
from sizhen.core.workcalendar import PACKAGE_LAST_YEAR, get_calendar
from sizhen.core.workqueue import QueueItem, home_panels, key_figures, work_queue
from sizhen.core.xlsx import ImportReport


@dataclass
class ServiceOutcome:
    """Whether the service call inside ``run_service`` went through."""

    ok: bool = True


@contextmanager
def run_service(request: HttpRequest) -> Iterator[ServiceOutcome]:
    """Run a service call on a page: a refusal (``ServiceError``) or a failed validation
    (Django's ``ValidationError``) is shown with ``messages.error`` and the rest of the block is
    skipped; ``outcome.ok`` tells the view which page to go to::

        with run_service(request) as outcome:
            submit_task(task, actor=request.user)
            messages.success(request, "已提交")
        if not outcome.ok: ...
    """
    outcome = ServiceOutcome()
    try:
        yield outcome
    except ServiceError as exc:
        outcome.ok = False
        messages.error(request, exc.message)
    except ValidationError as exc:
        outcome.ok = False
        groups = exc.message_dict.values() if hasattr(exc, "error_dict") else [exc.messages]
        for group in groups:
            for message in group:
                messages.error(request, message)


#: Row errors an import page lists; the rest are counted (and in the report file, if any).
IMPORT_ERRORS_ON_PAGE = 200


def xlsx_import_page(
    request: HttpRequest,
    *,
    form_class: type[Any],
    run: Callable[[bytes, bool], ImportReport],
    template: str,
    context: dict[str, Any],
) -> HttpResponse:
    """The page of an all-or-nothing XLSX import (``core.imports``): "校验" runs it as a dry run
    (``run(data, True)``), "校验并导入" writes; a refused file answers 400 with its report."""
    form = form_class()
    report = None
    checked = False
    status = 200
    if request.method == "POST":
        form = form_class(request.POST, request.FILES)
        if form.is_valid():
            checked = request.POST.get("action") != "import"
            report = run(form.cleaned_data["file"].read(), checked)
            status = 200 if report.ok else 400
        else:
            status = 400
    return render(
        request,
        template,
        {
            "form": form,
            "report": report,
            "errors": report.errors[:IMPORT_ERRORS_ON_PAGE] if report else [],
            "checked": checked,
            "checked_hint": "请重新选择该文件并点击“校验并导入”。",
            **context,
        },
        status=status,
    )


def _local(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


@login_required
def home(request: AuthenticatedRequest) -> HttpResponse:
    """Each role's work queue (待办: what waits for me, with counts, the nearest deadline and a
    link to the filtered list) and key figures, then the modules and the latest messages."""
    user = request.user
    role = role_of(user)
    today = timezone.localdate()
    items = work_queue(user, today)
    groups: dict[str, list[QueueItem]] = {}
    for item in items:
        groups.setdefault(item.module, []).append(item)
    return render(
        request,
        "core/home.html",
        {
            "modules": modules_for(role),
            "recent_notifications": Notification.objects.visible_to(user)[:5],
            "home_role": role,
            "today": today,
            "queue_groups": list(groups.items()),
            "queue_total": sum(item.count for item in items),
            "figures": key_figures(user, today),
            "panels": home_panels(user, today),
            "can_cockpit": has_capability(user, "cockpit.view"),
        },
    )


@login_required
def module_placeholder(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    module = MODULES_BY_SLUG.get(slug)
    if module is None:
        raise Http404("未找到该模块")
    require_role(request.user, *module.roles, target=module.label)
    if module.url_name:
        return redirect(module.url_name)
    if module.items:
        items = [item for item in module.items if role_of(request.user) in item.roles]
        return render(request, "core/system.html", {"module": module, "items": items})
    return render(request, "core/module_placeholder.html", {"module": module})


@login_required
def system_index(request: AuthenticatedRequest) -> HttpResponse:
    module = MODULES_BY_SLUG["system"]
    require_role(request.user, *module.roles, target="系统管理")
    items = [item for item in module.items if role_of(request.user) in item.roles]
    return render(request, "core/system.html", {"module": module, "items": items})


class AuditEventListView(ScopedListView):
    model = AuditEvent
    title = "审计日志"
    roles = capability_roles("audit.view")
    filterset_class = AuditEventFilter
    default_sort = "-at"
    export_name = "审计日志"
    search_fields = ("object_repr", "message", "object_id")
    search_placeholder = "对象、编号或说明"
    columns = (
        ListColumn("at", "时间", sort="at", render=lambda e: _local(e.at)),
        ListColumn("actor_label", "操作人", sort="actor_label"),
        ListColumn("actor_role", "角色", render=lambda e: _role_label(e.actor_role)),
        ListColumn("action", "操作", sort="action", render=lambda e: action_label(e.action)),
        ListColumn("object_type", "对象类型", render=lambda e: object_type_label(e.object_type)),
        ListColumn("object_id", "对象编号"),
        ListColumn("object_repr", "对象"),
        ListColumn("message", "说明"),
        ListColumn("client_address", "客户端地址"),
        ListColumn("before", "变更前", render=lambda e: values_text(e.object_type, e.before)),
        ListColumn("after", "变更后", render=lambda e: values_text(e.object_type, e.after)),
    )


def _role_label(value: str) -> str:
    """The role's Chinese name (the event stores its code); an unknown code as stored."""
    return str(Role(value).label) if value in Role.values else value


class JobListView(ScopedListView):
    model = Job
    title = "后台任务"
    filterset_class = JobFilter
    default_sort = "-created_at"
    export_name = "后台任务"
    roles = capability_roles("jobs.view")
    template_name = "core/job_list.html"
    columns = (
        ListColumn("pk", "编号", sort="id"),
        # The job's Chinese name; the internal name (core.deliver_notifications) is for the
        # worker's log, not for the office (sorting by it groups the same kind of job).
        ListColumn("label", "任务", sort="name"),
        ListColumn("status", "状态", sort="status"),
        ListColumn("progress", "进度", render=lambda j: _progress(j)),
        ListColumn("attempts", "尝试次数"),
        ListColumn(
            "created_at", "创建时间", sort="created_at", render=lambda j: _local(j.created_at)
        ),
        ListColumn("finished_at", "完成时间", render=lambda j: _local(j.finished_at)),
    )


def _progress(job: Job) -> str:
    percent = job.percent
    text = f"{percent}%" if percent is not None else "—"
    if job.progress_message:
        text += f" {job.progress_message}"
    return text


@login_required
def job_progress(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """A fragment the pages poll (htmx) to show a long job's progress bar."""
    job = get_visible_or_404(Job, request.user, pk=pk)
    return render(request, "core/_job_progress.html", {"job": job})


class NotificationListView(ScopedListView):
    model = Notification
    title = "站内消息"
    default_sort = "-created_at"
    filterset_class = NotificationFilter
    search_fields = ("subject", "body")
    search_placeholder = "标题或内容"
    template_name = "core/inbox.html"
    columns = (
        ListColumn("created_at", "时间", sort="created_at", render=lambda n: _local(n.created_at)),
        ListColumn("category", "类别", render=lambda n: n.category_label),
        ListColumn("subject", "标题", link=lambda n: n.link or ""),
        ListColumn("body", "内容"),
        ListColumn("read_at", "状态", render=lambda n: "已读" if n.read_at else "未读"),
    )

    def extra_context(self) -> dict[str, Any]:
        return {"unread_total": unread_count(self.request.user)}


#: At most this many selected messages are marked in one request (a page holds 25).
MARK_READ_LIMIT = 500


@login_required
@require_POST
def notifications_mark_read(request: AuthenticatedRequest) -> HttpResponse:
    """Mark the selected messages (``ids``) read, or all of one's messages (``scope=all``, also
    when nothing says otherwise); then back to the inbox with its filters."""
    selected = request.POST.get("scope") == "selected"
    ids: list[int] | None = None
    if selected:
        ids = [int(v) for v in request.POST.getlist("ids")[:MARK_READ_LIMIT] if v.isdigit()]
    target = reverse("core:inbox")
    query = QueryDict(request.POST.get("query", "")[:1000]).urlencode()
    if query:
        target += f"?{query}"
    if ids == []:
        messages.error(request, "请先勾选要标为已读的消息")
        return redirect(target)
    count = services.mark_notifications_read(actor=request.user, ids=ids)
    if selected:
        messages.success(request, f"已将 {count} 条消息标为已读")
    else:
        messages.success(request, "已全部标为已读")
    return redirect(target)


@login_required
def calendar_page(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "calendar.view", target="工作日历")
    calendar = get_calendar()
    query = WorkdayQueryForm(request.GET or None)
    answer = None
    if query.is_bound and query.is_valid():
        start = query.cleaned_data["start"]
        try:
            if query.cleaned_data.get("days") is not None:
                result = calendar.add_working_days(start, query.cleaned_data["days"])
                answer = {
                    "text": f"{start} 起 {query.cleaned_data['days']} 个工作日后为 "
                    + calendar.info(result.date).describe(),
                    "provisional": result.provisional,
                    "years": result.provisional_years,
                }
            else:
                count = calendar.working_days_between(start, query.cleaned_data["end"])
                answer = {
                    "text": f"{start} 至 {query.cleaned_data['end']} 之间（不含起始日）"
                    f"共 {count.days} 个工作日",
                    "provisional": count.provisional,
                    "years": count.provisional_years,
                }
        except ValueError as exc:
            query.add_error(None, str(exc))
    return render(
        request,
        "core/calendar.html",
        {
            "query": query,
            "answer": answer,
            "day_form": CalendarDayForm(),
            "year_form": CalendarYearForm(),
            "overrides": CalendarDay.objects.all(),
            "years": CalendarYear.objects.all(),
            "known_until": PACKAGE_LAST_YEAR,
            "can_edit": has_capability(request.user, "calendar.edit"),
        },
    )


@login_required
@require_POST
def calendar_set_day(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "calendar.edit", target="工作日历维护")
    form = CalendarDayForm(request.POST)
    if form.is_valid():
        try:
            services.set_calendar_day(actor=request.user, **form.cleaned_data)
            messages.success(request, f"已保存 {form.cleaned_data['date']} 的日历调整")
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
    else:
        messages.error(request, _form_errors(form))
    return redirect("core:calendar")


@login_required
@require_POST
def calendar_delete_day(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "calendar.edit", target="工作日历维护")
    day = CalendarDay.objects.filter(pk=pk).first()
    if day is None:
        raise Http404("未找到该记录")
    services.delete_calendar_day(day, actor=request.user)
    messages.success(request, f"已删除 {day.date} 的日历调整")
    return redirect("core:calendar")


@login_required
@require_POST
def calendar_confirm_year(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "calendar.edit", target="工作日历维护")
    form = CalendarYearForm(request.POST)
    if form.is_valid():
        try:
            services.confirm_calendar_year(actor=request.user, **form.cleaned_data)
            messages.success(request, f"已确认 {form.cleaned_data['year']} 年的官方安排")
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
    else:
        messages.error(request, _form_errors(form))
    return redirect("core:calendar")


def _form_errors(form: Any) -> str:
    """The form's errors as one Chinese sentence, each prefixed by its field's label."""
    parts = []
    for name, errors in form.errors.items():
        text = " ".join(str(e) for e in errors)
        field = form.fields.get(name)
        parts.append(f"{field.label}：{text}" if field is not None else text)
    return "；".join(parts)


def healthz(request: HttpRequest) -> HttpResponse:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
