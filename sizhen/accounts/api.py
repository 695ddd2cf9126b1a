"""API authentication: API tokens (Bearer or X-Api-Key) and browser sessions (with CSRF)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from sizhen.accounts.models import TokenActor, User
from sizhen.accounts.services import authenticate_token
from sizhen.core import context
from sizhen.core.access import role_of
from sizhen.core.api import actor_of


class BearerTokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> TokenActor | None:
        return authenticate_token(token, client_address=context.current().client_address)


class HeaderTokenAuth(APIKeyHeader):
    param_name = "X-Api-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> TokenActor | None:
        if not key:
            return None
        return authenticate_token(key, client_address=context.current().client_address)


class ActiveSessionAuth(SessionAuth):
    """A logged-in person who has already set their own password.

    Consulted only for a request that carries a session cookie and no token: a machine
    client's bad or revoked token answers 401, not a CSRF refusal meant for browsers."""

    def _get_key(self, request: HttpRequest) -> str | None:
        if (
            "Authorization" in request.headers
            or "X-Api-Key" in request.headers
            or self.param_name not in request.COOKIES
        ):
            return None
        try:
            return super()._get_key(request)
        except HttpError as exc:
            raise HttpError(403, "CSRF 校验失败：请刷新页面后重试") from exc

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if key is None:
            return None
        user = super().authenticate(request, key)
        if user is None or getattr(user, "must_change_password", False):
            return None
        return user


API_AUTH = [BearerTokenAuth(), HeaderTokenAuth(), ActiveSessionAuth()]

router = Router(tags=["账号"])


class MeOut(Schema):
    kind: str
    name: str
    role: str
    role_label: str
    scope: str
    department_code: str | None = None
    region_code: str | None = None


@router.get("/me", response=MeOut, summary="当前调用者")
def me(request: HttpRequest) -> dict[str, Any]:
    actor = actor_of(request)
    role = role_of(actor) or ""
    if isinstance(actor, TokenActor):
        return {
            "kind": "token",
            "name": actor.audit_label,
            "role": role,
            "role_label": "接口客户端",
            "scope": actor.department.name,
            "department_code": actor.department.code,
            "region_code": actor.department.region.code,
        }
    if not isinstance(actor, User):  # pragma: no cover - the API authenticates these two only
        raise AuthenticationError
    region = actor.scope_region
    return {
        "kind": "user",
        "name": str(actor),
        "role": role,
        "role_label": actor.role_label,
        "scope": actor.scope_label,
        "department_code": actor.department.code if actor.department is not None else None,
        "region_code": region.code if region else None,
    }
