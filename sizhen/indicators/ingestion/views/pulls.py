"""Pull source pages (数据对接): the list, the data administrators' forms and running a pull now.
Mounted with the filling pages at /monitoring/filling/pulls/."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from sizhen.core.access import CHANGE, get_visible_or_404
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.listing import ListColumn, PageAction, ScopedListView
from sizhen.core.permissions import capability_roles, require_capability
from sizhen.indicators.ingestion import pulls
from sizhen.indicators.ingestion.forms import PullSourceForm
from sizhen.indicators.ingestion.models import PullSource
from sizhen.indicators.ingestion.views.loads import _local

# --- pull sources --------------------------------------------------------------------------


class PullSourceListView(ScopedListView):
    model = PullSource
    title = "数据对接"
    roles = capability_roles("data.admin")
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
def pull_new(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "data.admin", target="新增数据对接")
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
def pull_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
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
def pull_run(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    source = get_visible_or_404(PullSource, request.user, CHANGE, pk=pk)
    queued = pulls.request_pull_run(source, actor=request.user)
    messages.success(request, f"已加入后台队列（任务 #{queued.pk}），稍后刷新查看结果")
    return redirect("indicator_filling:pull_edit", pk=source.pk)
