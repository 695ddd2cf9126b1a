"""Face-to-face forums (面对面座谈会) and the request taxonomy (诉求词条库)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from sizhen.core.access import CHANGE, get_visible_or_404
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.listing import ListColumn, PageAction, ScopedListView
from sizhen.core.permissions import capability_roles, has_capability, require_capability
from sizhen.enterprise_requests import services
from sizhen.enterprise_requests.forms import (
    CategoryForm,
    ForumForm,
)
from sizhen.enterprise_requests.models import (
    Forum,
    RequestCategory,
)
from sizhen.enterprise_requests.selectors import (
    requests_visible_to,
)

# --- forums -------------------------------------------------------------------------------------


class ForumListView(ScopedListView):
    model = Forum
    title = "面对面座谈会"
    roles = capability_roles("staff.pages")
    default_sort = "-held_on"
    search_fields = ("topic", "leaders")
    search_placeholder = "主题或参会领导"
    columns = (
        ListColumn(
            "held_on",
            "日期",
            sort="held_on",
            link=lambda f: reverse("enterprise_requests:forum_detail", args=[f.pk]),
        ),
        ListColumn("topic", "主题"),
        ListColumn("region.name", "区域"),
        ListColumn("leaders", "参会领导"),
        ListColumn("requests", "收集诉求", render=lambda f: f.requests.count()),
    )

    def base_queryset(self, action: str) -> QuerySet[Any]:
        return super().base_queryset(action).select_related("region")

    def page_actions(self) -> list[PageAction]:
        if has_capability(self.request.user, "request.intake"):
            return [
                PageAction("登记座谈会", reverse("enterprise_requests:forum_create"), "primary")
            ]
        return []


@login_required
@require_http_methods(["GET", "POST"])
def forum_create(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "request.intake", target="登记座谈会")
    form = ForumForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            forum = services.create_forum(actor=request.user, **form.cleaned_data)
        except services.RequestError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "座谈会已登记")
            return redirect("enterprise_requests:forum_detail", pk=forum.pk)
    return render(request, "enterprise_requests/form.html", {"title": "登记座谈会", "form": form})


@login_required
@require_GET
def forum_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="座谈会")
    forum = get_visible_or_404(Forum, request.user, pk=pk)
    return render(
        request,
        "enterprise_requests/forum_detail.html",
        {
            "title": f"座谈会：{forum.topic}",
            "forum": forum,
            "enterprises": forum.enterprises.order_by("name"),
            "requests": requests_visible_to(request.user)
            .filter(forum=forum)
            .order_by("submitted_at"),
            "can_register": has_capability(request.user, "request.intake"),
        },
    )


# --- the taxonomy -------------------------------------------------------------------------------


class CategoryListView(ScopedListView):
    model = RequestCategory
    title = "诉求分类"
    roles = capability_roles("request_category.edit")
    default_sort = "code"
    export_name = "诉求分类"
    search_fields = ("code", "name", "description")
    columns = (
        ListColumn(
            "code",
            "编码",
            sort="code",
            link=lambda c: reverse("enterprise_requests:category_edit", args=[c.pk]),
        ),
        ListColumn("name", "名称"),
        ListColumn("parent.name", "上级分类"),
        ListColumn("default_kind", "默认类型"),
        ListColumn("difficulty", "难度"),
        ListColumn(
            "time_limit_days", "时限（工作日）", render=lambda c: c.time_limit_days or "当日"
        ),
        ListColumn(
            "first_contact_hours",
            "首次联系（小时）",
            render=lambda c: (
                c.first_contact_hours
                if c.first_contact_hours is not None
                else f"{services.first_contact_hours(None)}（默认）"
            ),
        ),
        ListColumn("active", "启用"),
    )

    def base_queryset(self, action: str) -> QuerySet[Any]:
        return super().base_queryset(action).select_related("parent")

    def page_actions(self) -> list[PageAction]:
        return [PageAction("新增分类", reverse("enterprise_requests:category_create"), "primary")]


@login_required
@require_http_methods(["GET", "POST"])
def category_edit(request: AuthenticatedRequest, pk: int | None = None) -> HttpResponse:
    require_capability(request.user, "request_category.edit", target="诉求分类")
    category = get_visible_or_404(RequestCategory, request.user, CHANGE, pk=pk) if pk else None
    form = CategoryForm(request.POST or None, instance=category)
    if request.method == "POST" and form.is_valid():
        values = {
            k: form.cleaned_data[k] for k in form.Meta.fields if k != "code" or category is None
        }
        try:
            services.save_category(actor=request.user, category=category, **values)
        except services.RequestError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "诉求分类已保存")
            return redirect("enterprise_requests:category_list")
    title = f"编辑诉求分类 {category.code}" if category else "新增诉求分类"
    return render(request, "enterprise_requests/form.html", {"title": title, "form": form})
