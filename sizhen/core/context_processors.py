from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from sizhen.core.access import role_of
from sizhen.core.errorpages import PLATFORM_NAME
from sizhen.core.navigation import breadcrumbs, modules_for
from sizhen.core.notifications import unread_count


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    role = role_of(user)
    match = getattr(request, "resolver_match", None)
    # A view may pass its own ``breadcrumbs`` (and ``breadcrumb_current``); its context wins.
    crumbs, current = breadcrumbs(request.path, match.view_name, role) if match else ([], "")
    return {
        "nav_modules": modules_for(role),
        "nav_role": role,
        "unread_notifications": unread_count(user) if role else 0,
        "platform_name": PLATFORM_NAME,
        "breadcrumbs": crumbs,
        "breadcrumb_current": current,
    }
