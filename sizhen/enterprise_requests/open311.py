"""Open311 GeoReport v2 adapter (Open311 接口) for enterprise requests (企业诉求) at /open311/v2/.

GeoReport is the civic-issue standard; here it is a thin boundary over the one ledger:
services are the active request categories (诉求词条库), a POSTed request goes through
``services.submit_request`` with the ``open311`` channel, and reads go through the same scope
as the rest of the module. Conventions (see docs/enterprise-requests.md, "Open311 GeoReport v2"):

- ``service_request_id`` is the request number (``SQ2026-000123``), always a string.
- ``status`` is ``open``/``closed`` only; the Chinese workflow state is in ``status_notes`` and
  ``extended_attributes.detailed_status``.
- POST needs ``api_key``: a department API token with the ``requests:write`` scope (the same
  hashed-token check as /api/v1). GETs need no key; without one only requests whose enterprise
  agreed to publication (``publishable``) are listed, masked. A key with ``requests:read`` or
  ``requests:write`` adds, unmasked, what its department may see.
- Errors are ``[{"code": 400, "description": "…"}]`` (XML ``<errors><error>…``).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from sizhen.accounts.models import TokenActor
from sizhen.accounts.services import authenticate_token
from sizhen.core import context
from sizhen.core.audit import record_event
from sizhen.enterprise_requests import services
from sizhen.enterprise_requests.choices import Channel, Kind
from sizhen.enterprise_requests.models import EnterpriseRequest, RequestCategory
from sizhen.enterprise_requests.selectors import (
    active_category,
    mask_name,
    mask_phone,
    requests_visible_to,
)
from sizhen.enterprise_requests.workflow import STATES, TERMINAL, is_closed
from sizhen.organisations.models import Enterprise, Region
from sizhen.organisations.selectors import region_by_code

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
WRITE_SCOPE = "requests:write"
READ_SCOPES = ("requests:read", "requests:write")
#: Most rows one GET requests answers (the spec's default volume is 1,000).
MAX_REQUESTS = 1000
#: The spec's query window: default and maximum span of start_date..end_date.
WINDOW = dt.timedelta(days=90)
CHINA = ZoneInfo("Asia/Shanghai")
JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
FORMATS = ("json", "xml")
IDEMPOTENCY_HEADER = "HTTP_IDEMPOTENCY_KEY"
#: Item tags of the XML lists (the spec's "Spark convention": a plural holds singulars).
_ITEM_TAGS = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "notes": "note",
}
_PHONE = re.compile(r"1\d{10}")


# --- rendering ----------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list):
        item_tag = _ITEM_TAGS.get(element.tag, "item")
        for child in value:
            _fill(ET.SubElement(element, item_tag), child)
    else:
        element.text = _text(value)


def _xml(root: str, item: str | None, data: Any) -> bytes:
    element = ET.Element(root)
    if item is None:
        _fill(element, data)
    else:
        for row in data:
            _fill(ET.SubElement(element, item), row)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="utf-8")


def _respond(
    fmt: str, data: Any, root: str, item: str | None = None, status: int = 200
) -> HttpResponse:
    if fmt == "xml":
        return HttpResponse(_xml(root, item, data), content_type=XML_TYPE, status=status)
    return JsonResponse(
        data,
        safe=False,
        status=status,
        content_type=JSON_TYPE,
        json_dumps_params={"ensure_ascii": False},
    )


def _error(fmt: str, status: int, description: str) -> HttpResponse:
    return _respond(fmt, [{"code": status, "description": description}], "errors", "error", status)


def w3c(value: dt.datetime | None) -> str | None:
    """W3C datetime in China time, e.g. 2026-03-02T09:30:00+08:00."""
    if value is None:
        return None
    return value.astimezone(CHINA).isoformat(timespec="seconds")


def _end_of_day(day: dt.date | None) -> str | None:
    if day is None:
        return None
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=CHINA).isoformat()


# --- authentication -------------------------------------------------------------------------------


def _raw_key(request: HttpRequest) -> str:
    authorization = request.META.get("HTTP_AUTHORIZATION", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip()
    source = request.POST if request.method == "POST" else request.GET
    return (
        source.get("api_key") or request.GET.get("api_key") or request.headers.get("X-Api-Key", "")
    ).strip()


def _token_actor(request: HttpRequest) -> TokenActor | None:
    """The TokenActor of the api_key (same hashed-token check as /api/v1), or None."""
    raw = _raw_key(request)
    if not raw:
        return None
    return authenticate_token(raw, client_address=context.current().client_address)


# --- services (taxonomy) --------------------------------------------------------------------------


def _service_categories() -> list[RequestCategory]:
    """Leaf categories: second-level ones, and first-level ones without active children."""
    categories = list(
        RequestCategory.objects.filter(active=True)
        .select_related("parent")
        .order_by("sort_order", "code")
    )
    parents = {c.parent_id for c in categories if c.parent_id is not None}
    return [
        c
        for c in categories
        if (c.parent_id is None and c.pk not in parents)
        or (c.parent is not None and c.parent.active)
    ]


def _keywords(category: RequestCategory) -> str:
    words = [category.name] + [
        w.strip() for w in re.split(r"[、，,；;。\s]+", category.description) if w.strip()
    ]
    return ",".join(dict.fromkeys(words))


def _service(category: RequestCategory) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description,
        "metadata": True,
        "type": "realtime",
        "keywords": _keywords(category),
        "group": category.parent.name if category.parent else "",
    }


def _attributes() -> list[dict[str, Any]]:
    regions = Region.objects.filter(is_active=True).order_by("path").only("code", "name")
    region_values = [{"key": r.code, "name": r.name} for r in regions]
    return [
        {
            "variable": True,
            "code": "uscc",
            "datatype": "string",
            "required": False,
            "datatype_description": "18 位统一社会信用代码",
            "order": 1,
            "description": "提出诉求的企业（统一社会信用代码）；填写后可不提供位置",
        },
        {
            "variable": True,
            "code": "region",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": "区划代码",
            "order": 2,
            "description": "诉求所属区域；企业诉求可以没有具体位置，此时以区域代替",
            "values": region_values,
        },
        {
            "variable": True,
            "code": "kind",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": "缺省为该分类的默认诉求类型",
            "order": 3,
            "description": "诉求类型",
            "values": [{"key": k, "name": label} for k, label in Kind.choices],
        },
        {
            "variable": True,
            "code": "publishable",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": "true 或 false，缺省 false",
            "order": 4,
            "description": "企业是否同意公开办理结果",
            "values": [{"key": "true", "name": "同意公开"}, {"key": "false", "name": "不同意公开"}],
        },
        {
            "variable": True,
            "code": "title",
            "datatype": "string",
            "required": False,
            "datatype_description": "不超过 200 字，缺省取诉求内容首行",
            "order": 5,
            "description": "诉求标题",
        },
        {
            "variable": True,
            "code": "idempotency_key",
            "datatype": "string",
            "required": False,
            "datatype_description": "不超过 100 个字符",
            "order": 6,
            "description": "幂等键：同一令牌以同一键重试只创建一条诉求（也可用请求头 Idempotency-Key）",
        },
        {
            "variable": True,
            "code": "external_id",
            "datatype": "string",
            "required": False,
            "datatype_description": "不超过 100 个字符",
            "order": 7,
            "description": "来源系统的诉求编号；未提供幂等键时兼作幂等键",
        },
    ]


@require_GET
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    base = request.build_absolute_uri("/open311/v2/")
    latest = RequestCategory.objects.order_by("-version").values_list("version", flat=True).first()
    changeset = f"{timezone.localdate():%Y-%m-%d}" if latest is None else f"taxonomy-v{latest}"
    data = {
        "changeset": changeset,
        "contact": "营商环境监测平台运维组（市营商环境建设办公室）",
        "key_service": "向市营商办申请部门接口令牌（权限范围：推送企业诉求 requests:write）",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base.rstrip("/"),
                "changeset": changeset,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return _respond(fmt, data, "discovery")


@require_GET
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    return _respond(fmt, [_service(c) for c in _service_categories()], "services", "service")


@require_GET
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    category = RequestCategory.objects.filter(code=code, active=True).first()
    if category is None:
        return _error(fmt, 404, f"服务编码 {code} 不存在或已停用")
    return _respond(
        fmt, {"service_code": category.code, "attributes": _attributes()}, "service_definition"
    )


# --- request objects ------------------------------------------------------------------------------


def _updated(r: EnterpriseRequest) -> dt.datetime:
    if r.closed_at is not None:
        return r.closed_at
    stamps = [r.submitted_at, r.dispatched_at, r.accepted_at, r.replied_at]
    return max(s for s in stamps if s is not None)


def _masked_text(r: EnterpriseRequest, text: str) -> str:
    if r.enterprise is not None and r.enterprise.name:
        text = text.replace(r.enterprise.name, mask_name(r.enterprise.name))
    if r.contact_name:
        text = text.replace(r.contact_name, mask_name(r.contact_name))
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), text)


def request_object(r: EnterpriseRequest, *, full: bool) -> dict[str, Any]:
    """One GeoReport request. ``full`` for a key whose department may see the request;
    otherwise (a publishable request shown to anyone) enterprise and personal data are masked
    and the free text is reduced to the title."""
    status_note = STATES.get(r.status, r.status)
    if r.status == "merged" and r.duplicate_of is not None:
        status_note = f"{status_note}（并入 {r.duplicate_of.number}）"
    extended: dict[str, Any] = {
        "channel": r.channel,
        "kind": r.kind,
        "detailed_status": r.status,
        "region_code": r.region.code if r.region else None,
    }
    if full:
        description = r.text
        address = r.address or (r.region.name if r.region else "")
        lat, lon = r.lat, r.lon
        extended["enterprise"] = r.enterprise.name if r.enterprise else None
        extended["enterprise_uscc"] = r.enterprise.uscc if r.enterprise else None
        extended["external_id"] = r.external_id
    else:
        description = _masked_text(r, r.title)
        # A precise address points at one enterprise; the district is enough for the public.
        address = r.region.name if r.region else ""
        lat = lon = None
        extended["enterprise"] = mask_name(r.enterprise.name) if r.enterprise else None
    return {
        "service_request_id": r.number,
        "status": "closed" if is_closed(r.status) else "open",
        "status_notes": status_note,
        "service_name": r.category.name if r.category else "",
        "service_code": r.category.code if r.category else "",
        "description": description,
        "agency_responsible": r.lead_department.name if r.lead_department else "",
        "service_notice": "",
        "requested_datetime": w3c(r.submitted_at),
        "updated_datetime": w3c(_updated(r)),
        "expected_datetime": _end_of_day(r.deadline),
        "address": address,
        "address_id": r.region.code if r.region else "",
        "zipcode": "",
        "lat": lat,
        "long": lon,
        "media_url": "",
        "extended_attributes": extended,
    }


def _readable(request: HttpRequest) -> tuple[QuerySet[EnterpriseRequest], Any]:
    """Publishable requests for anyone, plus (unmasked) what a reading key's department sees.
    Returns the queryset annotated with ``full`` and the token actor (or None)."""
    actor = _token_actor(request)
    base = EnterpriseRequest.objects.select_related(
        "category", "enterprise", "region", "lead_department", "duplicate_of"
    )
    if actor is not None and any(actor.has_scope(s) for s in READ_SCOPES):
        visible = requests_visible_to(actor)
        qs = base.filter(Q(publishable=True) | Q(pk__in=visible.values("pk"))).annotate(
            full=Exists(visible.filter(pk=OuterRef("pk")))
        )
        return qs, actor
    return base.filter(publishable=True).annotate(full=Value(False)), None


def _parse_w3c(value: str, name: str) -> dt.datetime:
    parsed = parse_datetime(value.strip().replace(" ", "+"))
    if parsed is None:
        raise ValueError(f"{name} 不是 W3C 日期时间格式（例如 2026-01-01T00:00:00+08:00）")
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=CHINA)
    return parsed


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _query(request: HttpRequest, fmt: str) -> HttpResponse:
    qs, _actor = _readable(request)
    params = request.GET
    ids = _split(params.get("service_request_id", ""))
    if ids:
        # The spec: a list of ids overrides every other argument.
        rows = qs.filter(number__in=ids[:MAX_REQUESTS]).order_by("-submitted_at", "-id")
    else:
        try:
            now = timezone.now()
            end = _parse_w3c(params["end_date"], "end_date") if params.get("end_date") else None
            start = (
                _parse_w3c(params["start_date"], "start_date") if params.get("start_date") else None
            )
        except ValueError as exc:
            return _error(fmt, 400, str(exc))
        if start is None and end is None:
            end = now
        if start is None:
            assert end is not None
            start = end - WINDOW
        if end is None:
            end = start + WINDOW
        if end < start:
            return _error(fmt, 400, "end_date 不能早于 start_date")
        if end - start > WINDOW:
            return _error(fmt, 400, "查询时间范围不能超过 90 天")
        qs = qs.filter(submitted_at__gte=start, submitted_at__lte=end)
        codes = _split(params.get("service_code", ""))
        if codes:
            qs = qs.filter(category__code__in=codes)
        statuses = set(_split(params.get("status", "").lower()))
        if statuses - {"open", "closed"}:
            return _error(fmt, 400, "status 只能是 open 或 closed")
        if statuses == {"open"}:
            qs = qs.exclude(status__in=TERMINAL)
        elif statuses == {"closed"}:
            qs = qs.filter(status__in=TERMINAL)
        try:
            page_size = int(params.get("page_size") or MAX_REQUESTS)
            page_number = int(params.get("page") or 1)
        except ValueError:
            return _error(fmt, 400, "page 和 page_size 必须是正整数")
        if page_size < 1 or page_number < 1:
            return _error(fmt, 400, "page 和 page_size 必须是正整数")
        page_size = min(page_size, MAX_REQUESTS)
        offset = (page_number - 1) * page_size
        rows = qs.order_by("-submitted_at", "-id")[offset : offset + page_size]
    data = [request_object(r, full=bool(getattr(r, "full", False))) for r in rows]
    return _respond(fmt, data, "service_requests", "request")


@require_GET
def request_detail(request: HttpRequest, number: str, fmt: str) -> HttpResponse:
    qs, actor = _readable(request)
    found = qs.filter(number=number).first()
    if found is None:
        if actor is not None and EnterpriseRequest.objects.filter(number=number).exists():
            # A key reaching past its scope is worth a trace; the answer stays a plain 404.
            record_event(
                "access.denied",
                actor=actor,
                object_type="enterprise_requests.enterpriserequest",
                object_id=number[:64],
                message="Open311 查询超出令牌范围的诉求",
            )
        return _error(fmt, 404, f"诉求 {number} 不存在")
    return _respond(
        fmt,
        [request_object(found, full=bool(getattr(found, "full", False)))],
        "service_requests",
        "request",
    )


# --- POST requests --------------------------------------------------------------------------------


def _attribute(post: Any, code: str) -> str:
    return (post.get(f"attribute[{code}]") or "").strip()


def _float(post: Any, name: str) -> float | None:
    raw = (post.get(name) or "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} 必须是数字（WGS84 经纬度）") from None


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    actor = _token_actor(request)
    if actor is None:
        return _error(fmt, 403, "api_key 缺失或无效")
    if not actor.has_scope(WRITE_SCOPE):
        record_event(
            "access.denied",
            actor=actor,
            object_type="api",
            object_id=request.path[:64],
            message=f"令牌缺少权限范围 {WRITE_SCOPE}",
        )
        return _error(fmt, 403, "该接口令牌没有推送企业诉求（requests:write）的权限")
    post = request.POST
    code = (post.get("service_code") or "").strip()
    if not code:
        return _error(fmt, 400, "缺少 service_code（诉求分类编码）")
    category = active_category(code)
    if category is None:
        return _error(fmt, 400, f"服务编码 {code} 不存在或已停用")
    try:
        lat, lon = _float(post, "lat"), _float(post, "long")
    except ValueError as exc:
        return _error(fmt, 400, str(exc))
    if (lat is None) != (lon is None):
        return _error(fmt, 400, "lat 和 long 必须同时提供")
    address = (post.get("address_string") or "").strip()
    region_code = _attribute(post, "region") or (post.get("address_id") or "").strip()
    uscc = _attribute(post, "uscc").upper()
    if lat is None and not address and not region_code and not uscc:
        return _error(
            fmt,
            400,
            "缺少位置：请提供 lat 和 long、address_string、address_id（区划代码）、"
            "attribute[region] 或 attribute[uscc] 之一",
        )
    region = None
    if region_code:
        region = region_by_code(region_code)
        if region is None:
            return _error(fmt, 400, f"区划代码 {region_code} 不存在")
    enterprise = None
    if uscc:
        enterprise = Enterprise.objects.filter(uscc=uscc).first()
        if enterprise is None:
            return _error(fmt, 400, f"统一社会信用代码 {uscc} 未登记")
    kind = _attribute(post, "kind") or None
    publishable = _attribute(post, "publishable").lower() in ("true", "1", "yes")
    external_id = _attribute(post, "external_id")
    key = (
        request.META.get(IDEMPOTENCY_HEADER, "").strip()
        or _attribute(post, "idempotency_key")
        or external_id
        or None
    )
    contact = f"{(post.get('last_name') or '').strip()}{(post.get('first_name') or '').strip()}"
    try:
        created_request, created = services.submit_request(
            actor=actor,
            channel=Channel.OPEN311,
            text=(post.get("description") or "")[:4000],
            title=_attribute(post, "title"),
            kind=kind,
            category=category,
            enterprise=enterprise,
            contact_name=contact,
            contact_phone=(post.get("phone") or "").strip(),
            region=region,
            address=address,
            lat=lat,
            lon=lon,
            publishable=publishable,
            external_id=external_id,
            idempotency_key=key,
        )
    except services.RequestError as exc:
        return _error(fmt, 400, str(exc))
    notice = f"已受理，诉求编号 {created_request.number}，将由营商办登记派单后办理"
    if not created:
        notice = f"重复提交，已按原诉求 {created_request.number} 处理"
    data = [
        {
            "service_request_id": created_request.number,
            "service_notice": notice,
            "account_id": None,
        }
    ]
    return _respond(fmt, data, "service_requests", "request", status=201 if created else 200)


@csrf_exempt  # api_key authenticated machine POSTs carry no session cookie to forge
@require_http_methods(["GET", "POST"])
def requests_endpoint(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt)
    return _query(request, fmt)
