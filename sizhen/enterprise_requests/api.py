"""企业诉求 over the API (/api/v1): machine intake for the 12345 hotline and other channels,
and scoped reads.

POST /requests takes one request. Machine clients use a department API token with the
``requests:write`` scope; people use their session (enterprises through the portal channel,
the office and district officers for staff channels). An ``Idempotency-Key`` header makes
retries safe: the same key from the same source answers 200 with the request first created
(201), and creates nothing. GET /requests and /requests/{number} are scoped like the pages;
phone numbers are masked in lists."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from sizhen.core.access import VIEW, get_visible_or_404, is_machine, role_of
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
from sizhen.core.permissions import require_capability
from sizhen.core.roles import Role
from sizhen.enterprise_requests import services
from sizhen.enterprise_requests.choices import Channel
from sizhen.enterprise_requests.models import EnterpriseRequest, RequestCategory
from sizhen.enterprise_requests.selectors import (
    active_category,
    mask_phone,
    request_base,
    requests_visible_to,
)
from sizhen.organisations.models import Enterprise, Region
from sizhen.organisations.selectors import region_by_code

router = Router(tags=["企业诉求"])

WRITE_SCOPE = "requests:write"
READ_SCOPE = "requests:read"
#: Channels a machine client may declare; the portal and staff channels belong to people.
MACHINE_CHANNELS = (Channel.HOTLINE_12345, Channel.API)
IDEMPOTENCY_HEADER = "HTTP_IDEMPOTENCY_KEY"


def _bounded(name: str) -> Any:
    return bounded_by(EnterpriseRequest, name)


class RequestIn(Schema):
    text: Annotated[str, _bounded("text")]
    title: Annotated[str, _bounded("title")] = ""
    channel: Annotated[str, _bounded("channel")] = ""
    kind: Annotated[str, _bounded("kind")] | None = None
    category: Annotated[str, bounded_by(RequestCategory, "code")] | None = None
    enterprise_uscc: Annotated[str, bounded_by(Enterprise, "uscc")] | None = None
    contact_name: Annotated[str, _bounded("contact_name")] = ""
    contact_phone: Annotated[str, _bounded("contact_phone")] = ""
    region_code: Annotated[str, bounded_by(Region, "code")] | None = None
    address: Annotated[str, _bounded("address")] = ""
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    publishable: bool = False
    external_id: Annotated[str, _bounded("external_id")] = ""


class RequestOut(Schema):
    number: str
    status: str
    status_label: str
    channel: str
    kind: str
    category: str | None = None
    category_name: str | None = None
    title: str
    text: str
    enterprise: str | None = None
    contact_name: str
    contact_phone: str
    region_code: str | None = None
    lead_department: str | None = None
    deadline: Any = None
    deadline_provisional: bool
    submitted_at: Any
    replied_at: Any = None
    closed_at: Any = None
    reply: str = ""
    satisfaction: int | None = None
    external_id: str
    duplicate_of: str | None = None
    suspected_duplicate_of: str | None = None


class RequestPage(Schema):
    meta: PageMeta
    items: list[RequestOut]


class CategoryOut(Schema):
    code: str
    name: str
    parent: str | None = None
    kind: str
    difficulty: str
    time_limit_days: int
    description: str


def _out(request: EnterpriseRequest, *, mask: bool) -> dict[str, Any]:
    visible_reply = request.reply_text if request.replied_at is not None else ""
    return {
        "number": request.number,
        "status": request.status,
        "status_label": request.status_label,
        "channel": request.channel,
        "kind": request.kind,
        "category": request.category.code if request.category else None,
        "category_name": request.category.name if request.category else None,
        "title": request.title,
        "text": request.text,
        "enterprise": request.enterprise.name if request.enterprise else None,
        "contact_name": request.contact_name,
        "contact_phone": mask_phone(request.contact_phone) if mask else request.contact_phone,
        "region_code": request.region.code if request.region else None,
        "lead_department": request.lead_department.name if request.lead_department else None,
        "deadline": request.deadline,
        "deadline_provisional": request.deadline_provisional,
        "submitted_at": request.submitted_at,
        "replied_at": request.replied_at,
        "closed_at": request.closed_at,
        "reply": visible_reply,
        "satisfaction": request.satisfaction,
        "external_id": request.external_id,
        "duplicate_of": request.duplicate_of.number if request.duplicate_of else None,
        "suspected_duplicate_of": (
            request.suspected_duplicate_of.number if request.suspected_duplicate_of else None
        ),
    }


def _require_write(request: HttpRequest) -> Any:
    actor = actor_of(request)
    if role_of(actor) == Role.MACHINE:
        require_token_scope(request, WRITE_SCOPE)
    else:
        require_capability(actor, "request.push", action="requests.push", target="诉求接口")
    return actor


def _require_read(request: HttpRequest) -> Any:
    actor = actor_of(request)
    if is_machine(actor):
        if not actor.has_scope(WRITE_SCOPE):
            require_token_scope(request, READ_SCOPE)
    else:
        require_capability(actor, "request.read_api", action="requests.read", target="诉求接口")
    return actor


@router.post(
    "/requests",
    response={200: RequestOut, 201: RequestOut, 400: ErrorOut, 404: ErrorOut},
    summary="提交企业诉求",
    description=(
        "请求头 Idempotency-Key 用于安全重试：同一来源的同一键只创建一条诉求，重复提交返回 200 和原诉求。"
        "category 为诉求分类编码，enterprise_uscc 为统一社会信用代码，region_code 为区划代码。"
        "接口令牌需要 requests:write 权限，渠道为 hotline_12345（默认）或 api。"
    ),
)
def create_request(request: HttpRequest, payload: RequestIn) -> Status[Any]:
    actor = _require_write(request)
    role = role_of(actor)
    channel = payload.channel or (Channel.HOTLINE_12345 if role == Role.MACHINE else Channel.PORTAL)
    if role == Role.MACHINE and channel not in MACHINE_CHANNELS:
        return Status(400, {"detail": "接口令牌只能提交 hotline_12345 或 api 渠道的诉求"})
    category = None
    if payload.category:
        category = active_category(payload.category)
        if category is None:
            return Status(400, {"detail": f"诉求分类编码 {payload.category} 不存在或已停用"})
    enterprise = None
    if payload.enterprise_uscc and role != Role.ENTERPRISE:
        enterprise = Enterprise.objects.filter(uscc=payload.enterprise_uscc.strip().upper()).first()
        if enterprise is None:
            return Status(400, {"detail": f"统一社会信用代码 {payload.enterprise_uscc} 未登记"})
    region = None
    if payload.region_code:
        region = region_by_code(payload.region_code)
        if region is None:
            return Status(400, {"detail": f"区划代码 {payload.region_code} 不存在"})
    created_request, created = services.submit_request(
        actor=actor,
        channel=channel,
        text=payload.text,
        title=payload.title,
        kind=payload.kind,
        category=category,
        enterprise=enterprise,
        contact_name=payload.contact_name,
        contact_phone=payload.contact_phone,
        region=region,
        address=payload.address,
        lat=payload.lat,
        lon=payload.lon,
        publishable=payload.publishable,
        external_id=payload.external_id,
        idempotency_key=request.META.get(IDEMPOTENCY_HEADER),
    )
    if created:
        # The new row's relations are the objects just looked up: no second read.
        return Status(201, _out(created_request, mask=False))
    # A repeated key: the request first created, with its relations in one query.
    first = request_base().select_related("suspected_duplicate_of").get(pk=created_request.pk)
    return Status(200, _out(first, mask=False))


@router.get("/requests", response=RequestPage, summary="企业诉求列表（按权限范围）")
def list_requests(
    request: HttpRequest,
    status: str = "",
    channel: str = "",
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    actor = _require_read(request)
    qs = requests_visible_to(actor).select_related("duplicate_of", "suspected_duplicate_of")
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    items, meta = page(qs.order_by("-submitted_at", "-id"), limit, offset)
    return {"meta": meta, "items": [_out(r, mask=True) for r in items]}


@router.get("/requests/{number}", response={200: RequestOut, 404: ErrorOut}, summary="企业诉求详情")
def get_request(request: HttpRequest, number: str) -> Any:
    actor = _require_read(request)
    found = get_visible_or_404(request_base(), actor, VIEW, number=number)
    return _out(found, mask=False)


@router.get("/request-categories", response=list[CategoryOut], summary="诉求分类")
def list_categories(request: HttpRequest) -> list[dict[str, Any]]:
    actor = _require_read(request)
    qs = RequestCategory.objects.visible_to(actor).filter(active=True).select_related("parent")
    return [
        {
            "code": c.code,
            "name": c.name,
            "parent": c.parent.code if c.parent else None,
            "kind": c.default_kind,
            "difficulty": c.difficulty,
            "time_limit_days": c.time_limit_days,
            "description": c.description,
        }
        for c in qs.order_by("code")
    ]
