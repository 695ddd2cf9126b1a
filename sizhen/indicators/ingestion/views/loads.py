"""Load pages (数据入库): the load list, file upload, and the batch report with its progress bar
and error workbook. Datasets are in ``datasets``, the quarantine (隔离区) in ``quarantine``.

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
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from sizhen.core.access import EXPORT, VIEW, get_visible_or_404
from sizhen.core.audit import record_event
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.listing import ListColumn, PageAction, ScopedListView
from sizhen.core.models import Job
from sizhen.core.permissions import capability_roles, has_capability, require_capability
from sizhen.core.xlsx import build_workbook, xlsx_response
from sizhen.indicators.ingestion import loads
from sizhen.indicators.ingestion.choices import LoadMode, LoadStatus, QuarantineStatus
from sizhen.indicators.ingestion.engine.ingest import FileProblem
from sizhen.indicators.ingestion.forms import (
    LoadBatchFilter,
    UploadForm,
    max_upload_bytes,
)
from sizhen.indicators.ingestion.models import (
    Dataset,
    DatasetVersion,
    LoadBatch,
)
from sizhen.indicators.ingestion.selectors import (
    list_visible_datasets,
)

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


# --- loads ----------------------------------------------------------------------------------


def _batch_link(batch: LoadBatch) -> str:
    return reverse("indicator_data:batch_detail", args=[batch.pk])


class LoadBatchListView(ScopedListView):
    model = LoadBatch
    title = "数据批次"
    roles = capability_roles("staff.pages")
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
        actions = [PageAction("数据集与数据时效", reverse("indicator_data:dataset_list"))]
        if has_capability(self.request.user, "data.upload"):
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
def upload(request: AuthenticatedRequest) -> HttpResponse:
    require_capability(request.user, "data.upload", target="上传数据文件")
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


def _visible_batch(request: AuthenticatedRequest, pk: int, action: str = VIEW) -> LoadBatch:
    return get_visible_or_404(
        LoadBatch.objects.select_related("dataset", "department", "created_by"),
        request.user,
        action,
        pk=pk,
    )


def _job(batch: LoadBatch) -> Job | None:
    return Job.objects.filter(pk=batch.job_id).first() if batch.job_id else None


@login_required
def batch_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="数据批次")
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
            "created_at": _local(batch.created_at),
            "finished_at": _local(batch.finished_at),
        },
    )


@login_required
def batch_progress(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The fragment the batch page polls (htmx); a finished batch reloads the page so that
    the report appears."""
    require_capability(request.user, "staff.pages", target="数据批次")
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
def batch_errors_xlsx(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "staff.pages", target="数据批次")
    batch = _visible_batch(request, pk, EXPORT)
    labels = _labels(batch.dataset, batch.schema_version)
    errors = batch.errors.order_by("row", "id")
    stored = errors.count()
    content = build_workbook(
        [
            (
                "错误明细",
                ["行号", "字段名称", "说明", "原值", "字段", "错误代码"],
                (
                    [e.row, labels.get(e.field, e.field), e.message, e.value, e.field, e.code]
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
