"""The request ledger (诉求台账), my requests (我的诉求), portal submission, staff registration
and the public results page (办理结果公开)."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from sizhen.core.access import role_of
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.listing import ListColumn, PageAction, ScopedListView
from sizhen.core.permissions import capability_roles, has_capability, require_capability
from sizhen.core.roles import Role
from sizhen.enterprise_requests import services
from sizhen.enterprise_requests.choices import (
    Channel,
)
from sizhen.enterprise_requests.forms import (
    MineFilter,
    PortalForm,
    RequestFilter,
    StaffIntakeForm,
)
from sizhen.enterprise_requests.models import (
    EnterpriseRequest,
)
from sizhen.enterprise_requests.selectors import (
    mask_name,
    mask_phone,
    overdue,
    requests_visible_to,
    soon_due,
)
from sizhen.enterprise_requests.views.common import detail_url


class RequestListView(ScopedListView):
    """The request ledger (诉求台账) for staff, scoped to what each role may see."""

    model = EnterpriseRequest
    title = "诉求台账"
    roles = capability_roles("staff.pages")
    filterset_class = RequestFilter
    default_sort = "-submitted_at"
    export_name = "诉求台账"
    search_fields = ("number", "title", "text", "enterprise__name")
    search_placeholder = "编号、标题、内容或企业"
    template_name = "enterprise_requests/ledger.html"
    columns = (
        ListColumn("number", "编号", sort="number", link=detail_url),
        ListColumn("title", "标题"),
        ListColumn("enterprise.name", "企业", sort="enterprise__name"),
        ListColumn("channel", "渠道", sort="channel"),
        ListColumn("kind", "类型", sort="kind"),
        ListColumn("category.name", "分类", sort="category__code"),
        ListColumn("lead_department.name", "主办单位", sort="lead_department__code"),
        ListColumn("status", "状态", sort="status"),
        ListColumn("deadline", "办理期限", sort="deadline", render=lambda r: r.deadline_label),
        ListColumn("overdue", "逾期", render=lambda r: "逾期" if r.is_overdue() else ""),
        ListColumn("contact_phone", "联系电话", render=lambda r: mask_phone(r.contact_phone)),
        ListColumn(
            "submitted_at",
            "提交时间",
            sort="submitted_at",
            render=lambda r: f"{timezone.localtime(r.submitted_at):%Y-%m-%d %H:%M}",
        ),
        ListColumn("first_contact", "首次联系", render=lambda r: r.first_contact_label),
        ListColumn(
            "escalation_tier",
            "升级督办",
            sort="escalation_tier",
            render=lambda r: r.escalation_label,
        ),
    )

    def base_queryset(self, action: str) -> QuerySet[Any]:
        return requests_visible_to(self.request.user, action)

    def page_actions(self) -> list[PageAction]:
        actions = []
        if has_capability(self.request.user, "request.intake"):
            actions.append(
                PageAction("登记诉求", reverse("enterprise_requests:register"), "primary")
            )
            actions.append(PageAction("座谈会", reverse("enterprise_requests:forum_list")))
        if has_capability(self.request.user, "request_category.edit"):
            actions.append(PageAction("诉求分类", reverse("enterprise_requests:category_list")))
        actions.append(PageAction("公开结果", reverse("enterprise_requests:public")))
        return actions

    def extra_context(self) -> dict[str, Any]:
        visible = requests_visible_to(self.request.user)
        late = overdue(visible).order_by("deadline")
        soon = soon_due(visible).order_by("deadline")
        return {
            "overdue_count": late.count(),
            "overdue_items": list(late[:10]),
            "soon_count": soon.count(),
            "soon_items": list(soon[:10]),
        }


class MyRequestsView(ScopedListView):
    """An enterprise's own requests (我的诉求)."""

    model = EnterpriseRequest
    title = "我的诉求"
    roles = capability_roles("request.submit")
    filterset_class = MineFilter
    default_sort = "-submitted_at"
    search_fields = ("number", "title", "text")
    search_placeholder = "编号、标题或内容"
    columns = (
        ListColumn("number", "编号", sort="number", link=detail_url),
        ListColumn("title", "标题"),
        ListColumn("category.name", "分类"),
        ListColumn("status", "状态", sort="status"),
        ListColumn("lead_department.name", "办理单位"),
        ListColumn(
            "submitted_at",
            "提交时间",
            sort="submitted_at",
            render=lambda r: f"{timezone.localtime(r.submitted_at):%Y-%m-%d}",
        ),
        ListColumn("satisfaction", "评价"),
    )

    def base_queryset(self, action: str) -> QuerySet[Any]:
        return requests_visible_to(self.request.user, action)

    def page_actions(self) -> list[PageAction]:
        return [PageAction("提交诉求", reverse("enterprise_requests:submit"), "primary")]


@login_required
@require_GET
def index(request: AuthenticatedRequest) -> HttpResponseBase:
    if role_of(request.user) == Role.ENTERPRISE:
        return redirect("enterprise_requests:mine")
    return RequestListView.as_view()(request)


@login_required
@require_http_methods(["GET", "POST"])
def submit(request: AuthenticatedRequest) -> HttpResponse:
    """The enterprise portal's submission page (PC and phone width)."""
    require_capability(request.user, "request.submit", target="提交诉求")
    user: Any = request.user
    enterprise = user.enterprise
    initial = {
        "contact_name": getattr(enterprise, "contact_name", "") or user.full_name,
        "contact_phone": getattr(enterprise, "contact_phone", ""),
    }
    form = PortalForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created, _ = services.submit_request(
                actor=user,
                channel=Channel.PORTAL,
                text=data["text"],
                title=data["title"],
                category=data["category"],
                kind=data["kind"],
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                publishable=data["publishable"],
                files=data["attachments"],
            )
        except services.RequestError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"诉求已提交，编号 {created.number}")
            return redirect("enterprise_requests:detail", pk=created.pk)
    return render(
        request,
        "enterprise_requests/submit.html",
        {"title": "提交诉求", "form": form, "multipart": True},
    )


@login_required
@require_http_methods(["GET", "POST"])
def register(request: AuthenticatedRequest) -> HttpResponse:
    """Staff registration of a request from a forum, a window, a WeChat group or the hotline."""
    require_capability(request.user, "request.intake", target="登记诉求")
    initial: dict[str, Any] = {}
    forum_id = request.GET.get("forum")
    if forum_id and forum_id.isdigit():
        initial = {"forum": forum_id, "channel": Channel.STAFF_FORUM}
    form = StaffIntakeForm(
        request.POST or None, request.FILES or None, actor=request.user, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created, _ = services.submit_request(
                actor=request.user,
                channel=data["channel"],
                text=data["text"],
                title=data["title"],
                category=data["category"],
                kind=data["kind"],
                enterprise=data["enterprise"],
                contact_name=data["contact_name"],
                contact_phone=data["contact_phone"],
                region=data["region"],
                address=data["address"],
                publishable=data["publishable"],
                forum=data["forum"],
                files=data["attachments"],
            )
        except services.RequestError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"诉求已登记，编号 {created.number}")
            return redirect("enterprise_requests:detail", pk=created.pk)
    return render(
        request,
        "enterprise_requests/submit.html",
        {"title": "登记诉求", "form": form, "multipart": True, "staff": True},
    )


# --- public results -----------------------------------------------------------------------------


_PHONE = re.compile(r"1\d{10}")


def _mask_text(text: str) -> str:
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), text)


@require_GET
def public(request: HttpRequest) -> HttpResponse:
    """Published results (办理结果公开), no login; enterprise and personal data masked."""
    qs = (
        EnterpriseRequest.objects.filter(published=True, publishable=True, status="closed")
        .select_related("category", "enterprise", "lead_department")
        .order_by("-closed_at", "-id")
    )
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    rows = [
        {
            "number": r.number,
            "category": r.category.name if r.category else "",
            "kind": r.get_kind_display(),
            "enterprise": mask_name(r.enterprise.name) if r.enterprise else "",
            "title": _mask_text(r.title),
            "reply": _mask_text(r.reply_text),
            "department": r.lead_department.name if r.lead_department else "",
            "closed_at": r.closed_at,
            "satisfaction": r.get_satisfaction_display() if r.satisfaction else "",
        }
        for r in page.object_list
    ]
    return render(
        request,
        "enterprise_requests/public.html",
        {"title": "诉求办理结果公开", "rows": rows, "page": page},
    )
