"""The error pages people see (400, 403, CSRF failure, 404, 500): Chinese, in the site's layout,
each with a way back (to the previous page and to the home page). Under /api/ the answer has the
API's error shape ({"detail": message}) instead.

Django's own pages are English, and with DEBUG on they show settings and code; the settings keep
DEBUG off unless a developer turns it on (docs/operations.md, "Debug mode")."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme

logger = logging.getLogger(__name__)

PLATFORM_NAME = "四诊 · 营商环境监测平台"

#: The 500 page when even the layout cannot be rendered (a broken template, a missing file).
PLAIN_500 = (
    '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>系统错误</title>'
    "</head><body><h1>系统错误</h1><p>服务器处理请求时出错，已记录。请稍后重试或联系系统管理员。"
    '</p><p><a href="/">返回首页</a></p></body></html>'
)


def back_url(request: HttpRequest) -> str:
    """The page the user came from when it is on this site (the Referer), else the home page;
    "返回上一页" goes there without script, and through the browser history with it."""
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        parts = urlsplit(referer)
        if parts.path != request.path:
            return parts.path + (f"?{parts.query}" if parts.query else "")
    return "/"


def _api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _page(
    request: HttpRequest, template: str, status: int, context: dict[str, Any] | None = None
) -> HttpResponse:
    body = loader.render_to_string(
        template, {"back_url": back_url(request), **(context or {})}, request=request
    )
    return HttpResponse(body, status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400. A body over DATA_UPLOAD_MAX_MEMORY_SIZE is 413, not 400."""
    from sizhen.core.api import too_big_message

    too_big = isinstance(exception, RequestDataTooBig)
    status = 413 if too_big else 400
    message = too_big_message() if too_big else "请求有误"
    if _api(request):
        return JsonResponse({"detail": message}, status=status)
    return _page(request, "400.html", status, {"too_big": too_big, "message": message})


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler403 (scoped objects answer 404; this is for what Django itself refuses)."""
    if _api(request):
        return JsonResponse({"detail": "无权访问"}, status=403)
    return _page(request, "403.html", 403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form kept open past its token, or posted from another site."""
    if _api(request):
        return JsonResponse({"detail": "CSRF 校验失败：请刷新页面后重试"}, status=403)
    return _page(request, "403_csrf.html", 403)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: a missing page and an object the user may not see look the same."""
    if _api(request):
        return JsonResponse({"detail": "未找到"}, status=404)
    return _page(request, "404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500. Rendered without the request's context processors, so that it needs no
    database (the error may be the database) and no session; if the layout itself fails, a
    plain page says the same."""
    if _api(request):
        return JsonResponse({"detail": "服务器内部错误，请稍后重试"}, status=500)
    body: str
    try:
        body = loader.render_to_string(
            "500.html", {"platform_name": PLATFORM_NAME, "back_url": "/"}
        )
    except Exception:
        logger.exception("the 500 page could not be rendered")
        body = PLAIN_500
    return HttpResponse(body, status=500)
