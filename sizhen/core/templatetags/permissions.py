"""``{% load permissions %}`` then ``{% if user|can:"task.review" %}``: the registry's answer."""

from __future__ import annotations

from django import template
from django.contrib.auth.models import AnonymousUser

from sizhen.core.access import Actor
from sizhen.core.permissions import has_capability

register = template.Library()


@register.filter
def can(actor: Actor | AnonymousUser | None, capability: str) -> bool:
    # Templates of public pages hold an anonymous user, who holds no capability.
    if isinstance(actor, AnonymousUser):
        return False
    return has_capability(actor, capability)
