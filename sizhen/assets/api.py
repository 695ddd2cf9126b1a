"""The data-asset catalogue over the API (/api/v1/assets): staff roles, and machine tokens with
the "read" scope. Read-only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema

from sizhen.assets.choices import AssetKind
from sizhen.assets.selectors import (
    CATEGORY_LABELS,
    AssetEntry,
    build_dataset_lineage,
    build_indicator_lineage,
    get_entry,
    list_catalogue,
)
from sizhen.core.access import Actor
from sizhen.core.api import Limit, Offset, PageMeta, actor_of, require_token_scope
from sizhen.core.permissions import require_capability

router = Router(tags=["数据资产"])


class AssetFilters(Schema):
    kind: str = ""
    q: str = ""
    limit: Limit = 100
    offset: Offset = 0


class AssetOut(Schema):
    id: str
    kind: str
    kind_label: str
    code: str
    name: str
    owner: str
    source: str
    frequency: str
    restricted: bool
    row_count: int | None
    first_period: dt.date | None
    last_period: dt.date | None
    last_load_at: dt.datetime | None
    freshness: str
    stale: bool
    quality: float | None
    description: str


class AssetPage(Schema):
    meta: PageMeta
    items: list[AssetOut]


class NodeOut(Schema):
    id: str
    label: str
    category: str
    category_label: str


class EdgeOut(Schema):
    source: str
    target: str


class LineageOut(Schema):
    nodes: list[NodeOut]
    edges: list[EdgeOut]


class AssetDetailOut(AssetOut):
    lineage: LineageOut | None


def _actor(request: HttpRequest) -> Actor:
    require_token_scope(request, "read")
    actor = actor_of(request)
    require_capability(actor, "staff.api", target="数据资产接口")
    return actor


def _out(entry: AssetEntry) -> dict[str, Any]:
    return {
        name: getattr(entry, name)
        for name in AssetOut.model_fields  # type: ignore[attr-defined]
    }


@router.get("/assets", response=AssetPage, summary="数据资源目录（含时效与质量评分）")
def list_assets(request: HttpRequest, filters: Query[AssetFilters]) -> dict[str, Any]:
    actor = _actor(request)
    entries = list_catalogue(actor)
    if filters.kind:
        entries = [e for e in entries if e.kind == filters.kind]
    if filters.q.strip():
        needle = filters.q.strip().lower()
        entries = [e for e in entries if needle in e.code.lower() or needle in e.name.lower()]
    chosen = entries[filters.offset : filters.offset + filters.limit]
    return {
        "meta": PageMeta(count=len(entries), limit=filters.limit, offset=filters.offset),
        "items": [_out(e) for e in chosen],
    }


@router.get("/assets/{asset_id}", response=AssetDetailOut, summary="数据资产详情与血缘")
def get_asset(request: HttpRequest, asset_id: str) -> dict[str, Any]:
    actor = _actor(request)
    entry = get_entry(actor, asset_id)
    if entry is None:
        raise Http404("未找到")
    lineage = None
    if entry.kind == AssetKind.DATASET:
        lineage = build_dataset_lineage(actor, entry.code)
    elif entry.kind == AssetKind.INDICATOR:
        lineage = build_indicator_lineage(actor, entry.code)
    return {
        **_out(entry),
        "lineage": None
        if lineage is None
        else {
            "nodes": [
                {
                    "id": n.id,
                    "label": n.label,
                    "category": n.category,
                    "category_label": CATEGORY_LABELS[n.category],
                }
                for n in lineage.nodes
            ],
            "edges": [{"source": e.source, "target": e.target} for e in lineage.edges],
        },
    }
