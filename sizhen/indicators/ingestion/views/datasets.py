"""Dataset pages (数据集): datasets with schemas and freshness, the built-in datasets, templates,
and the data administrators' new datasets and schema versions.

Every page opens only for the roles that use it and reads through the scope."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from sizhen.core.access import CHANGE, VIEW, get_visible_or_404
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.permissions import require_capability
from sizhen.core.xlsx import Column, template_workbook, xlsx_response
from sizhen.indicators.ingestion.datasets import create_dataset_version, ensure_builtin_datasets
from sizhen.indicators.ingestion.engine.schemas import BUILTIN_BY_CODE
from sizhen.indicators.ingestion.forms import (
    TYPE_LABELS,
    DatasetForm,
    FieldRowFormSet,
    SchemaForm,
    field_rows,
)
from sizhen.indicators.ingestion.models import Dataset, LoadBatch
from sizhen.indicators.ingestion.selectors import (
    get_dataset_freshness,
    list_dataset_freshness,
    list_source_freshness,
    list_visible_datasets,
)
from sizhen.indicators.ingestion.services import create_dataset
from sizhen.indicators.ingestion.views.loads import NEW_DATASET_ROWS


def _field_rows_for_display(fields: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "name": f["name"],
            "label": f.get("label", ""),
            "type": TYPE_LABELS.get(f["type"], f["type"]),
            "required": bool(f.get("required")),
            "allowed": "、".join(f.get("allowed", [])),
            "aliases": "、".join(f.get("aliases", [])),
            "minimum": f.get("minimum"),
        }
        for f in fields
    ]


# --- datasets -------------------------------------------------------------------------------


def _openable(request: AuthenticatedRequest, batch_ids: list[int | None]) -> set[int]:
    """Of the loads a page names, those the viewer may open. Every role sees when a dataset
    last loaded; the load itself only where its scope allows (another department's upload is
    a 404), so only those dates are links."""
    return set(
        LoadBatch.objects.visible_to(request.user)
        .filter(pk__in=[pk for pk in batch_ids if pk])
        .values_list("pk", flat=True)
    )


@login_required
def dataset_list(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="数据集")
    datasets = list(list_visible_datasets(request.user))
    missing_builtin = sorted(set(BUILTIN_BY_CODE) - {d.code for d in datasets})
    rows = list_dataset_freshness(datasets)
    openable = _openable(request, [r.last_batch_id for r in rows])
    return render(
        request,
        "indicators/data/dataset_list.html",
        {
            "title": "数据集与数据时效",
            "rows": rows,
            "openable": openable,
            "missing_builtin": missing_builtin,
        },
    )


@login_required
@require_POST
def dataset_builtin(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "data.admin", target="初始化内置数据集")
    datasets = ensure_builtin_datasets(actor=request.user)
    messages.success(request, f"内置数据集已就绪（共 {len(datasets)} 个）")
    return redirect("indicator_data:dataset_list")


@login_required
def dataset_detail(request: AuthenticatedRequest, code: str) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="数据集")
    dataset = get_visible_or_404(Dataset, request.user, VIEW, code=code)
    versions = list(dataset.versions.order_by("-version").select_related("created_by"))
    wanted = request.GET.get("version", "")
    shown = next((v for v in versions if str(v.version) == wanted), None) or next(
        (v for v in versions if v.version == dataset.current_version), None
    )
    freshness = get_dataset_freshness(dataset)
    return render(
        request,
        "indicators/data/dataset_detail.html",
        {
            "title": f"数据集：{dataset.name}",
            "dataset": dataset,
            "schema": shown,
            "fields": _field_rows_for_display(shown.fields) if shown else [],
            "versions": versions,
            "freshness": freshness,
            "openable": _openable(request, [freshness.last_batch_id]),
            "sources": list_source_freshness(dataset, request.user),
            "api_path": f"/api/v1/datasets/{dataset.code}/records",
        },
    )


@login_required
def dataset_template(request: AuthenticatedRequest, code: str) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="数据集模板")
    dataset = get_visible_or_404(Dataset, request.user, VIEW, code=code)
    fields = dataset.schema().fields
    columns = [
        Column(
            key=f["name"],
            label=f.get("label", f["name"]),
            required=bool(f.get("required")),
            help=(
                f"字段名 {f['name']}，{TYPE_LABELS.get(f['type'], f['type'])}"
                + (f"，取值：{'/'.join(f['allowed'])}" if f.get("allowed") else "")
            ),
        )
        for f in fields
    ]
    content = template_workbook(
        columns,
        [""] * len(columns),
        notes="也可上传 CSV（UTF-8 或 GBK 编码），第一行为列名；列名可用中文名称或字段名。",
    )
    return xlsx_response(content, f"{dataset.name}-导入模板")


def _schema_editor(
    request: HttpRequest, form: SchemaForm, initial_rows: list[dict[str, Any]] | None = None
) -> tuple[SchemaForm, Any]:
    if request.method == "POST":
        # No initial on POST: an extra row equal to its initial would count as unchanged and
        # be dropped from cleaned_data.
        return form, FieldRowFormSet(request.POST, prefix="f")
    return form, FieldRowFormSet(initial=initial_rows, prefix="f")


@login_required
@require_http_methods(["GET", "POST"])
def dataset_new(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "data.admin", target="新建数据集")
    form, rows = _schema_editor(
        request,
        DatasetForm(request.POST or None, initial={"region_field": "region_code"}),
        [{} for _ in range(NEW_DATASET_ROWS)],
    )
    if request.method == "POST":
        schema = form.schema(rows)
        if schema is not None:
            try:
                dataset = create_dataset(
                    actor=request.user,
                    code=form.cleaned_data["code"],
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    stale_after_days=form.cleaned_data["stale_after_days"],
                    **schema,
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, f"已创建数据集“{dataset.name}”（第 1 版字段定义）")
                return redirect("indicator_data:dataset_detail", code=dataset.code)
    return render(
        request,
        "indicators/data/schema_form.html",
        {
            "title": "新建数据集",
            "form": form,
            "rows": rows,
            "cancel_url": reverse("indicator_data:dataset_list"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def dataset_version_new(request: AuthenticatedRequest, code: str) -> HttpResponse:
    dataset = get_visible_or_404(Dataset, request.user, CHANGE, code=code)
    current = dataset.schema()
    form, rows = _schema_editor(
        request,
        SchemaForm(
            request.POST or None,
            previous=current,
            initial={
                "key": current.key,
                "region_field": current.region_field,
                "department_field": current.department_field,
            },
        ),
        field_rows(current.fields),
    )
    if request.method == "POST":
        schema = form.schema(rows)
        if schema is not None:
            try:
                version = create_dataset_version(dataset, actor=request.user, **schema)
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, f"已发布第 {version.version} 版字段定义")
                return redirect("indicator_data:dataset_detail", code=dataset.code)
    return render(
        request,
        "indicators/data/schema_form.html",
        {
            "title": f"{dataset.name}：新版本字段定义（当前第 {current.version} 版）",
            "dataset": dataset,
            "form": form,
            "rows": rows,
            "cancel_url": reverse("indicator_data:dataset_detail", args=[dataset.code]),
        },
    )


def _apply_errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
    else:
        for error in exc.messages:
            form.add_error(None, error)
