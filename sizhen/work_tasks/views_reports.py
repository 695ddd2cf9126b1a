"""Work-task pages for the coordinating office and leaders: the annual-plan import, the
statistics and the monthly supervision report (督办月报)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from sizhen.core.access import CHANGE
from sizhen.core.audit import record_event
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.periods import Period
from sizhen.core.permissions import require_capability
from sizhen.core.xlsx import build_workbook, xlsx_response
from sizhen.work_tasks import forms, selectors, services
from sizhen.work_tasks.imports import import_task_plan, plan_template
from sizhen.work_tasks.models import TaskAssignment
from sizhen.work_tasks.report import build_monthly_report
from sizhen.work_tasks.views import _errors

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@login_required
@require_http_methods(["GET", "POST"])
def plan_import(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "task.issue", action=CHANGE, target="导入年度计划")
    if request.GET.get("template") == "1":
        return xlsx_response(plan_template(), "年度任务计划导入模板")
    report = None
    dry_run = False
    if request.method == "POST":
        upload = request.FILES.get("file")
        dry_run = request.POST.get("dry_run") == "1"
        if upload is None:
            messages.error(request, "请选择要导入的 Excel 文件")
        elif (upload.size or 0) > 10 * 1024 * 1024:
            messages.error(request, "文件超过 10 MB")
        else:
            report = import_task_plan(upload.read(), actor=request.user, dry_run=dry_run)
    return render(
        request,
        "work_tasks/import.html",
        {
            "title": "导入年度任务计划",
            "report": report,
            "errors": report.errors[:200] if report else [],
            "dry_run": dry_run,
        },
    )


def _year_range(request: HttpRequest) -> tuple[int, dt.date, dt.date]:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        year = services.today().year
    year = min(max(year, 2000), 2100)
    return year, dt.date(year, 1, 1), dt.date(year, 12, 31)


@login_required
@require_GET
def statistics(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="任务统计")
    year, first, last = _year_range(request)
    stats = selectors.statistics(
        request.user, issued_from=first, issued_to=last, today=services.today()
    )
    today = services.today()
    if request.GET.get("export") == "xlsx":
        return _statistics_xlsx(request, year, stats)
    return render(
        request,
        "work_tasks/statistics.html",
        {
            "title": "任务统计",
            "year": year,
            "stats": stats,
            "month": f"{today:%Y-%m}",
            "month_form": forms.MonthForm(initial={"month": f"{today:%Y-%m}"}),
            "next_year": year + 1 if year < today.year else None,
        },
    )


STAT_HEADERS = [
    "名称",
    "任务数",
    "提前",
    "按期",
    "逾期完成",
    "在办",
    "逾期未完成",
    "按期完成率（%）",
    "平均逾期（工作日）",
]


def _stat_row(row: selectors.StatRow) -> list[Any]:
    return [
        row.label,
        row.total,
        row.early,
        row.on_time,
        row.late,
        row.open,
        row.overdue_open,
        row.on_time_rate,
        row.average_delay,
    ]


def _statistics_xlsx(
    request: AuthenticatedRequest, year: int, stats: selectors.Statistics
) -> HttpResponse:
    """The three tables of the statistics page, one sheet each, with the total as last row."""
    total = _stat_row(stats.total)
    sheets = [
        (name, STAT_HEADERS, [*(_stat_row(r) for r in rows), total])
        for name, rows in (
            ("按承办单位", stats.by_department),
            ("按县市区", stats.by_district),
            ("按任务来源", stats.by_source),
        )
    ]
    record_event(
        "export.xlsx",
        actor=request.user,
        object_type=TaskAssignment._meta.label_lower,
        message=f"导出“任务统计（{year}年）”",
        after={"query": request.GET.urlencode(), "rows": stats.total.total},
    )
    return xlsx_response(build_workbook(sheets), f"任务统计{year}")


@login_required
@require_GET
def monthly_report(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="督办月报")
    form = forms.MonthForm(request.GET)
    if not form.is_valid():
        _errors(request, form)
        return redirect("work_tasks:statistics")
    month = Period.parse(form.cleaned_data["month"], "month")
    content = build_monthly_report(request.user, month, today=services.today())
    response = HttpResponse(content, content_type=DOCX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="work-tasks-{month.label}.docx"'
    return response
