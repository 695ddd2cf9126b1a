"""Regions, departments and enterprises over the API, scoped like the pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from sizhen.core.access import get_visible_or_404
from sizhen.core.api import Limit, Offset, PageMeta, actor_of, page, require_token_scope
from sizhen.organisations.models import Department, Enterprise, Region
from sizhen.organisations.validators import mask_phone

router = Router(tags=["组织机构"])


class RegionOut(Schema):
    code: str
    name: str
    level: str
    parent_code: str | None
    depth: int


class RegionPage(Schema):
    meta: PageMeta
    items: list[RegionOut]


def _region(r: Region) -> dict[str, Any]:
    return {
        "code": r.code,
        "name": r.name,
        "level": r.level,
        "parent_code": r.parent.code if r.parent_id else None,  # type: ignore[union-attr]
        "depth": r.depth,
    }


@router.get("/regions", response=RegionPage, summary="行政区划列表")
def list_regions(
    request: HttpRequest, level: str | None = None, limit: Limit = 100, offset: Offset = 0
) -> dict[str, Any]:
    require_token_scope(request, "read")
    qs = Region.objects.visible_to(actor_of(request)).select_related("parent").order_by("path")
    if level:
        qs = qs.filter(level=level)
    items, meta = page(qs, limit, offset)
    return {"meta": meta, "items": [_region(r) for r in items]}


@router.get("/regions/{code}", response=RegionOut, summary="行政区划")
def get_region(request: HttpRequest, code: str) -> dict[str, Any]:
    require_token_scope(request, "read")
    return _region(
        get_visible_or_404(Region.objects.select_related("parent"), actor_of(request), code=code)
    )


class DepartmentOut(Schema):
    code: str
    name: str
    type: str
    region_code: str
    is_active: bool


class DepartmentPage(Schema):
    meta: PageMeta
    items: list[DepartmentOut]


def _department(d: Department) -> dict[str, Any]:
    return {
        "code": d.code,
        "name": d.name,
        "type": d.type,
        "region_code": d.region.code,
        "is_active": d.is_active,
    }


@router.get("/departments", response=DepartmentPage, summary="部门列表")
def list_departments(
    request: HttpRequest,
    region: str | None = None,
    type: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    require_token_scope(request, "read")
    qs = Department.objects.visible_to(actor_of(request)).select_related("region")
    if region:
        qs = qs.filter(region__code=region)
    if type:
        qs = qs.filter(type=type)
    items, meta = page(qs, limit, offset)
    return {"meta": meta, "items": [_department(d) for d in items]}


@router.get("/departments/{code}", response=DepartmentOut, summary="部门")
def get_department(request: HttpRequest, code: str) -> dict[str, Any]:
    require_token_scope(request, "read")
    return _department(
        get_visible_or_404(
            Department.objects.select_related("region"), actor_of(request), code=code
        )
    )


class EnterpriseOut(Schema):
    uscc: str
    name: str
    industry_code: str
    region_code: str
    size: str
    contact_name: str
    contact_phone_masked: str


class EnterprisePage(Schema):
    meta: PageMeta
    items: list[EnterpriseOut]


def _enterprise(e: Enterprise) -> dict[str, Any]:
    return {
        "uscc": e.uscc,
        "name": e.name,
        "industry_code": e.industry_code,
        "region_code": e.region.code,
        "size": e.size,
        "contact_name": e.contact_name,
        "contact_phone_masked": mask_phone(e.contact_phone),
    }


@router.get("/enterprises", response=EnterprisePage, summary="企业列表")
def list_enterprises(
    request: HttpRequest,
    region: str | None = None,
    q: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    require_token_scope(request, "read")
    qs = Enterprise.objects.visible_to(actor_of(request)).select_related("region")
    if region:
        qs = qs.filter(region__path__contains=f"/{region}/")
    if q:
        qs = qs.filter(name__icontains=q[:100])
    items, meta = page(qs.order_by("uscc"), limit, offset)
    return {"meta": meta, "items": [_enterprise(e) for e in items]}


@router.get("/enterprises/{uscc}", response=EnterpriseOut, summary="企业")
def get_enterprise(request: HttpRequest, uscc: str) -> dict[str, Any]:
    require_token_scope(request, "read")
    return _enterprise(
        get_visible_or_404(
            Enterprise.objects.select_related("region"), actor_of(request), uscc=uscc
        )
    )
