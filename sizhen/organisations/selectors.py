"""Reads for the organisations pages: who may change what, and which regions an actor may use.

Permission to change is never a list of roles here: it is each model's
``scope_q(actor, "change")``, so the pages, the imports and the API agree with the model."""

from __future__ import annotations

from django.db.models import Model, Q, QuerySet

from sizhen.core.access import CHANGE, Actor, region_scope_q, role_of
from sizhen.core.refcache import ReferenceCache
from sizhen.organisations.models import Region


def can_change_any(actor: Actor, model: type[Model]) -> bool:
    """True when the actor may change at least some objects of ``model`` (create, import)."""
    if role_of(actor) is None:
        return False
    return model.scope_q(actor, CHANGE) is not None  # type: ignore[attr-defined]


def can_change(actor: Actor, obj: Model) -> bool:
    manager = type(obj)._default_manager
    return manager.visible_to(actor, CHANGE).filter(pk=obj.pk).exists()  # type: ignore[attr-defined]


def list_assignable_regions(
    actor: Actor, model: type[Model], *, keep: Region | None = None
) -> QuerySet[Region]:
    """Regions in which the actor may place an object of ``model``: the actor's own region
    subtree when the model lets them change anything at all. Inactive regions are offered only
    when ``keep`` (the object's current region) is one of them."""
    if not can_change_any(actor, model):
        return Region.objects.none()
    active = Q(is_active=True)
    if keep is not None:
        active |= Q(pk=keep.pk)
    return Region.objects.filter(region_scope_q(actor, "path")).filter(active).order_by("path")


def list_filter_regions(actor: Actor | None) -> QuerySet[Region]:
    """Regions offered in list filters: only those the actor may see."""
    return Region.objects.visible_to(actor).order_by("path")


def region_label(region: Region) -> str:
    indent = "　" * max(region.depth, 0)
    return f"{indent}{region.name}（{region.code}）"


#: Regions by code for the intake path (sizhen/core/refcache.py: per process, 60 s).
REGIONS_BY_CODE = ReferenceCache(
    Region, lambda code: Region.objects.filter(code=code).first(), name="organisations.region"
)


def region_by_code(code: str) -> Region | None:
    """The region with this code (any state), cached per process for a short while."""
    return REGIONS_BY_CODE.get(code)
