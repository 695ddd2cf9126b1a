"""Shared pieces of the REST API (/api/v1): the actor of a request, scope checks, paging."""

from __future__ import annotations

from typing import Annotated, Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from pydantic import Field

from sizhen.core.access import Actor, is_machine
from sizhen.core.audit import record_event


class ErrorOut(Schema):
    """Every error answer: ``detail``, one Chinese sentence (docs/api.md, "Errors")."""

    detail: str


#: The deepest offset a list accepts: far beyond any real list, well inside the integers
#: SQLite and PostgreSQL take for OFFSET.
MAX_OFFSET = 1_000_000_000
#: The largest page size a list accepts; each list caps it further at its own page size.
MAX_LIMIT = 10_000
#: Free text the database stores without a length of its own (TextField).
MAX_TEXT_LENGTH = 5_000

Limit = Annotated[
    int, Field(ge=1, le=MAX_LIMIT, description="每页条数（超出本接口上限按上限返回）")
]
Offset = Annotated[int, Field(ge=0, le=MAX_OFFSET, description="跳过的条数")]


def bounded_by(model: Any, name: str) -> Any:
    """``Annotated[str, bounded_by(Model, "field")]``: a string as long as the model field it is
    stored in may be (TextField: MAX_TEXT_LENGTH), so an over-long value answers 422 instead
    of being cut, or refused by PostgreSQL with a 500."""
    return Field(max_length=model._meta.get_field(name).max_length or MAX_TEXT_LENGTH)


class PageMeta(Schema):
    count: int
    limit: int
    offset: int


def actor_of(request: HttpRequest) -> Actor:
    """The authenticated actor: a user (session) or a TokenActor (API token). Every route runs
    behind the API's authentication (``API_AUTH`` in config/api.py), which sets it."""
    actor: Actor | None = getattr(request, "auth", None)
    if actor is None:  # pragma: no cover - only a route without authentication would get here
        raise AuthenticationError
    return actor


def anonymous_visitor(request: HttpRequest) -> AnonymousUser | None:
    """The last authentication of a route the public may call (published policies): a request
    that carries no credentials at all passes as an anonymous visitor, whom every scope answers
    with the public rows only; one whose token failed stays refused (401)."""
    if "Authorization" in request.headers or "X-Api-Key" in request.headers:
        return None
    return AnonymousUser()


def require_token_scope(request: HttpRequest, scope: str) -> None:
    """Machine clients need the named token scope; people are governed by their role instead."""
    actor = actor_of(request)
    if not is_machine(actor):
        return
    if not actor.has_scope(scope):
        record_event(
            "access.denied",
            actor=actor,
            object_type="api",
            object_id=request.path[:64],
            message=f"令牌缺少权限范围 {scope}",
        )
        raise Http404("未找到")


def page(qs: Any, limit: int, offset: int, max_limit: int = 500) -> tuple[list[Any], PageMeta]:
    limit = max(1, min(limit, max_limit))
    offset = max(0, offset)
    total = qs.count()
    return list(qs[offset : offset + limit]), PageMeta(count=total, limit=limit, offset=offset)


# --- error answers -------------------------------------------------------------------------

#: pydantic error type -> Chinese message (``{…}`` filled from the error's context)
VALIDATION_MESSAGES = {
    "missing": "必填",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为文本",
    "list_type": "应为数组",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_type": "应为日期（YYYY-MM-DD）",
    "datetime_parsing": "应为时间（YYYY-MM-DDTHH:MM:SS）",
    "datetime_from_date_parsing": "应为时间（YYYY-MM-DDTHH:MM:SS）",
    "datetime_type": "应为时间（YYYY-MM-DDTHH:MM:SS）",
    "greater_than_equal": "不能小于 {ge}",
    "greater_than": "应大于 {gt}",
    "less_than_equal": "不能大于 {le}",
    "less_than": "应小于 {lt}",
    "string_too_long": "长度不能超过 {max_length} 个字符",
    "string_too_short": "长度不能少于 {min_length} 个字符",
    "too_long": "最多 {max_length} 项",
    "too_short": "至少 {min_length} 项",
    "literal_error": "取值应为 {expected}",
    "enum": "取值应为 {expected}",
    "json_invalid": "不是有效的 JSON",
    "json_type": "不是有效的 JSON",
    "int_parsing_size": "数值超出范围",
    "finite_number": "应为有限数字",
}

#: status -> the Chinese sentence for errors raised with ninja's English defaults
DEFAULT_DETAILS = {
    400: "请求有误",
    401: "未认证：请提供有效的接口令牌，或登录后使用",
    403: "无权访问",
    404: "未找到",
    405: "不支持该请求方法",
    413: "请求体过大",
    429: "请求过于频繁，请稍后再试",
}


def _validation_message(error: dict[str, Any]) -> str:
    template = VALIDATION_MESSAGES.get(str(error.get("type", "")), "取值无效")
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError):
        return template


def _field_name(loc: list[Any]) -> str:
    # ("query", "limit") -> "limit"; ("body", "payload", "milestones", 0, "title") ->
    # "milestones[0].title": the parameter's location and ninja's wrapper name say nothing.
    parts = [p for p in loc[1:] if p != "payload"] if len(loc) > 1 else list(loc)
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "请求体"


def _json(api: NinjaAPI, request: HttpRequest, body: dict[str, Any], status: int) -> HttpResponse:
    return api.create_response(request, body, status=status)


def validation_error(request: HttpRequest, exc: ValidationError, *, api: NinjaAPI) -> HttpResponse:
    errors = [
        {"field": _field_name(list(e.get("loc", []))), "message": _validation_message(e)}
        for e in exc.errors
    ]
    summary = "；".join(f"{e['field']} {e['message']}" for e in errors[:5])
    return _json(api, request, {"detail": f"请求参数有误：{summary}", "errors": errors}, 422)


def http_error(request: HttpRequest, exc: HttpError, *, api: NinjaAPI) -> HttpResponse:
    detail = exc.message
    if exc.message.startswith("Cannot parse request body"):
        detail = "请求体无法解析：应为有效的 JSON"
    elif isinstance(exc, AuthenticationError) or not any("\u4e00" <= c <= "\u9fff" for c in detail):
        detail = DEFAULT_DETAILS.get(exc.status_code, "请求有误")
    return _json(api, request, {"detail": detail}, exc.status_code)


def not_found(request: HttpRequest, exc: Exception, *, api: NinjaAPI) -> HttpResponse:
    return _json(api, request, {"detail": DEFAULT_DETAILS[404]}, 404)


def body_too_big(request: HttpRequest, exc: Exception, *, api: NinjaAPI) -> HttpResponse:
    return _json(api, request, {"detail": too_big_message()}, 413)


def too_big_message() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
    return f"请求体过大：超过 {limit / 1024 / 1024:g} MiB 的上限，请分批提交"


def install_error_handlers(api: NinjaAPI) -> None:
    """Every error of the API answers ``{"detail": "<中文>"}`` (422 adds ``errors``, one
    ``{field, message}`` per invalid parameter), never ninja's English defaults."""
    from functools import partial

    api.add_exception_handler(ValidationError, partial(validation_error, api=api))
    api.add_exception_handler(HttpError, partial(http_error, api=api))
    api.add_exception_handler(Http404, partial(not_found, api=api))
    api.add_exception_handler(RequestDataTooBig, partial(body_too_big, api=api))
