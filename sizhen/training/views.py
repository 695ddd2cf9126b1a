"""Pages of learning (学习): one's own list (一键学习), materials with their preview (PDF in the
browser's own viewer, Word as extracted text, videos in an HTML5 player served with byte
ranges), progress, and courses with their assignment and progress per person and unit."""

from __future__ import annotations

import mimetypes
import re
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sizhen.core.access import CHANGE, get_visible_or_404
from sizhen.core.errors import ServiceError
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.listing import ListColumn, PageAction, ScopedListView
from sizhen.core.permissions import capability_roles, has_capability, require_capability
from sizhen.training import selectors, services
from sizhen.training.choices import Audience, LearningStatus, MaterialKind
from sizhen.training.forms import (
    AssignForm,
    CourseForm,
    MaterialEditForm,
    MaterialFilter,
    MaterialForm,
)
from sizhen.training.models import Course, CourseAssignment, Material, MaterialProgress
from sizhen.training.services import progress_status

#: The largest slice of a file one range request answers (a player asks again for the rest).
MAX_RANGE_BYTES = 8 * 1024 * 1024
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def _learn(request: AuthenticatedRequest, target: str) -> None:
    require_capability(request.user, "training.learn", target=target)


def _form_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# --- one's own list ---------------------------------------------------------------------------


@login_required
@require_GET
def mine(request: AuthenticatedRequest) -> HttpResponse:
    """一键学习: the person's own list in order, with the exams open to them."""
    _learn(request, "一键学习")
    entries = selectors.my_materials(request.user)
    finished = sum(1 for e in entries if e.status == LearningStatus.FINISHED)
    book = selectors.wrong_book(request.user)
    return render(
        request,
        "training/mine.html",
        {
            "title": "一键学习",
            "entries": entries,
            "finished": finished,
            "next_entry": next((e for e in entries if e.status != LearningStatus.FINISHED), None),
            "exams": selectors.open_exams(request.user),
            "wrong_open": len(book["open"]),
        },
    )


# --- materials --------------------------------------------------------------------------------


def _material_url(material: Material) -> str:
    return reverse("training:material_detail", args=[material.pk])


class MaterialListView(ScopedListView):
    model = Material
    title = "学习资料"
    roles = capability_roles("training.learn")
    filterset_class = MaterialFilter
    default_sort = "sort_order"
    export_name = "学习资料"
    search_fields = ("title", "topic", "description")
    search_placeholder = "标题、专题或简介"
    columns = (
        ListColumn("title", "标题", sort="title", link=_material_url),
        ListColumn("kind", "类型", sort="kind"),
        ListColumn("audience", "适用范围", sort="audience"),
        ListColumn("indicator", "关联指标", sort="indicator__code"),
        ListColumn("topic", "专题", sort="topic"),
        ListColumn("minutes", "学习时长（分钟）"),
        ListColumn("is_active", "启用"),
    )

    def base_queryset(self, action: str) -> QuerySet[Any]:
        return super().base_queryset(action).select_related("indicator")

    def page_actions(self) -> list[PageAction]:
        actions = [PageAction("一键学习", reverse("training:mine"))]
        if has_capability(self.request.user, "training.manage"):
            actions.insert(
                0, PageAction("上传资料", reverse("training:material_create"), "primary")
            )
        return actions


def _preview(material: Material) -> str:
    """How the page shows the material: a player, the browser's PDF viewer, text, a link."""
    if material.kind == MaterialKind.LINK:
        return "link"
    if material.kind == MaterialKind.VIDEO and material.file_name:
        return "video"
    if material.suffix == "pdf":
        return "pdf"
    if material.preview_text:
        return "text"
    return "download"


@login_required
@require_GET
def material_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The material with its preview; opening it is the first step of the person's progress."""
    _learn(request, "学习资料")
    material = get_visible_or_404(Material.objects.select_related("indicator"), request.user, pk=pk)
    progress = services.record_progress(material, actor=request.user, event="opened")
    return render(
        request,
        "training/material_detail.html",
        {
            "title": material.title,
            "material": material,
            "preview": _preview(material),
            "status": LearningStatus(progress_status(progress)).label,
            "finished": progress.finished_at is not None,
            "departments": material.departments.order_by("code")
            if material.audience == Audience.SPECIFIC
            else [],
            "can_manage": has_capability(request.user, "training.manage"),
            "courses": material.courses.order_by("title"),
        },
    )


@login_required
@require_GET
@xframe_options_sameorigin
def material_file(request: AuthenticatedRequest, pk: int) -> HttpResponseBase:
    """The material's file, inline (the PDF viewer, the video player), answering byte ranges
    so that the player can seek; ``?download=1`` saves it instead."""
    _learn(request, "学习资料")
    material = get_visible_or_404(Material, request.user, pk=pk)
    if not material.file_name or not material.file:
        raise Http404("该资料没有文件")
    try:
        handle = material.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404("文件不存在") from exc
    size = material.file.size
    content_type = mimetypes.guess_type(material.file_name)[0] or "application/octet-stream"
    match = _RANGE.fullmatch(request.headers.get("Range", "").strip())
    response: HttpResponseBase
    if match and (match.group(1) or match.group(2)):
        if match.group(1):
            start = int(match.group(1))
            end = int(match.group(2)) if match.group(2) else size - 1
        else:  # "bytes=-N": the last N bytes
            start, end = max(size - int(match.group(2)), 0), size - 1
        end = min(end, size - 1, start + MAX_RANGE_BYTES - 1)
        if start >= size or start > end:
            handle.close()
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        handle.seek(start)
        data = handle.read(end - start + 1)
        handle.close()
        response = HttpResponse(data, status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    else:
        response = FileResponse(handle, content_type=content_type)
    response["Accept-Ranges"] = "bytes"
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(material.file_name)}"
    # The platform's own pages may frame the file (the PDF preview); nobody else may.
    response["Content-Security-Policy"] = "frame-ancestors 'self'"
    return response


@login_required
@require_POST
def material_progress(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Progress steps: ``watched`` from the player's ``ended`` event (a script's POST, answered
    with JSON), ``finished`` from the "我已学完" button."""
    _learn(request, "学习资料")
    material = get_visible_or_404(Material, request.user, pk=pk)
    event = request.POST.get("event", "")
    wants_json = request.headers.get("Accept", "").startswith("application/json")
    try:
        progress = services.record_progress(material, actor=request.user, event=event)
    except ServiceError as exc:
        if wants_json:
            return JsonResponse({"detail": exc.message}, status=400)
        messages.error(request, exc.message)
        return redirect("training:material_detail", pk=pk)
    status = LearningStatus(progress_status(progress))
    if wants_json:
        return JsonResponse({"status": status.value, "label": status.label})
    messages.success(request, f"已记录：{status.label}")
    return redirect(request.POST.get("next") or reverse("training:material_detail", args=[pk]))


def _material_form_page(
    request: AuthenticatedRequest, form: MaterialForm, title: str, cancel_url: str
) -> HttpResponse:
    return render(
        request,
        "training/material_form.html",
        {"title": title, "form": form, "cancel_url": cancel_url},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def material_create(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "training.manage", target="上传学习资料")
    form = MaterialForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            material = services.create_material(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"已上传学习资料“{material.title}”")
            return redirect("training:material_detail", pk=material.pk)
    return _material_form_page(request, form, "上传学习资料", reverse("training:material_list"))


@login_required
@require_http_methods(["GET", "POST"])
def material_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "training.manage", target="修改学习资料")
    material = get_visible_or_404(Material, request.user, CHANGE, pk=pk)
    initial = {
        "title": material.title,
        "topic": material.topic,
        "indicator": material.indicator,
        "audience": material.audience,
        "departments": list(material.departments.all()),
        "link_url": material.link_url,
        "minutes": material.minutes,
        "sort_order": material.sort_order,
        "description": material.description,
        "is_active": material.is_active,
    }
    form = MaterialEditForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        upload, departments = data.pop("upload"), data.pop("departments")
        try:
            services.update_material(
                material, actor=request.user, upload=upload, departments=departments, **data
            )
        except ValidationError as exc:
            _form_errors(form, exc)
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "已保存")
            return redirect("training:material_detail", pk=material.pk)
    return _material_form_page(
        request, form, f"修改学习资料：{material.title}", _material_url(material)
    )


# --- courses ----------------------------------------------------------------------------------


def _course_url(course: Course) -> str:
    return reverse("training:course_detail", args=[course.pk])


class CourseListView(ScopedListView):
    model = Course
    title = "培训课程"
    roles = capability_roles("training.learn")
    default_sort = "-created_at"
    export_name = "培训课程"
    search_fields = ("title", "description")
    search_placeholder = "课程名称或简介"
    columns = (
        ListColumn("title", "课程名称", sort="title", link=_course_url),
        ListColumn("materials", "资料数", render=lambda c: c.items.count()),
        ListColumn(
            "assignments",
            "指派单位",
            render=lambda c: "、".join(a.unit_name for a in c.assignments.all()),
        ),
        ListColumn(
            "created_at", "创建时间", sort="created_at", render=lambda c: f"{c.created_at:%Y-%m-%d}"
        ),
    )

    def base_queryset(self, action: str) -> QuerySet[Any]:
        return (
            super()
            .base_queryset(action)
            .prefetch_related("assignments__department", "assignments__region")
        )

    def page_actions(self) -> list[PageAction]:
        if has_capability(self.request.user, "training.manage"):
            return [PageAction("新建课程", reverse("training:course_create"), "primary")]
        return []


@login_required
@require_http_methods(["GET", "POST"])
def course_create(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "training.manage", target="新建培训课程")
    form = CourseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            course = services.create_course(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"已新建课程“{course.title}”")
            return redirect("training:course_detail", pk=course.pk)
    return render(
        request,
        "core/form.html",
        {"title": "新建培训课程", "form": form, "cancel_url": reverse("training:course_list")},
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_GET
def course_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    _learn(request, "培训课程")
    return _course_page(request, pk)


def _course_page(
    request: AuthenticatedRequest, pk: int, assign_form: AssignForm | None = None
) -> HttpResponse:
    course = get_visible_or_404(Course, request.user, pk=pk)
    mine = {
        p.material_id: p
        for p in MaterialProgress.objects.filter(
            user_id=request.user.pk, material__in=course.materials.all()
        )
    }
    items = [
        (item, LearningStatus(progress_status(mine.get(item.material_id))).label)
        for item in course.items.select_related("material__indicator")
    ]
    return render(
        request,
        "training/course_detail.html",
        {
            "title": f"培训课程：{course.title}",
            "course": course,
            "items": items,
            "assignments": CourseAssignment.objects.visible_to(request.user)
            .filter(course=course)
            .select_related("department", "region"),
            "progress": selectors.course_progress(course, request.user),
            "can_manage": has_capability(request.user, "training.manage"),
            "assign_form": assign_form or AssignForm(),
        },
        status=400 if assign_form is not None else 200,
    )


@login_required
@require_POST
def course_assign(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "training.manage", target="指派培训课程")
    course = get_visible_or_404(Course, request.user, CHANGE, pk=pk)
    form = AssignForm(request.POST)
    if form.is_valid():
        try:
            assignments = services.assign_course(course, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"已指派给 {len(assignments)} 个单位")
            return redirect("training:course_detail", pk=course.pk)
    return _course_page(request, pk, assign_form=form)


__all__ = [
    "CourseListView",
    "MaterialListView",
    "course_assign",
    "course_create",
    "course_detail",
    "material_create",
    "material_detail",
    "material_edit",
    "material_file",
    "material_progress",
    "mine",
]
