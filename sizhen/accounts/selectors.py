"""Reads for accounts, always through the access scope."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from sizhen.accounts.models import ApiToken, User
from sizhen.core.access import VIEW, Actor, get_visible_or_404, role_of
from sizhen.core.roles import Role
from sizhen.core.workqueue import KeyFigure


def list_users(actor: Actor, action: str = VIEW) -> QuerySet[User]:
    return User.objects.visible_to(actor, action).select_related(
        "department", "region", "enterprise"
    )


def get_user(actor: Actor, pk: int, action: str = VIEW) -> User:
    return get_visible_or_404(
        User.objects.select_related("department", "region", "enterprise"), actor, action, pk=pk
    )


def list_api_tokens(actor: Actor, action: str = VIEW) -> QuerySet[ApiToken]:
    return ApiToken.objects.visible_to(actor, action).select_related("department", "created_by")


def get_api_token(actor: Actor, pk: int, action: str = VIEW) -> ApiToken:
    return get_visible_or_404(
        ApiToken.objects.select_related("department", "created_by"), actor, action, pk=pk
    )


def key_figures(actor: Actor, today: dt.date) -> list[KeyFigure]:
    """The system administrator's: accounts in use, API tokens still valid."""
    if role_of(actor) != Role.SYSADMIN:
        return []
    users = list_users(actor).filter(is_active=True).count()
    now = timezone.now()
    tokens = (
        list_api_tokens(actor)
        .filter(revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .count()
    )
    return [
        KeyFigure(
            "accounts.active", "启用的账号", str(users), "个", url=reverse("accounts:user_list")
        ),
        KeyFigure(
            "accounts.tokens",
            "有效的接口令牌",
            str(tokens),
            "个",
            url=reverse("accounts:token_list"),
        ),
    ]
