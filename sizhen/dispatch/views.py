"""Dispatch catalogue (派单目录) pages of the coordinating office (营商办): the list, the entry
form, loading the defaults, and the suggester's model status with a retrain button."""

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
from sizhen.core.permissions import capability_roles, require_capability
from sizhen.dispatch.forms import CatalogueEntryForm
from sizhen.dispatch.models import DispatchCatalogueEntry, DispatchExample, DispatchModel
from sizhen.dispatch.services import (
    load_default_catalogue,
    request_training,
    save_catalogue_entry,
)

TARGET = "派单目录"


def _edit_url(entry: DispatchCatalogueEntry) -> str:
    return reverse("dispatch:entry_edit", args=[entry.pk])


class CatalogueListView(ScopedListView):
    model = DispatchCatalogueEntry
    title = "派单目录"
    roles = capability_roles("dispatch_catalogue.edit")
    default_sort = "department__code"
    export_name = "派单目录"
    search_fields = ("department__name", "department__short_name", "keywords", "typical_matters")
    search_placeholder = "部门、关键词或事项"
    columns = (
        ListColumn("department.name", "部门", sort="department__code", link=_edit_url),
        ListColumn("department.region.name", "区划"),
        ListColumn("typical_matters", "典型事项数", render=lambda e: len(e.matter_lines)),
        ListColumn("keywords", "关键词数", render=lambda e: len(e.keyword_lines)),
        ListColumn(
            "is_active",
            "参与派单",
            sort="is_active",
            render=lambda e: "是" if e.is_active else "否",
        ),
        ListColumn("version", "版本", sort="version"),
        ListColumn("updated_at", "修改时间", sort="updated_at"),
    )

    def base_queryset(self, action: str) -> QuerySet[Any]:
        return super().base_queryset(action).select_related("department__region")

    def page_actions(self) -> list[PageAction]:
        return [
            PageAction("新增条目", reverse("dispatch:entry_new"), "primary"),
            PageAction("智能派单模型", reverse("dispatch:model_status")),
        ]


def _form_page(request: HttpRequest, form: CatalogueEntryForm, title: str) -> HttpResponse:
    return render(
        request,
        "dispatch/entry_form.html",
        {"title": title, "form": form, "cancel_url": reverse("dispatch:catalogue_list")},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def entry_new(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "dispatch_catalogue.edit", target=TARGET)
    form = CatalogueEntryForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        entry = save_catalogue_entry(
            department=data["department"],
            responsibilities=data["responsibilities"],
            typical_matters=data["typical_matters"],
            keywords=data["keywords"],
            is_active=data["is_active"],
            actor=request.user,
        )
        messages.success(request, f"已新增{entry}")
        return redirect("dispatch:catalogue_list")
    return _form_page(request, form, "新增派单目录条目")


@login_required
@require_http_methods(["GET", "POST"])
def entry_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "dispatch_catalogue.edit", target=TARGET)
    entry = get_visible_or_404(
        DispatchCatalogueEntry.objects.select_related("department"), request.user, CHANGE, pk=pk
    )
    form = CatalogueEntryForm(request.POST if request.method == "POST" else None, entry=entry)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved = save_catalogue_entry(
            department=entry.department,
            responsibilities=data["responsibilities"],
            typical_matters=data["typical_matters"],
            keywords=data["keywords"],
            is_active=data["is_active"],
            actor=request.user,
        )
        messages.success(request, f"已保存{saved}（第 {saved.version} 版）")
        return redirect("dispatch:catalogue_list")
    return _form_page(request, form, f"编辑{entry}（第 {entry.version} 版）")


@login_required
@require_POST
def load_defaults(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "dispatch_catalogue.edit", target=TARGET)
    result = load_default_catalogue(actor=request.user)
    text = f"已载入默认派单目录：新建 {result.created} 条，保留已有 {result.unchanged} 条"
    if result.unmatched:
        text += "；本平台没有以下部门：" + "、".join(result.unmatched)
    messages.success(request, text)
    return redirect("dispatch:model_status")


@login_required
@require_GET
def model_status(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "dispatch_catalogue.edit", target=TARGET)
    models = list(DispatchModel.objects.defer("blob")[:20])
    return render(
        request,
        "dispatch/model_status.html",
        {
            "title": "智能派单模型",
            "models": models,
            "active": next((m for m in models if m.is_active), None),
            "n_examples": DispatchExample.objects.count(),
            "n_entries": DispatchCatalogueEntry.objects.filter(is_active=True).count(),
        },
    )


@login_required
@require_POST
def train(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "dispatch_catalogue.edit", target=TARGET)
    request_training(actor=request.user)
    messages.success(request, "已提交训练任务，完成后若交叉验证准确率不低于现有模型将自动启用")
    return redirect("dispatch:model_status")
