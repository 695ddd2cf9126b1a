"""``{% load permissions %}`` then ``{% if user|can:"task.review" %}``: the registry's answer."""

from __future__ import annotations

from typing import Any

from django import template

from sizhen.core.permissions import has_capability

register = template.Library()


@register.filter
def can(actor: Any, capability: str) -> bool:
    return has_capability(actor, capability)
