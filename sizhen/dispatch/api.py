"""派单目录与智能派单 over the API (/api/v1): the dispatch suggestion for a request's text, for
staff and for machine clients (the 12345 hotline) whose token has the "requests:write" scope."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import HttpError

from sizhen.core.api import actor_of, require_token_scope
from sizhen.core.permissions import require_capability
from sizhen.dispatch.catalogue import category_name
from sizhen.dispatch.services import suggest

router = Router(tags=["派单"])

MAX_TEXT = 5000


class SuggestIn(Schema):
    text: str


class DepartmentOut(Schema):
    code: str | None
    name: str
    confidence: float


class CategoryOut(Schema):
    code: str
    name: str
    confidence: float


class SuggestOut(Schema):
    departments: list[DepartmentOut]
    categories: list[CategoryOut]
    model_version: str


@router.post("/dispatch/suggest", response=SuggestOut, summary="智能派单建议（前三个部门和类别）")
def suggest_dispatch(request: HttpRequest, payload: SuggestIn) -> dict[str, Any]:
    require_token_scope(request, "requests:write")
    require_capability(actor_of(request), "staff.api", target="智能派单接口")
    text = payload.text.strip()
    if not text:
        raise HttpError(400, "诉求内容不能为空")
    if len(text) > MAX_TEXT:
        raise HttpError(400, f"诉求内容不能超过 {MAX_TEXT} 字")
    result = suggest(text, top=3)
    return {
        "departments": [
            {
                "code": g.department.code if g.department is not None else None,
                "name": g.label,
                "confidence": g.confidence,
            }
            for g in result.departments
        ],
        "categories": [
            {"code": c.label, "name": category_name(c.label), "confidence": c.confidence}
            for c in result.categories
        ],
        "model_version": result.model_version,
    }
