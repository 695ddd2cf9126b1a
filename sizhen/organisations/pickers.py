"""Searchable pickers of departments, regions and enterprises (``sizhen.core.widgets``):
departments and enterprises listed under their region, the city's own first; regions under
their parent. Forms of every app use these widgets wherever a user picks among many."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.forms.models import ModelChoiceIteratorValue
from django.utils.safestring import SafeString

from sizhen.core.widgets import PickerEntry, SearchableSelect, picker
from sizhen.organisations.choices import RegionLevel
from sizhen.organisations.models import Department, Enterprise, Region

CITY_GROUP = "市级部门"


def _regions(ids: set[int]) -> dict[int, Region]:
    # One query per picker, whether or not the form's queryset joined the regions.
    return Region.objects.in_bulk(ids) if ids else {}


def _group_of(region: Region | None) -> tuple[str, tuple[Any, ...]]:
    if region is None:
        return "", ("",)
    label = CITY_GROUP if region.level == RegionLevel.CITY else region.name
    return label, (region.path,)


def describe_departments(departments: Sequence[Department]) -> list[PickerEntry]:
    regions = _regions({d.region_id for d in departments})
    entries = []
    for department in departments:
        group, rank = _group_of(regions.get(department.region_id))
        names = tuple(name for name in (department.name, department.short_name) if name)
        entries.append(PickerEntry(group=group, rank=rank, code=department.code, names=names))
    return entries


def describe_regions(regions: Sequence[Region]) -> list[PickerEntry]:
    parents = _regions({r.parent_id for r in regions if r.parent_id is not None})
    entries = []
    for region in regions:
        parent = parents.get(region.parent_id) if region.parent_id is not None else None
        # The top of the tree stands alone above the groups of its children.
        group, rank = ("", ("",)) if parent is None else (parent.name, (parent.path,))
        entries.append(PickerEntry(group=group, rank=rank, code=region.code, names=(region.name,)))
    return entries


def describe_enterprises(enterprises: Sequence[Enterprise]) -> list[PickerEntry]:
    regions = _regions({e.region_id for e in enterprises})
    entries = []
    for enterprise in enterprises:
        region = regions.get(enterprise.region_id)
        group, rank = ("", ("",)) if region is None else (region.name, (region.path,))
        entries.append(
            PickerEntry(group=group, rank=rank, code=enterprise.uscc, names=(enterprise.name,))
        )
    return entries


def department_picker(*, multiple: bool = False) -> SearchableSelect:
    return picker(describe_departments, multiple=multiple)


def region_picker(*, multiple: bool = False) -> SearchableSelect:
    return picker(describe_regions, multiple=multiple)


def enterprise_picker(*, multiple: bool = False) -> SearchableSelect:
    return picker(describe_enterprises, multiple=multiple)


def region_select(name: str, regions: Iterable[Region], selected: str | None) -> SafeString:
    """A region picker by code for a page's own filter form (GET), over the regions the view
    chose; the region whose code is ``selected`` is preselected."""
    widget = region_picker()
    widget.choices = [(ModelChoiceIteratorValue(r.code, r), r.name) for r in regions]
    return widget.render(name, selected)
