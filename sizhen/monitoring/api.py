"""Alerts over the API (/api/v1/alerts): staff roles and machine tokens with the "read" scope,
each seeing only the alerts of the regions in their scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError

from sizhen.core.api import Limit, Offset, PageMeta, actor_of, page, require_token_scope
from sizhen.core.periods import Period
from sizhen.core.permissions import require_capability
from sizhen.monitoring.detection import METHOD_LABELS
from sizhen.monitoring.models import Alert, AlertKind
from sizhen.monitoring.selectors import list_alerts
from sizhen.monitoring.workflow import STATES

router = Router(tags=["预警"])


class AlertFilters(Schema):
    indicator: str = ""
    region: str = ""
    period: str = ""
    status: str = ""
    limit: Limit = 100
    offset: Offset = 0


class PointOut(Schema):
    period: str | None
    value: float


class AlertOut(Schema):
    id: int
    indicator_code: str
    indicator_name: str
    region_code: str
    region_name: str
    kind: str
    kind_label: str
    period: str | None
    status: str
    status_label: str
    severity: str
    value: float
    expected: float | None
    lower: float | None
    upper: float | None
    method: str
    method_label: str
    score: float
    impact: float
    points: list[PointOut]
    explanation: str
    #: The effective alert rule and thresholds that produced the finding (预警规则).
    rule: str
    rule_thresholds: list[list[str]]
    #: The department the finding is about (overdue cases), not the one handling the alert.
    department: str | None
    assigned_department: str | None
    occurrences: int
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime


class AlertPage(Schema):
    meta: PageMeta
    items: list[AlertOut]


def _month(value: str) -> dt.date | None:
    if not value:
        return None
    try:
        return Period.parse(value.strip(), "month").start
    except ValueError:
        raise HttpError(
            400, f"参数 period 的格式应为 YYYY-MM（如 2025-06），收到“{value[:20]}”"
        ) from None


def _out(a: Alert) -> dict[str, Any]:
    rule = a.rule if isinstance(a.rule, dict) else {}
    return {
        "id": a.pk,
        "indicator_code": a.indicator.code,
        "indicator_name": a.indicator.name,
        "region_code": a.region.code,
        "region_name": a.region.name,
        "kind": a.kind,
        "kind_label": AlertKind(a.kind).label,
        "period": a.period_label or None,
        "status": a.status,
        "status_label": STATES.get(a.status, a.status),
        "severity": a.severity,
        "value": a.value,
        "expected": a.expected,
        "lower": a.lower,
        "upper": a.upper,
        "method": a.method,
        "method_label": METHOD_LABELS.get(a.method, a.method),
        "score": a.score,
        "impact": a.impact,
        "points": a.points,
        "explanation": a.explanation,
        "rule": rule.get("text", ""),
        "rule_thresholds": [[str(x) for x in pair] for pair in rule.get("thresholds", [])],
        "department": a.department.name if a.department else None,
        "assigned_department": a.assigned_department.name if a.assigned_department else None,
        "occurrences": a.occurrences,
        "first_seen_at": a.first_seen_at,
        "last_seen_at": a.last_seen_at,
    }


@router.get("/alerts", response=AlertPage, summary="预警列表（含解释字段）")
def alerts(request: HttpRequest, filters: Query[AlertFilters]) -> dict[str, Any]:
    require_token_scope(request, "read")
    actor = actor_of(request)
    require_capability(actor, "staff.api", target="预警接口")
    if filters.status and filters.status not in STATES:
        raise HttpError(400, f"参数 status 应为 {'、'.join(STATES)} 之一")
    qs = list_alerts(
        actor,
        indicator=filters.indicator.strip(),
        region=filters.region.strip(),
        period=_month(filters.period),
        status=filters.status,
    )
    items, meta = page(qs, filters.limit, filters.offset)
    return {"meta": meta, "items": [_out(a) for a in items]}
