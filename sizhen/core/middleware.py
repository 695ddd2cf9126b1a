from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from sizhen.core import context


def client_address(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    trusted = settings.SIZHEN_TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and remote in trusted:
        # The right-most address not belonging to a trusted proxy is the client.
        for address in reversed([a.strip() for a in forwarded.split(",") if a.strip()]):
            if address not in trusted:
                return address
    return remote


class RequestContextMiddleware:
    """Binds the client address so that every audit event of this request records it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = context.bind(client_address(request))
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response


class ContentSecurityPolicyMiddleware:
    """Sends the Content-Security-Policy (docs/operations.md, "Security headers"): scripts only
    from the application's own static files, no inline script, no eval. A name that reaches a
    page unescaped then renders as text or, at worst, as an inert tag."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response
        self.policy = settings.SIZHEN_CONTENT_SECURITY_POLICY

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Content-Security-Policy", self.policy)
        return response


#: A JSON escape of NUL: an odd number of backslashes before "u0000".
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)


class ApiNulMiddleware:
    """Refuses NUL characters anywhere in an /api/ request (path, query or JSON body):
    PostgreSQL cannot store them in text and answers the statement with an error."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/") and (
            "\x00" in request.path
            or "%00" in request.META.get("QUERY_STRING", "")
            or _JSON_NUL.search(request.body)
        ):
            return JsonResponse({"detail": "请求不能包含空字符（U+0000）"}, status=400)
        return self.get_response(request)
