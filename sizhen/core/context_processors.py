from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from sizhen.core.access import role_of
from sizhen.core.navigation import modules_for
from sizhen.core.notifications import unread_count


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    role = role_of(user)
    return {
        "nav_modules": modules_for(role),
        "nav_role": role,
        "unread_notifications": unread_count(user) if role else 0,
        "platform_name": "四诊 · 营商环境监测平台",
    }
