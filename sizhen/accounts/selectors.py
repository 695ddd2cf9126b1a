"""Reads for accounts, always through the access scope."""

from __future__ import annotations

from django.db.models import QuerySet

from sizhen.accounts.models import ApiToken, User
from sizhen.core.access import VIEW, Actor, get_visible_or_404


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
