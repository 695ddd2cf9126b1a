"""整改清单 over the API (/api/v1/rectification): the ledger and one item for staff roles and
tokens with the "read" scope, each within their scope; progress reports (整改进展) by the lead
unit, including its department's token with the "rectification:write" scope (反馈整改进展); lifecycle
steps for people."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from ninja.responses import Status
from pydantic import Field

from sizhen.core.access import CHANGE, get_visible_or_404
from sizhen.core.api import (
    ErrorOut,
    Limit,
    Offset,
    PageMeta,
    actor_of,
    bounded_by,
    page,
    require_token_scope,
)
from sizhen.core.models import TransitionHistory
from sizhen.core.permissions import require_capability
from sizhen.rectification import services
from sizhen.rectification.choices import Source
from sizhen.rectification.models import ProgressReport, RectificationItem
from sizhen.rectification.selectors import ledger_summary, overdue_q
from sizhen.rectification.workflow import STATES

router = Router(tags=["整改清单"])

READ_SCOPE = "read"
#: Department tokens report rectification progress with the scope they use for task feedback.
PROGRESS_SCOPE = "rectification:write"


class ItemFilters(Schema):
    status: str = ""
    source: str = ""
    region: str = ""
    overdue: bool | None = None
    repeated: bool | None = None
    year: Annotated[int, Field(ge=1900, le=2999)] | None = None
    limit: Limit = 100
    offset: Offset = 0


class ItemOut(Schema):
    id: int
    number: str
    title: str
    description: str
    source: str
    source_label: str
    region_code: str
    region_name: str
    lead_department: str
    responsible_departments: list[str]
    measures: str
    deadline: dt.date
    indicators: list[str]
    year: int
    status: str
    status_label: str
    round: int
    overdue: bool
    repeated: bool
    repeat_reason: str
    progress_note: str
    closed_at: dt.datetime | None


class ItemPage(Schema):
    meta: PageMeta
    items: list[ItemOut]


class SummaryOut(Schema):
    total: int
    closed: int
    rate: float
    repeated: int
    overdue: int


class ProgressIn(Schema):
    note: Annotated[str, bounded_by(ProgressReport, "note")]
    # Out of 0–100 the service answers 422 with its own message; the bound only keeps the
    # number an integer the database can hold.
    percent: Annotated[int, Field(ge=-(2**31), le=2**31 - 1)] | None = None


class ProgressOut(Schema):
    id: int
    item_id: int
    round: int
    note: str
    percent: int | None
    reported_at: dt.datetime


class StepIn(Schema):
    note: Annotated[str, bounded_by(TransitionHistory, "note")] = ""
    #: The state the client last saw; a step taken on stale data is refused (409). Optional
    #: over the API (docs/api.md, "Stale-status guard").
    status: Annotated[str, bounded_by(RectificationItem, "status")] | None = None


def _out(item: RectificationItem) -> dict[str, Any]:
    return {
        "id": item.pk,
        "number": item.number,
        "title": item.title,
        "description": item.description,
        "source": item.source,
        "source_label": item.get_source_display(),
        "region_code": item.region.code,
        "region_name": item.region.name,
        "lead_department": item.lead_department.name,
        "responsible_departments": [d.name for d in item.responsible_departments.all()],
        "measures": item.measures,
        "deadline": item.deadline,
        "indicators": [i.code for i in item.indicators.all()],
        "year": item.year,
        "status": item.status,
        "status_label": STATES.get(item.status, item.status),
        "round": item.round,
        "overdue": item.is_overdue,
        "repeated": item.repeated,
        "repeat_reason": item.repeat_reason,
        "progress_note": item.progress_note,
        "closed_at": item.closed_at,
    }


def _reader(request: HttpRequest) -> Any:
    require_token_scope(request, READ_SCOPE)
    actor = actor_of(request)
    require_capability(actor, "staff.api", target="整改清单接口")
    return actor


def _base() -> Any:
    return RectificationItem.objects.select_related("region", "lead_department").prefetch_related(
        "responsible_departments", "indicators"
    )


@router.get("/rectification/items", response=ItemPage, summary="整改清单（按权限范围）")
def list_items(request: HttpRequest, filters: Query[ItemFilters]) -> dict[str, Any]:
    actor = _reader(request)
    if filters.status and filters.status not in STATES:
        raise HttpError(400, f"参数 status 应为 {'、'.join(STATES)} 之一")
    if filters.source and filters.source not in Source.values:
        raise HttpError(400, f"参数 source 应为 {'、'.join(Source.values)} 之一")
    qs = _base().visible_to(actor)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.source:
        qs = qs.filter(source=filters.source)
    if filters.region:
        qs = qs.filter(region__code=filters.region)
    if filters.overdue is not None:
        qs = qs.filter(overdue_q()) if filters.overdue else qs.exclude(overdue_q())
    if filters.repeated is not None:
        qs = qs.filter(repeated=filters.repeated)
    if filters.year is not None:
        qs = qs.filter(year=filters.year)
    items, meta = page(qs.order_by("deadline", "pk"), filters.limit, filters.offset)
    return {"meta": meta, "items": [_out(i) for i in items]}


@router.get("/rectification/summary", response=SummaryOut, summary="整改清单完成情况")
def summary(request: HttpRequest) -> dict[str, Any]:
    return ledger_summary(_reader(request))


@router.get(
    "/rectification/items/{item_id}",
    response={200: ItemOut, 404: ErrorOut},
    summary="一个整改事项",
)
def get_item(request: HttpRequest, item_id: int) -> dict[str, Any]:
    actor = _reader(request)
    return _out(get_visible_or_404(_base(), actor, pk=item_id))


@router.post(
    "/rectification/items/{item_id}/progress",
    response={201: ProgressOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="报送整改进展（牵头单位，含部门令牌）",
)
def post_progress(request: HttpRequest, item_id: int, body: ProgressIn) -> Any:
    require_token_scope(request, PROGRESS_SCOPE)
    actor = actor_of(request)
    require_capability(actor, "staff.api", target="整改进展接口")
    item = get_visible_or_404(
        RectificationItem.objects.select_related("region"), actor, CHANGE, pk=item_id
    )
    try:
        report = services.report_progress(item, actor=actor, note=body.note, percent=body.percent)
    except ValidationError as exc:
        return Status(422, {"detail": "；".join(exc.messages)})
    return Status(
        201,
        {
            "id": report.pk,
            "item_id": item.pk,
            "round": report.round,
            "note": report.note,
            "percent": report.percent,
            "reported_at": report.reported_at,
        },
    )


@router.post(
    "/rectification/items/{item_id}/steps/{action}",
    response={200: ItemOut, 404: ErrorOut, 409: ErrorOut},
    summary="办理一步（接收、申请销号、退回、销号、重新打开）",
)
def post_step(request: HttpRequest, item_id: int, action: str, body: StepIn) -> Any:
    actor = actor_of(request)
    # Steps are decisions of people; machine tokens only report progress.
    require_capability(actor, "staff.pages", target="整改办理接口")
    item = get_visible_or_404(
        RectificationItem.objects.select_related("region"), actor, CHANGE, pk=item_id
    )
    services.transition_item(item, action, actor=actor, note=body.note, seen_status=body.status)
    return Status(200, _out(get_visible_or_404(_base(), actor, pk=item_id)))
