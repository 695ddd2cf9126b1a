"""Work-task pages for the coordinating office and leaders: the annual-plan import, the
statistics and the monthly supervision report (督办月报)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from sizhen.core.access import CHANGE, require_role
from sizhen.core.roles import STAFF_ROLES
from sizhen.core.xlsx import xlsx_response
from sizhen.work_tasks import forms, selectors, services
from sizhen.work_tasks.imports import import_task_plan, plan_template
from sizhen.work_tasks.report import build_monthly_report
from sizhen.work_tasks.views import _errors
from sizhen.work_tasks.workflow import MANAGERS

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@login_required
@require_http_methods(["GET", "POST"])
def plan_import(request: HttpRequest) -> HttpResponse:
    require_role(request.user, *MANAGERS, action=CHANGE, target="导入年度计划")
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
def statistics(request: HttpRequest) -> HttpResponse:
    require_role(request.user, *STAFF_ROLES, target="任务统计")
    year, first, last = _year_range(request)
    stats = selectors.statistics(
        request.user, issued_from=first, issued_to=last, today=services.today()
    )
    today = services.today()
    return render(
        request,
        "work_tasks/statistics.html",
        {
            "title": f"任务统计（{year}年）",
            "year": year,
            "stats": stats,
            "month": f"{today:%Y-%m}",
            "month_form": forms.MonthForm(initial={"month": f"{today:%Y-%m}"}),
        },
    )


@login_required
@require_GET
def monthly_report(request: HttpRequest) -> HttpResponse:
    require_role(request.user, *STAFF_ROLES, target="督办月报")
    form = forms.MonthForm(request.GET)
    if not form.is_valid():
        _errors(request, form)
        return redirect("work_tasks:statistics")
    year, month = (int(x) for x in form.cleaned_data["month"].split("-"))
    content = build_monthly_report(request.user, year, month, today=services.today())
    response = HttpResponse(content, content_type=DOCX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="work-tasks-{year}-{month:02d}.docx"'
    return response
