"""Records over the API (数据推送接口): push, batch reports, dataset schemas and freshness.

Source systems push with a department API token holding the ``records:write`` scope; the
coordinating office and administrators may push with their session. Every push goes through
the one validation path of ``loads`` and answers with the batch id and its report:

- 202 accepted (queued for the worker; lenient batches list the rows sent to quarantine),
- 200 the same content was sent before: the earlier batch, nothing changed,
- 422 rejected in strict mode: the summary and every error (row, field, code, message),
- 413 more records than one push may carry.

Rows of pushed records are numbered by their position in ``records``, starting at 1."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from sizhen.core.access import VIEW, get_visible_or_404, is_machine, role_of
from sizhen.core.api import ErrorOut, Limit, Offset, PageMeta, actor_of, page, require_token_scope
from sizhen.core.permissions import require_capability
from sizhen.core.roles import Role
from sizhen.indicators.ingestion import loads
from sizhen.indicators.ingestion.choices import LoadMode, LoadStatus
from sizhen.indicators.ingestion.models import Dataset, LoadBatch
from sizhen.indicators.ingestion.selectors import (
    get_dataset_freshness,
    list_visible_datasets,
)

router = Router(tags=["业务数据"])

WRITE_SCOPE = "records:write"
READ_SCOPE = "read"
#: Errors listed in a push or batch answer; GET /batches/{id}/errors pages through all.
ERRORS_IN_ANSWER = 1000
MAX_ERRORS_PAGE = 1000


class RecordsIn(Schema):
    records: list[Any]
    mode: Annotated[str, Field(max_length=20)] = LoadMode.STRICT.value
    dry_run: bool = False


class SummaryOut(Schema):
    rows: int
    imported: int
    updated: int
    ignored: int
    rejected: int
    errors: int


class RecordErrorOut(Schema):
    row: int
    field: str
    code: str
    message: str
    value: str


class BatchOut(Schema):
    batch_id: int
    dataset: str
    schema_version: int
    channel: str
    mode: str
    dry_run: bool
    status: str
    status_label: str
    message: str
    created_at: Any
    finished_at: Any = None
    summary: SummaryOut
    errors: list[RecordErrorOut]
    errors_truncated: bool


class ErrorPage(Schema):
    meta: PageMeta
    items: list[RecordErrorOut]


class FieldOut(Schema):
    name: str
    label: str
    type: str
    required: bool
    allowed: list[str] = Field(default_factory=list)
    aliases: list[str] = Field(default_factory=list)
    minimum: float | None = None


class DatasetOut(Schema):
    code: str
    name: str
    description: str
    builtin: bool
    version: int
    key: str
    region_field: str
    department_field: str
    stale_after_days: int
    fields: list[FieldOut]


class FreshnessOut(Schema):
    dataset: str
    last_load_at: Any = None
    last_batch_id: int | None = None
    rows_last_load: int
    rows_loaded: int
    loads: int
    lag_days: int | None = None
    stale: bool
    stale_after_days: int


def _require_push(request: HttpRequest) -> Any:
    actor = actor_of(request)
    if role_of(actor) == Role.MACHINE:
        require_token_scope(request, WRITE_SCOPE)
    else:
        require_capability(actor, "data.push", action="records.push", target="数据推送接口")
    return actor


def _require_read(request: HttpRequest) -> Any:
    """A token that pushes may read back its reports; otherwise the ``read`` scope. People
    need a staff role (the scope of each object applies on top)."""
    actor = actor_of(request)
    if is_machine(actor):
        if not actor.has_scope(WRITE_SCOPE):
            require_token_scope(request, READ_SCOPE)
    else:
        require_capability(actor, "staff.pages", action="records.read", target="数据接口")
    return actor


def _batch(batch: LoadBatch, *, errors: int = ERRORS_IN_ANSWER) -> dict[str, Any]:
    listed = list(batch.errors.order_by("row", "id")[:errors])
    return {
        "batch_id": batch.pk,
        "dataset": batch.dataset.code,
        "schema_version": batch.schema_version,
        "channel": batch.channel,
        "mode": batch.mode,
        "dry_run": batch.dry_run,
        "status": batch.status,
        "status_label": batch.get_status_display(),
        "message": batch.message,
        "created_at": batch.created_at,
        "finished_at": batch.finished_at,
        "summary": {
            "rows": batch.rows_total,
            "imported": batch.imported,
            "updated": batch.updated,
            "ignored": batch.ignored,
            "rejected": batch.rejected,
            "errors": batch.error_count,
        },
        "errors": [_error(e) for e in listed],
        "errors_truncated": batch.error_count > len(listed),
    }


def _error(e: Any) -> dict[str, Any]:
    return {"row": e.row, "field": e.field, "code": e.code, "message": e.message, "value": e.value}


def _dataset(dataset: Dataset) -> dict[str, Any]:
    schema = dataset.schema()
    return {
        "code": dataset.code,
        "name": dataset.name,
        "description": dataset.description,
        "builtin": dataset.builtin,
        "version": schema.version,
        "key": schema.key,
        "region_field": schema.region_field,
        "department_field": schema.department_field,
        "stale_after_days": dataset.stale_after_days,
        "fields": [
            {
                "name": f["name"],
                "label": f.get("label", f["name"]),
                "type": f["type"],
                "required": bool(f.get("required")),
                "allowed": f.get("allowed", []),
                "aliases": f.get("aliases", []),
                "minimum": f.get("minimum"),
            }
            for f in schema.fields
        ],
    }


@router.post(
    "/datasets/{dataset}/records",
    response={
        200: BatchOut,
        202: BatchOut,
        400: ErrorOut,
        404: ErrorOut,
        413: ErrorOut,
        422: BatchOut,
    },
    summary="推送业务数据",
    description=(
        '请求体：{"records": [...], "mode": "strict"|"lenient", "dry_run": false}。'
        f"每次最多 {loads.MAX_API_RECORDS} 条。字段可用英文字段名、中文名称或别名。"
        "严格模式（默认）任何一条有错误则整批拒收（422）；宽松模式有效记录入库、错误记录进入隔离区。"
        "相同内容重复推送返回原批次（200），不重复入库。"
    ),
)
def push_records(request: HttpRequest, dataset: str, payload: RecordsIn) -> tuple[int, Any]:
    actor = _require_push(request)
    target = get_visible_or_404(Dataset, actor, VIEW, code=dataset)
    if payload.mode not in LoadMode.values:
        return 400, {"detail": "mode 应为 strict（严格）或 lenient（宽松）"}
    if not payload.records:
        return 400, {"detail": "records 不能为空"}
    if len(payload.records) > loads.MAX_API_RECORDS:
        return 413, {
            "detail": f"一次最多推送 {loads.MAX_API_RECORDS} 条记录，本次 {len(payload.records)} 条，"
            "请分批推送"
        }
    batch, created = loads.submit_records(
        actor=actor,
        dataset=target,
        records=payload.records,
        mode=payload.mode,
        dry_run=payload.dry_run,
    )
    if not created:
        return 200, _batch(batch)
    if batch.status == LoadStatus.REJECTED:
        return 422, _batch(batch)
    return 202, _batch(batch)


@router.get("/batches/{batch_id}", response=BatchOut, summary="数据批次与导入报告")
def get_batch(request: HttpRequest, batch_id: int) -> dict[str, Any]:
    actor = _require_read(request)
    batch = get_visible_or_404(LoadBatch.objects.select_related("dataset"), actor, pk=batch_id)
    return _batch(batch)


@router.get("/batches/{batch_id}/errors", response=ErrorPage, summary="数据批次的全部错误")
def list_batch_errors(
    request: HttpRequest, batch_id: int, limit: Limit = 500, offset: Offset = 0
) -> dict[str, Any]:
    actor = _require_read(request)
    batch = get_visible_or_404(LoadBatch, actor, pk=batch_id)
    items, meta = page(batch.errors.order_by("row", "id"), limit, offset, MAX_ERRORS_PAGE)
    return {"meta": meta, "items": [_error(e) for e in items]}


@router.get("/datasets", response=list[DatasetOut], summary="数据集及其当前字段定义")
def list_datasets(request: HttpRequest) -> list[dict[str, Any]]:
    actor = _require_read(request)
    return [_dataset(d) for d in list_visible_datasets(actor)]


@router.get("/datasets/{code}/freshness", response=FreshnessOut, summary="数据集时效")
def dataset_freshness(request: HttpRequest, code: str) -> dict[str, Any]:
    actor = _require_read(request)
    dataset = get_visible_or_404(Dataset, actor, VIEW, code=code)
    return get_dataset_freshness(dataset).as_dict()
