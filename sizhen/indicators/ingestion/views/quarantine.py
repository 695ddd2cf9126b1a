"""The quarantine (隔离区): invalid rows of lenient loads, corrected and re-submitted or
discarded. Rows the user may not see answer 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from sizhen.core.access import CHANGE, VIEW, get_visible_or_404
from sizhen.core.http import AuthenticatedRequest
from sizhen.core.permissions import require_capability
from sizhen.indicators.ingestion import loads
from sizhen.indicators.ingestion.choices import LoadStatus, QuarantineStatus
from sizhen.indicators.ingestion.forms import (
    QuarantineRowForm,
)
from sizhen.indicators.ingestion.models import (
    Dataset,
    LoadBatch,
    QuarantineRow,
)
from sizhen.indicators.ingestion.selectors import (
    list_quarantine,
)
from sizhen.indicators.ingestion.services import discard_quarantine_rows
from sizhen.indicators.ingestion.views.loads import QUARANTINE_PER_PAGE, _labels

# --- quarantine -----------------------------------------------------------------------------


@login_required
def quarantine_list(request: AuthenticatedRequest, code: str) -> HttpResponse:
    require_capability(request.user, "data.upload", target="隔离区")
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


def _quarantine_rows(request: AuthenticatedRequest, ids: list[int]) -> list[QuarantineRow]:
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
def quarantine_bulk(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """Re-submit as they are (e.g. after a missing department was registered) or discard."""
    require_capability(request.user, "data.upload", target="隔离区")
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
    request: AuthenticatedRequest,
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
def quarantine_row(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    require_capability(request.user, "data.upload", target="隔离区")
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
