"""Writes for regions, departments and enterprises. Each is atomic and audited."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from sizhen.core.access import Actor
from sizhen.core.audit import changed, record_event, snapshot
from sizhen.core.services import create_validated, update_validated
from sizhen.organisations.models import Department, Enterprise, Region
from sizhen.organisations.validators import region_code_error


def _validate_region(region: Region) -> None:
    error = region_code_error(region.code, statutory=region.is_statutory)
    if error:
        raise ValidationError({"code": error})
    if (
        region.parent_id is None
        and Region.objects.exclude(pk=region.pk).filter(parent__isnull=True).exists()
    ):
        raise ValidationError({"parent": "只能有一个顶级区划（本市）"})
    if region.pk and region.parent_id:
        parent = Region.objects.get(pk=region.parent_id)
        current = Region.objects.get(pk=region.pk)
        if parent.path.startswith(current.path):
            raise ValidationError({"parent": "上级区划不能是自身或其下级"})


@transaction.atomic
def create_region(*, actor: Actor, **fields: Any) -> Region:
    region = Region(**fields)
    _validate_region(region)
    region.path = region.compute_path()
    region.depth = region.path.count("/") - 2
    region.full_clean()
    region.save()
    record_event("region.create", actor=actor, obj=region, after=snapshot(region))
    return region


@transaction.atomic
def update_region(region: Region, *, actor: Actor, **fields: Any) -> Region:
    locked = Region.objects.select_for_update().get(pk=region.pk)
    before = snapshot(locked)
    old_path = locked.path
    for name, value in fields.items():
        setattr(locked, name, value)
    _validate_region(locked)
    locked.path = locked.compute_path()
    locked.depth = locked.path.count("/") - 2
    locked.full_clean()
    locked.save()
    if locked.path != old_path:
        # Move the whole subtree: rewrite the path prefix of every descendant.
        for child in Region.objects.filter(path__startswith=old_path).exclude(pk=locked.pk):
            child.path = locked.path + child.path[len(old_path) :]
            child.depth = child.path.count("/") - 2
            child.save(update_fields=["path", "depth"])
    old, new = changed(before, snapshot(locked))
    record_event("region.update", actor=actor, obj=locked, before=old, after=new)
    return locked


@transaction.atomic
def create_department(*, actor: Actor, **fields: Any) -> Department:
    return create_validated(Department, actor=actor, action="department.create", **fields)


@transaction.atomic
def update_department(department: Department, *, actor: Actor, **fields: Any) -> Department:
    return update_validated(department, actor=actor, action="department.update", **fields)


@transaction.atomic
def create_enterprise(*, actor: Actor, **fields: Any) -> Enterprise:
    return create_validated(Enterprise, actor=actor, action="enterprise.create", **fields)


@transaction.atomic
def update_enterprise(enterprise: Enterprise, *, actor: Actor, **fields: Any) -> Enterprise:
    return update_validated(enterprise, actor=actor, action="enterprise.update", **fields)
