"""Organisations admin pages (组织机构管理): regions, departments and enterprises.

Every page opens only for staff roles and reads through the scope; every change page fetches
its object with ``action="change"``, so an object the user may not change answers 404 (audited)
whether it exists or not. Who may change what is the model's ``scope_q(actor, "change")``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from sizhen.core.access import CHANGE, Actor, get_visible_or_404, require_role
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.listing import ListColumn, PageAction, ScopedListView
from sizhen.core.permissions import capability_roles, require_capability
from sizhen.core.xlsx import xlsx_response
from sizhen.organisations import services
from sizhen.organisations.filters import DepartmentFilter, EnterpriseFilter, RegionFilter
from sizhen.organisations.forms import (
    MAX_UPLOAD_BYTES,
    DepartmentForm,
    EnterpriseForm,
    ImportUploadForm,
    RegionForm,
    apply_service_errors,
)
from sizhen.organisations.imports import (
    IMPORT_KINDS,
    ImportKind,
    discard_staged,
    read_staged,
    read_staged_report,
    stage_upload,
)
from sizhen.organisations.models import Department, Enterprise, Region
from sizhen.organisations.selectors import can_change, can_change_any
from sizhen.organisations.validators import mask_phone

#: How many row errors the page shows; the downloadable report has all of them.
ERRORS_ON_PAGE = 200
#: Staged import files remembered per session (older ones are deleted).
STAGED_PER_SESSION = 10
_SESSION_KEY = "organisations_imports"


def _require_page(actor: Actor, target: str) -> None:
    # Enterprises use the API and their own modules; the list scope narrows what staff see.
    require_capability(actor, "staff.pages", target=target)


def _require_change_any(actor: Actor, model: type[Model], target: str) -> None:
    """404 (audited) unless the model's scope lets the actor change at least something."""
    if not can_change_any(actor, model):
        require_role(actor, action=CHANGE, target=target)


def _change_actions(actor: Actor, model: type[Model], prefix: str) -> list[PageAction]:
    if not can_change_any(actor, model):
        return []
    return [
        PageAction("新增", reverse(f"organisations:{prefix}_new"), "primary"),
        PageAction("导入", reverse(f"organisations:{prefix}_import")),
        PageAction("下载模板", reverse(f"organisations:{prefix}_template")),
    ]


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


# --- lists --------------------------------------------------------------------------------


class RegionListView(ScopedListView):
    model = Region
    title = "行政区划"
    roles = capability_roles("staff.pages")
    filterset_class = RegionFilter
    default_sort = "path"
    export_name = "行政区划"
    search_fields = ("name", "code")
    search_placeholder = "名称或区划代码"
    columns = (
        ListColumn(
            "code",
            "区划代码",
            sort="code",
            link=lambda r: reverse("organisations:region_detail", args=[r.code]),
        ),
        ListColumn("name", "名称", sort="name"),
        ListColumn("level", "层级", sort="level"),
        ListColumn("parent.name", "上级"),
        ListColumn("sort_order", "排序", sort="sort_order"),
        ListColumn("is_active", "启用"),
    )

    def base_queryset(self, action: str) -> Any:
        return super().base_queryset(action).select_related("parent")

    def page_actions(self) -> list[PageAction]:
        return _change_actions(self.request.user, Region, "region")


class DepartmentListView(ScopedListView):
    model = Department
    title = "部门"
    roles = capability_roles("staff.pages")
    filterset_class = DepartmentFilter
    default_sort = "code"
    export_name = "部门"
    search_fields = ("name", "code", "short_name")
    search_placeholder = "名称、简称或编码"
    columns = (
        ListColumn(
            "code",
            "部门编码",
            sort="code",
            link=lambda d: reverse("organisations:department_detail", args=[d.code]),
        ),
        ListColumn("name", "名称", sort="name"),
        ListColumn("short_name", "简称"),
        ListColumn("type", "类型", sort="type"),
        ListColumn("region.name", "所属区划", sort="region__path"),
        ListColumn("is_active", "启用"),
    )

    def base_queryset(self, action: str) -> Any:
        return super().base_queryset(action).select_related("region")

    def page_actions(self) -> list[PageAction]:
        return _change_actions(self.request.user, Department, "department")


class EnterpriseListView(ScopedListView):
    model = Enterprise
    title = "企业"
    roles = capability_roles("staff.pages")
    filterset_class = EnterpriseFilter
    default_sort = "name"
    export_name = "企业"
    search_fields = ("name", "uscc")
    search_placeholder = "企业名称或信用代码"
    columns = (
        ListColumn(
            "uscc",
            "统一社会信用代码",
            sort="uscc",
            link=lambda e: reverse("organisations:enterprise_detail", args=[e.uscc]),
        ),
        ListColumn("name", "企业名称", sort="name"),
        ListColumn("industry_code", "行业代码", sort="industry_code"),
        ListColumn("region.name", "所属区划", sort="region__path"),
        ListColumn("size", "规模", sort="size"),
        ListColumn("contact_name", "联系人"),
        # Personal data (个人信息) is masked in lists and exports alike.
        ListColumn("contact_phone", "联系电话", render=lambda e: mask_phone(e.contact_phone)),
        ListColumn("is_active", "存续"),
    )

    def base_queryset(self, action: str) -> Any:
        return super().base_queryset(action).select_related("region")

    def page_actions(self) -> list[PageAction]:
        return _change_actions(self.request.user, Enterprise, "enterprise")


# --- details ------------------------------------------------------------------------------


def _detail(
    request: AuthenticatedRequest,
    *,
    title: str,
    obj: Model,
    fields: list[tuple[str, Any]],
    edit_url: str,
    list_url: str,
    list_label: str,
    sections: list[dict[str, Any]] | None = None,
) -> HttpResponse:
    return render(
        request,
        "organisations/detail.html",
        {
            "title": title,
            "object": obj,
            "fields": fields,
            "edit_url": edit_url if can_change(request.user, obj) else "",
            "list_url": list_url,
            "list_label": list_label,
            "sections": sections or [],
        },
    )


@login_required
def region_detail(request: AuthenticatedRequest, code: str) -> HttpResponse:
    _require_page(request.user, "行政区划")
    region = get_visible_or_404(Region.objects.select_related("parent"), request.user, code=code)
    children = Region.objects.visible_to(request.user).filter(parent=region).order_by("path")
    departments = Department.objects.visible_to(request.user).filter(region=region)
    enterprise_count = (
        Enterprise.objects.visible_to(request.user)
        .filter(region__path__startswith=region.path)
        .count()
    )
    return _detail(
        request,
        title=f"行政区划：{region.name}",
        obj=region,
        fields=[
            ("区划代码", region.code),
            ("名称", region.name),
            ("层级", region.get_level_display()),
            ("上级", region.parent.name if region.parent else "（顶级）"),
            ("排序", region.sort_order),
            ("启用", _yes_no(region.is_active)),
            ("辖区内企业", f"{enterprise_count} 家"),
        ],
        edit_url=reverse("organisations:region_edit", args=[region.code]),
        list_url=reverse("organisations:region_list"),
        list_label="行政区划",
        sections=[
            {
                "title": "下级区划",
                "headers": ["区划代码", "名称", "层级"],
                "rows": [
                    [
                        (c.code, reverse("organisations:region_detail", args=[c.code])),
                        (c.name, ""),
                        (c.get_level_display(), ""),
                    ]
                    for c in children
                ],
            },
            {
                "title": "本级部门",
                "headers": ["部门编码", "名称", "类型"],
                "rows": [
                    [
                        (d.code, reverse("organisations:department_detail", args=[d.code])),
                        (d.name, ""),
                        (d.get_type_display(), ""),
                    ]
                    for d in departments
                ],
            },
        ],
    )


@login_required
def department_detail(request: AuthenticatedRequest, code: str) -> HttpResponse:
    _require_page(request.user, "部门")
    department = get_visible_or_404(
        Department.objects.select_related("region", "superior"), request.user, code=code
    )
    return _detail(
        request,
        title=f"部门：{department.name}",
        obj=department,
        fields=[
            ("部门编码", department.code),
            ("名称", department.name),
            ("简称", department.short_name),
            ("类型", department.get_type_display()),
            ("所属区划", f"{department.region.name}（{department.region.code}）"),
            ("主要职责", department.responsibilities),
            ("上级业务主管部门", department.superior.name if department.superior else "—"),
            ("排序", department.sort_order),
            ("启用", _yes_no(department.is_active)),
        ],
        edit_url=reverse("organisations:department_edit", args=[department.code]),
        list_url=reverse("organisations:department_list"),
        list_label="部门",
    )


@login_required
def enterprise_detail(request: AuthenticatedRequest, uscc: str) -> HttpResponse:
    _require_page(request.user, "企业")
    enterprise = get_visible_or_404(
        Enterprise.objects.select_related("region"), request.user, uscc=uscc
    )
    # The full number is shown only to those who maintain the record (个人信息最小必要).
    full_phone = can_change(request.user, enterprise)
    phone = enterprise.contact_phone if full_phone else mask_phone(enterprise.contact_phone)
    return _detail(
        request,
        title=f"企业：{enterprise.name}",
        obj=enterprise,
        fields=[
            ("统一社会信用代码", enterprise.uscc),
            ("企业名称", enterprise.name),
            ("行业代码", enterprise.industry_code),
            ("所属区划", f"{enterprise.region.name}（{enterprise.region.code}）"),
            ("规模", enterprise.get_size_display()),
            ("地址", enterprise.address),
            ("联系人", enterprise.contact_name),
            ("联系电话", phone),
            (
                "成立日期",
                enterprise.established_on.isoformat() if enterprise.established_on else "",
            ),
            ("存续", _yes_no(enterprise.is_active)),
        ],
        edit_url=reverse("organisations:enterprise_edit", args=[enterprise.uscc]),
        list_url=reverse("organisations:enterprise_list"),
        list_label="企业",
    )


# --- create and edit ----------------------------------------------------------------------


def _form_page(
    request: HttpRequest,
    *,
    form: Any,
    title: str,
    save: Callable[[dict[str, Any]], Model],
    detail: Callable[[Model], str],
    cancel_url: str,
    done: str,
) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        try:
            obj = save(form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, done.format(obj=obj))
            return redirect(detail(obj))
    return render(
        request,
        "organisations/form.html",
        {"title": title, "form": form, "cancel_url": cancel_url},
        status=400 if form.is_bound and form.errors else 200,
    )


def _region_url(obj: Model) -> str:
    return reverse("organisations:region_detail", args=[obj.code])  # type: ignore[attr-defined]


def _department_url(obj: Model) -> str:
    return reverse("organisations:department_detail", args=[obj.code])  # type: ignore[attr-defined]


def _enterprise_url(obj: Model) -> str:
    return reverse("organisations:enterprise_detail", args=[obj.uscc])  # type: ignore[attr-defined]


@login_required
@require_http_methods(["GET", "POST"])
def region_new(request: AuthenticatedRequest) -> HttpResponse:
    _require_change_any(request.user, Region, "新增行政区划")
    return _form_page(
        request,
        form=RegionForm(request.POST or None, actor=request.user),
        title="新增行政区划",
        save=lambda data: services.create_region(actor=request.user, **data),
        detail=_region_url,
        cancel_url=reverse("organisations:region_list"),
        done="已新增行政区划：{obj}",
    )


@login_required
@require_http_methods(["GET", "POST"])
def region_edit(request: AuthenticatedRequest, code: str) -> HttpResponse:
    region = get_visible_or_404(Region, request.user, CHANGE, code=code)
    return _form_page(
        request,
        form=RegionForm(request.POST or None, actor=request.user, instance=region),
        title=f"编辑行政区划：{region.name}",
        save=lambda data: services.update_region(region, actor=request.user, **data),
        detail=_region_url,
        cancel_url=_region_url(region),
        done="已保存行政区划：{obj}",
    )


@login_required
@require_http_methods(["GET", "POST"])
def department_new(request: AuthenticatedRequest) -> HttpResponse:
    _require_change_any(request.user, Department, "新增部门")
    return _form_page(
        request,
        form=DepartmentForm(request.POST or None, actor=request.user),
        title="新增部门",
        save=lambda data: services.create_department(actor=request.user, **data),
        detail=_department_url,
        cancel_url=reverse("organisations:department_list"),
        done="已新增部门：{obj}",
    )


@login_required
@require_http_methods(["GET", "POST"])
def department_edit(request: AuthenticatedRequest, code: str) -> HttpResponse:
    department = get_visible_or_404(Department, request.user, CHANGE, code=code)
    return _form_page(
        request,
        form=DepartmentForm(request.POST or None, actor=request.user, instance=department),
        title=f"编辑部门：{department.name}",
        save=lambda data: services.update_department(department, actor=request.user, **data),
        detail=_department_url,
        cancel_url=_department_url(department),
        done="已保存部门：{obj}",
    )


@login_required
@require_http_methods(["GET", "POST"])
def enterprise_new(request: AuthenticatedRequest) -> HttpResponse:
    _require_change_any(request.user, Enterprise, "新增企业")
    return _form_page(
        request,
        form=EnterpriseForm(request.POST or None, actor=request.user),
        title="新增企业",
        save=lambda data: services.create_enterprise(actor=request.user, **data),
        detail=_enterprise_url,
        cancel_url=reverse("organisations:enterprise_list"),
        done="已新增企业：{obj}",
    )


@login_required
@require_http_methods(["GET", "POST"])
def enterprise_edit(request: AuthenticatedRequest, uscc: str) -> HttpResponse:
    enterprise = get_visible_or_404(Enterprise, request.user, CHANGE, uscc=uscc)
    return _form_page(
        request,
        form=EnterpriseForm(request.POST or None, actor=request.user, instance=enterprise),
        title=f"编辑企业：{enterprise.name}",
        save=lambda data: services.update_enterprise(enterprise, actor=request.user, **data),
        detail=_enterprise_url,
        cancel_url=_enterprise_url(enterprise),
        done="已保存企业：{obj}",
    )


# --- imports ------------------------------------------------------------------------------


def _import_kind(request: AuthenticatedRequest, slug: str) -> ImportKind:
    kind = IMPORT_KINDS[slug]
    _require_change_any(request.user, kind.model, f"{kind.title}导入")
    return kind


def _remember(request: HttpRequest, slug: str, token: str) -> None:
    staged: list[list[str]] = list(request.session.get(_SESSION_KEY, []))
    staged.append([token, slug])
    for old_token, _ in staged[:-STAGED_PER_SESSION]:
        discard_staged(old_token)
    request.session[_SESSION_KEY] = staged[-STAGED_PER_SESSION:]


def _forget(request: HttpRequest, token: str) -> None:
    discard_staged(token)
    request.session[_SESSION_KEY] = [
        entry for entry in request.session.get(_SESSION_KEY, []) if entry[0] != token
    ]


def _owns(request: HttpRequest, slug: str, token: str) -> bool:
    """A staged file belongs to the session that uploaded it, for one kind of import."""
    return [token, slug] in request.session.get(_SESSION_KEY, [])


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    kind = _import_kind(request, slug)
    form = ImportUploadForm()
    report = None
    token = ""
    checked = False
    status = 200
    if request.method == "POST":
        confirm = request.POST.get("token", "")
        if confirm:
            data = read_staged(confirm) if _owns(request, slug, confirm) else None
            if data is None:
                messages.error(request, "待导入的文件已失效，请重新上传")
                return redirect(f"organisations:{kind.model._meta.model_name}_import")
            report = kind.run(data, actor=request.user, dry_run=False)
            _forget(request, confirm)
            if not report.ok:
                # The data changed since the check: keep the file with its new report.
                token, status = stage_upload(data, report), 400
                _remember(request, slug, token)
        else:
            form = ImportUploadForm(request.POST, request.FILES)
            if form.is_valid():
                data = form.cleaned_data["file"].read()
                checked = request.POST.get("action") != "import"
                report = kind.run(data, actor=request.user, dry_run=checked)
                if checked or not report.ok:
                    token = stage_upload(data, report)
                    _remember(request, slug, token)
                status = 200 if report.ok else 400
            else:
                status = 400
    prefix = kind.model._meta.model_name
    return render(
        request,
        "organisations/import.html",
        {
            "title": f"{kind.title}导入",
            "kind": kind,
            "form": form,
            "report": report,
            "errors": report.errors[:ERRORS_ON_PAGE] if report else [],
            "checked": checked,
            "token": token,
            "max_mb": MAX_UPLOAD_BYTES // 1024 // 1024,
            "template_url": reverse(f"organisations:{prefix}_template"),
            "list_url": reverse(f"organisations:{prefix}_list"),
            "report_url": reverse(f"organisations:{prefix}_import_report", args=[token])
            if token and report and not report.ok
            else "",
            "columns": kind.columns,
        },
        status=status,
    )


@login_required
def import_template(request: AuthenticatedRequest, slug: str) -> HttpResponse:
    kind = _import_kind(request, slug)
    return xlsx_response(kind.template(request.user), f"{kind.title}导入模板")


@login_required
def import_report(request: AuthenticatedRequest, slug: str, token: str) -> HttpResponse:
    kind = _import_kind(request, slug)
    content = read_staged_report(token) if _owns(request, slug, token) else None
    if content is None:
        raise Http404("错误报告已失效，请重新校验文件")
    return xlsx_response(content, f"{kind.title}导入错误报告")
