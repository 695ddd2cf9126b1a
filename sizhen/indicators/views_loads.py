"""Data pages (数据接入): datasets with schemas and freshness, admin-defined datasets and schema
versions, the load list, file upload, the batch report with its progress bar and error
workbook, and the quarantine (隔离区) where invalid rows are corrected and re-submitted.

Every page opens only for the roles that use it and reads through the scope: a batch the user
may not see answers 404 (audited) whether it exists or not. The web process never opens the
analytical store; the worker commits the loads."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from sizhen.core.access import CHANGE, EXPORT, VIEW, get_visible_or_404, require_role
from sizhen.core.audit import record_event
from sizhen.core.listing import ListColumn, PageAction, ScopedListView
from sizhen.core.models import Job
from sizhen.core.roles import STAFF_ROLES
from sizhen.core.xlsx import Column, build_workbook, template_workbook, xlsx_response
from sizhen.indicators import loads
from sizhen.indicators.choices import LoadMode, LoadStatus, QuarantineStatus
from sizhen.indicators.datasets import create_dataset_version, ensure_builtin_datasets
from sizhen.indicators.engine.ingest import FileProblem
from sizhen.indicators.engine.schemas import BUILTIN_BY_CODE
from sizhen.indicators.forms_loads import (
    TYPE_LABELS,
    DatasetForm,
    FieldRowFormSet,
    LoadBatchFilter,
    QuarantineRowForm,
    SchemaForm,
    UploadForm,
    field_rows,
    max_upload_bytes,
)
from sizhen.indicators.models import DATA_ADMINS, Dataset, DatasetVersion, LoadBatch, QuarantineRow
from sizhen.indicators.selectors_loads import (
    UPLOADER_ROLES,
    get_dataset_freshness,
    list_dataset_freshness,
    list_quarantine,
    list_source_freshness,
    list_visible_datasets,
    may_manage_datasets,
    may_upload,
)
from sizhen.indicators.services_loads import create_dataset, discard_quarantine_rows

#: Row errors shown on the batch page; the workbook has every stored one.
ERRORS_ON_PAGE = 200
QUARANTINE_PER_PAGE = 50
#: Empty field rows offered on the new-dataset page (the formset adds its extra rows).
NEW_DATASET_ROWS = 5
#: The upload page's script sends this header; it then gets the next address as JSON, so
#: the flash message survives until that page is shown.
UPLOAD_SCRIPT_HEADER = "X-Sizhen-Upload"
FINISHED = (LoadStatus.LOADED, LoadStatus.VALIDATED, LoadStatus.REJECTED, LoadStatus.FAILED)


def _local(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _labels(dataset: Dataset, version: int | None = None) -> dict[str, str]:
    try:
        schema = dataset.schema(version)
    except DatasetVersion.DoesNotExist:
        return {}
    return {f["name"]: f.get("label", f["name"]) for f in schema.fields}


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


@login_required
def dataset_list(request: HttpRequest) -> HttpResponse:
    require_role(request.user, *STAFF_ROLES, target="数据集")
    datasets = list(list_visible_datasets(request.user))
    missing_builtin = sorted(set(BUILTIN_BY_CODE) - {d.code for d in datasets})
    return render(
        request,
        "indicators/data/dataset_list.html",
        {
            "title": "数据集与数据时效",
            "rows": list_dataset_freshness(datasets),
            "can_manage": may_manage_datasets(request.user),
            "can_upload": may_upload(request.user),
            "missing_builtin": missing_builtin,
        },
    )


@login_required
@require_POST
def dataset_builtin(request: HttpRequest) -> HttpResponse:
    require_role(request.user, *DATA_ADMINS, target="初始化内置数据集")
    datasets = ensure_builtin_datasets(actor=request.user)
    messages.success(request, f"内置数据集已就绪（共 {len(datasets)} 个）")
    return redirect("indicator_data:dataset_list")


@login_required
def dataset_detail(request: HttpRequest, code: str) -> HttpResponse:
    require_role(request.user, *STAFF_ROLES, target="数据集")
    dataset = get_visible_or_404(Dataset, request.user, VIEW, code=code)
    versions = list(dataset.versions.order_by("-version").select_related("created_by"))
    wanted = request.GET.get("version", "")
    shown = next((v for v in versions if str(v.version) == wanted), None) or next(
        (v for v in versions if v.version == dataset.current_version), None
    )
    return render(
        request,
        "indicators/data/dataset_detail.html",
        {
            "title": f"数据集：{dataset.name}",
            "dataset": dataset,
            "schema": shown,
            "fields": _field_rows_for_display(shown.fields) if shown else [],
            "versions": versions,
            "freshness": get_dataset_freshness(dataset),
            "sources": list_source_freshness(dataset, request.user),
            "can_manage": may_manage_datasets(request.user),
            "can_upload": may_upload(request.user),
            "api_path": f"/api/v1/datasets/{dataset.code}/records",
        },
    )


@login_required
def dataset_template(request: HttpRequest, code: str) -> HttpResponse:
    require_role(request.user, *STAFF_ROLES, target="数据集模板")
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
def dataset_new(request: HttpRequest) -> HttpResponse:
    require_role(request.user, *DATA_ADMINS, target="新建数据集")
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
def dataset_version_new(request: HttpRequest, code: str) -> HttpResponse:
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


# --- loads ----------------------------------------------------------------------------------


def _batch_link(batch: LoadBatch) -> str:
    return reverse("indicator_data:batch_detail", args=[batch.pk])


class LoadBatchListView(ScopedListView):
    model = LoadBatch
    title = "数据批次"
    roles = STAFF_ROLES
    filterset_class = LoadBatchFilter
    default_sort = "-created_at"
    export_name = "数据批次"
    search_fields = ("file_name", "created_by_label", "message")
    search_placeholder = "文件名、提交人或说明"
    template_name = "indicators/data/batch_list.html"
    columns = (
        ListColumn("pk", "批次", sort="id", render=lambda b: f"#{b.pk}", link=_batch_link),
        ListColumn("dataset.name", "数据集", sort="dataset__code"),
        ListColumn("channel", "渠道", sort="channel"),
        ListColumn(
            "mode", "模式", render=lambda b: "宽松" if b.mode == LoadMode.LENIENT else "严格"
        ),
        ListColumn("dry_run", "试运行"),
        ListColumn("status", "状态", sort="status"),
        ListColumn("file_name", "文件名"),
        ListColumn("department.name", "提交部门"),
        ListColumn("created_by_label", "提交人"),
        ListColumn("rows_total", "总行数", sort="rows_total"),
        ListColumn("imported", "新增"),
        ListColumn("updated", "更新"),
        ListColumn("ignored", "未变化"),
        ListColumn("rejected", "拒收"),
        ListColumn("error_count", "错误数", sort="error_count"),
        ListColumn(
            "created_at", "提交时间", sort="created_at", render=lambda b: _local(b.created_at)
        ),
        ListColumn("finished_at", "完成时间", render=lambda b: _local(b.finished_at)),
    )

    def base_queryset(self, action: str) -> Any:
        return super().base_queryset(action).select_related("dataset", "department")

    def page_actions(self) -> list[PageAction]:
        actions = [PageAction("数据集与时效", reverse("indicator_data:dataset_list"))]
        if may_upload(self.request.user):
            actions.insert(
                0, PageAction("上传数据文件", reverse("indicator_data:upload"), "primary")
            )
        return actions


def _stage_upload(upload: UploadedFile, workdir: Path) -> Path:
    """The uploaded file as a path ``submit_file`` can copy (it is on disk when large)."""
    temporary = getattr(upload, "temporary_file_path", None)
    if callable(temporary):
        return Path(temporary())
    target = workdir / ("upload" + Path(upload.name or "").suffix.lower())
    with open(target, "wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    return target


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    require_role(request.user, *UPLOADER_ROLES, target="上传数据文件")
    datasets = list_visible_datasets(request.user)
    form = UploadForm(
        request.POST or None,
        request.FILES or None,
        datasets=datasets,
        initial={"dataset": request.GET.get("dataset", ""), "mode": LoadMode.STRICT},
    )
    if request.method == "POST" and form.is_valid():
        upload_file: UploadedFile = form.cleaned_data["file"]
        workdir = Path(tempfile.mkdtemp(prefix="sizhen-upload-"))
        try:
            batch, created = loads.submit_file(
                actor=request.user,
                dataset=form.cleaned_data["dataset"],
                source=_stage_upload(upload_file, workdir),
                file_name=upload_file.name or "",
                mode=form.cleaned_data["mode"],
                dry_run=form.cleaned_data["dry_run"],
            )
        except FileProblem as problem:
            form.add_error("file", str(problem))
        else:
            if created:
                messages.success(request, f"文件已提交（批次 #{batch.pk}），正在后台校验入库")
            else:
                messages.info(request, f"内容相同的文件已于批次 #{batch.pk} 提交过，本次未重复导入")
            target = reverse("indicator_data:batch_detail", args=[batch.pk])
            if request.headers.get(UPLOAD_SCRIPT_HEADER) == "1":
                return JsonResponse({"location": target})
            return redirect(target)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    return render(
        request,
        "indicators/data/upload.html",
        {
            "title": "上传数据文件",
            "form": form,
            "max_mb": max_upload_bytes() // 1024 // 1024,
        },
    )


def _visible_batch(request: HttpRequest, pk: int, action: str = VIEW) -> LoadBatch:
    return get_visible_or_404(
        LoadBatch.objects.select_related("dataset", "department", "created_by"),
        request.user,
        action,
        pk=pk,
    )


def _job(batch: LoadBatch) -> Job | None:
    return Job.objects.filter(pk=batch.job_id).first() if batch.job_id else None


@login_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_role(request.user, *STAFF_ROLES, target="数据批次")
    batch = _visible_batch(request, pk)
    labels = _labels(batch.dataset, batch.schema_version)
    errors = [
        {"error": e, "label": labels.get(e.field, e.field)}
        for e in batch.errors.order_by("row", "id")[:ERRORS_ON_PAGE]
    ]
    open_quarantine = batch.quarantined.filter(status=QuarantineStatus.OPEN).count()
    return render(
        request,
        "indicators/data/batch_detail.html",
        {
            "title": f"数据批次 #{batch.pk}",
            "batch": batch,
            "job": _job(batch),
            "running": batch.status not in FINISHED,
            "errors": errors,
            "errors_stored": batch.errors.count(),
            "open_quarantine": open_quarantine,
            "can_correct": may_upload(request.user) and open_quarantine > 0,
            "created_at": _local(batch.created_at),
            "finished_at": _local(batch.finished_at),
        },
    )


@login_required
def batch_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The fragment the batch page polls (htmx); a finished batch reloads the page so that
    the report appears."""
    require_role(request.user, *STAFF_ROLES, target="数据批次")
    batch = _visible_batch(request, pk)
    running = batch.status not in FINISHED
    response = render(
        request,
        "indicators/data/_batch_progress.html",
        {"batch": batch, "job": _job(batch), "running": running},
    )
    if not running:
        response["HX-Refresh"] = "true"
    return response


@login_required
def batch_errors_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    require_role(request.user, *STAFF_ROLES, target="数据批次")
    batch = _visible_batch(request, pk, EXPORT)
    labels = _labels(batch.dataset, batch.schema_version)
    errors = batch.errors.order_by("row", "id")
    stored = errors.count()
    content = build_workbook(
        [
            (
                "错误明细",
                ["行号", "字段", "字段名称", "错误代码", "说明", "原值"],
                (
                    [e.row, e.field, labels.get(e.field, e.field), e.code, e.message, e.value]
                    for e in errors.iterator(chunk_size=2000)
                ),
            ),
            (
                "导入报告",
                ["项目", "内容"],
                [
                    ["批次", batch.pk],
                    ["数据集", f"{batch.dataset.name}（{batch.dataset.code}）"],
                    ["字段定义版本", batch.schema_version],
                    ["渠道", batch.get_channel_display()],
                    ["模式", batch.get_mode_display()],
                    ["试运行", "是" if batch.dry_run else "否"],
                    ["文件名", batch.file_name],
                    ["状态", batch.get_status_display()],
                    ["说明", batch.message],
                    ["总行数", batch.rows_total],
                    ["新增", batch.imported],
                    ["更新", batch.updated],
                    ["未变化", batch.ignored],
                    ["拒收", batch.rejected],
                    ["错误数", batch.error_count],
                    ["明细中列出的错误数", stored],
                    ["提交人", batch.created_by_label or "系统"],
                    ["提交时间", _local(batch.created_at)],
                    ["完成时间", _local(batch.finished_at)],
                ],
            ),
        ]
    )
    record_event(
        "export.xlsx",
        actor=request.user,
        obj=batch,
        message=f"下载数据批次 #{batch.pk} 的错误报告（{stored} 条）",
        after={"rows": stored},
    )
    return xlsx_response(content, f"批次{batch.pk}-错误报告")


# --- quarantine -----------------------------------------------------------------------------


@login_required
def quarantine_list(request: HttpRequest, code: str) -> HttpResponse:
    require_role(request.user, *UPLOADER_ROLES, target="隔离区")
    dataset = get_visible_or_404(Dataset, request.user, VIEW, code=code)
    labels = _labels(dataset)
    paginator = Paginator(list_quarantine(request.user, dataset), QUARANTINE_PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    rows = [
        {
            "row": q,
            "errors": [
                {**e, "label": labels.get(e.get("field", ""), e.get("field", ""))}
                for e in (q.errors or [])
            ],
            "key": (q.data or {}).get(dataset.schema().key) or "",
        }
        for q in page.object_list
    ]
    return render(
        request,
        "indicators/data/quarantine_list.html",
        {"title": f"隔离区：{dataset.name}", "dataset": dataset, "rows": rows, "page": page},
    )


def _quarantine_rows(request: HttpRequest, ids: list[int]) -> list[QuarantineRow]:
    """The rows, each checked through its batch's scope (404, audited, if any is not the
    user's to change)."""
    rows = list(QuarantineRow.objects.filter(pk__in=ids).select_related("dataset", "batch"))
    if len(rows) != len(set(ids)):
        raise Http404("未找到该记录")
    for batch_id in sorted({row.batch_id for row in rows}):
        get_visible_or_404(LoadBatch, request.user, CHANGE, pk=batch_id)
    return rows


@login_required
@require_POST
def quarantine_bulk(request: HttpRequest, code: str) -> HttpResponse:
    """Re-submit as they are (e.g. after a missing department was registered) or discard."""
    require_role(request.user, *UPLOADER_ROLES, target="隔离区")
    dataset = get_visible_or_404(Dataset, request.user, VIEW, code=code)
    try:
        ids = sorted({int(v) for v in request.POST.getlist("rows")})
    except ValueError as exc:
        raise Http404("未找到该记录") from exc
    back = redirect("indicator_data:quarantine_list", code=dataset.code)
    if not ids:
        messages.error(request, "请先勾选记录")
        return back
    rows = _quarantine_rows(request, ids)
    if any(row.dataset_id != dataset.pk for row in rows):
        raise Http404("未找到该记录")
    action = request.POST.get("action")
    if action == "discard":
        try:
            count = discard_quarantine_rows(actor=request.user, rows=rows)
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
        else:
            messages.success(request, f"已作废 {count} 条隔离记录")
        return back
    if action == "resubmit":
        return _resubmit(request, dataset, rows, {}, on_reject=back)
    messages.error(request, "未知的操作")
    return back


def _resubmit(
    request: HttpRequest,
    dataset: Dataset,
    rows: list[QuarantineRow],
    corrections: dict[int, dict[str, Any]],
    *,
    on_reject: HttpResponse,
) -> HttpResponse:
    try:
        batch, _created = loads.resubmit_quarantine(
            actor=request.user, rows=rows, corrections=corrections
        )
    except ValueError as exc:
        messages.error(request, str(exc))
        return on_reject
    if batch.status == LoadStatus.REJECTED:
        messages.error(request, f"重新提交未通过校验（批次 #{batch.pk}），隔离记录保持待处理")
        return redirect("indicator_data:batch_detail", pk=batch.pk)
    messages.success(request, f"已重新提交 {len(rows)} 条记录（批次 #{batch.pk}）")
    return redirect("indicator_data:batch_detail", pk=batch.pk)


@login_required
@require_http_methods(["GET", "POST"])
def quarantine_row(request: HttpRequest, pk: int) -> HttpResponse:
    require_role(request.user, *UPLOADER_ROLES, target="隔离区")
    [row] = _quarantine_rows(request, [pk])
    spec_fields = row.dataset.schema(row.batch.schema_version).fields
    labels = {f["name"]: f.get("label", f["name"]) for f in spec_fields}
    form = QuarantineRowForm(
        request.POST or None, initial=dict(row.data or {}), spec_fields=spec_fields
    )
    is_open = row.status == QuarantineStatus.OPEN
    rejected_errors: list[dict[str, Any]] = []
    if request.method == "POST":
        if not is_open:
            messages.error(request, "该记录已处理，不能再修改")
            return redirect("indicator_data:quarantine_list", code=row.dataset.code)
        if request.POST.get("action") == "discard":
            try:
                discard_quarantine_rows(actor=request.user, rows=[row])
            except ValidationError as exc:
                messages.error(request, "；".join(exc.messages))
            else:
                messages.success(request, f"已作废第 {row.row} 行（批次 #{row.batch_id}）")
            return redirect("indicator_data:quarantine_list", code=row.dataset.code)
        if form.is_valid():
            try:
                batch, _created = loads.resubmit_quarantine(
                    actor=request.user,
                    rows=[row],
                    corrections={row.pk: form.corrections(row.data or {})},
                )
            except ValueError as exc:
                messages.error(request, str(exc))
                return redirect("indicator_data:quarantine_list", code=row.dataset.code)
            if batch.status != LoadStatus.REJECTED:
                messages.success(request, f"已重新提交（批次 #{batch.pk}），校验通过，正在后台入库")
                return redirect("indicator_data:batch_detail", pk=batch.pk)
            # The corrected row is still invalid: show why next to the inputs, keep it open.
            for error in batch.errors.order_by("row", "id"):
                if error.field in form.fields:
                    form.add_error(error.field, error.message)
                else:
                    form.add_error(None, error.message)
                rejected_errors.append({"error": error, "label": labels.get(error.field, "")})
    return render(
        request,
        "indicators/data/quarantine_row.html",
        {
            "title": f"更正隔离记录：批次 #{row.batch_id} 第 {row.row} 行",
            "row": row,
            "form": form,
            "is_open": is_open,
            "errors": [
                {**e, "label": labels.get(e.get("field", ""), e.get("field", ""))}
                for e in (row.errors or [])
            ],
            "rejected_errors": rejected_errors,
        },
    )
