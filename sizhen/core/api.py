"""Shared pieces of the REST API (/api/v1): the actor of a request, scope checks, paging."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Schema

from sizhen.core.access import role_of
from sizhen.core.audit import record_event
from sizhen.core.roles import Role


class ErrorOut(Schema):
    detail: str


class PageMeta(Schema):
    count: int
    limit: int
    offset: int


def actor_of(request: HttpRequest) -> Any:
    """The authenticated actor: a user (session) or a TokenActor (API token)."""
    return getattr(request, "auth", None)


def require_token_scope(request: HttpRequest, scope: str) -> None:
    """Machine clients need the named token scope; people are governed by their role instead."""
    actor = actor_of(request)
    if role_of(actor) != Role.MACHINE:
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
