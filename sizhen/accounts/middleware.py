from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

SESSION_LAST_SEEN = "sizhen_last_seen"
#: When the session logged in: the maximum session age (SESSION_COOKIE_AGE) runs from here,
#: however active the session is.
SESSION_LOGIN_AT = "sizhen_login_at"
#: The last-seen stamp is refreshed at most this often: writing the session row on every request
#: costs a database write per page view, while the idle timeout is measured in minutes.
LAST_SEEN_RESOLUTION_SECONDS = 60


def last_seen_resolution() -> float:
    """How stale the last-seen stamp may get. A quarter of the idle timeout at most, so that a
    session with a request at least every three quarters of the timeout is never taken for
    idle, however short the timeout is configured."""
    return min(LAST_SEEN_RESOLUTION_SECONDS, settings.SIZHEN_IDLE_TIMEOUT_SECONDS / 4)


class IdleTimeoutMiddleware:
    """Logs out a session idle longer than SIZHEN_IDLE_TIMEOUT_SECONDS (default 30 minutes) or
    older than SESSION_COOKIE_AGE since its login (default 12 hours), active or not."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = time.time()
            last_seen = request.session.get(SESSION_LAST_SEEN)
            login_at = request.session.get(SESSION_LOGIN_AT)
            if last_seen is not None and now - last_seen > settings.SIZHEN_IDLE_TIMEOUT_SECONDS:
                minutes = settings.SIZHEN_IDLE_TIMEOUT_SECONDS // 60
                return self._end(
                    request,
                    "timeout",
                    f"您已超过 {minutes} 分钟未操作，为保障安全已自动退出，请重新登录",
                )
            if login_at is not None and now - login_at > settings.SESSION_COOKIE_AGE:
                hours = settings.SESSION_COOKIE_AGE / 3600
                return self._end(
                    request,
                    "max_age",
                    f"登录已超过 {hours:g} 小时，为保障安全已自动退出，请重新登录",
                )
            if login_at is None:
                # Stamped at the session's first request after login() (also force_login).
                request.session[SESSION_LOGIN_AT] = now
            if last_seen is None or now - last_seen >= last_seen_resolution():
                request.session[SESSION_LAST_SEEN] = now
        return self.get_response(request)

    def _end(self, request: HttpRequest, reason: str, message: str) -> HttpResponse:
        from sizhen.accounts.services import record_logout

        record_logout(request.user, reason=reason)
        logout(request)
        if request.path.startswith("/api/"):
            return self.get_response(request)
        messages.info(request, message)
        query = urlencode({"next": request.get_full_path()})
        return redirect(f"{reverse('accounts:login')}?{query}")


class ForcePasswordChangeMiddleware:
    """A user created by an administrator must set their own password before anything else."""

    ALLOWED_PREFIXES = ("/static/", "/accounts/password/", "/accounts/logout/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and getattr(user, "must_change_password", False)
            and not request.path.startswith(self.ALLOWED_PREFIXES)
        ):
            if request.path.startswith("/api/"):
                return HttpResponse(
                    '{"detail": "首次登录须先修改密码"}',
                    status=403,
                    content_type="application/json",
                )
            return redirect("accounts:password_change")
        return self.get_response(request)
