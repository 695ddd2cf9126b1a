"""Writes on alerts: applying a scan's findings (dedup, update, re-open) and the lifecycle."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from sizhen.core.audit import record_event
from sizhen.core.workflow import TransitionConflict, execute_transition
from sizhen.indicators.models import Indicator
from sizhen.monitoring import detection
from sizhen.monitoring.models import Alert
from sizhen.monitoring.workflow import ACTIVE_STATES, RESOLVED, STATES
from sizhen.organisations.models import Department, Region

#: The threshold each method decides with, so impact compares findings across methods.
METHOD_THRESHOLDS: dict[str, float] = {
    "modified_z": detection.MODIFIED_Z_THRESHOLD,
    "iqr_log": detection.IQR_FENCE,
    "stl_residual": detection.STL_THRESHOLD,
    "yoy_same_month": detection.HAMPEL_THRESHOLD,
    "hampel_change": detection.HAMPEL_THRESHOLD,
    "level_shift": detection.HAMPEL_THRESHOLD,
    "goalpost": detection.GOALPOST_THRESHOLD,
    "benchmark": detection.BENCHMARK_LAG_SHARE,
    "staleness": 1.0,
    "overdue": 1.0,
}


@dataclass(frozen=True)
class ScanFinding:
    """A detection finding tied to the indicator and region rows it is about."""

    indicator: Indicator
    region: Region
    finding: detection.Finding


@dataclass
class ScanResult:
    created: int = 0
    updated: int = 0
    reopened: int = 0
    unchanged: int = 0
    #: Alerts created or re-opened by this scan: the ones worth telling people about.
    fresh_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "reopened": self.reopened,
            "unchanged": self.unchanged,
        }


def impact_of(finding: detection.Finding, weight: float) -> float:
    """|statistic| / threshold, weighted by the indicator's weight (weight 0 still ranks)."""
    threshold = METHOD_THRESHOLDS.get(finding.method, 1.0)
    return round(abs(finding.score) / threshold * max(weight, 0.1), 4)


def _points(finding: detection.Finding) -> list[dict[str, Any]]:
    return [
        {"period": period.isoformat() if period else None, "value": float(value)}
        for period, value in finding.points
    ]


def _fields(item: ScanFinding) -> dict[str, Any]:
    f = item.finding
    return {
        "period": f.period,
        "severity": f.severity,
        "value": float(f.value),
        "expected": f.expected,
        "lower": f.lower,
        "upper": f.upper,
        "method": f.method,
        "score": float(f.score),
        "points": _points(f),
        "explanation": f.explanation,
        "impact": impact_of(f, item.indicator.weight),
    }


def _is_recurrence(alert: Alert, period: dt.date | None) -> bool:
    # The same finding seen by the next scheduled scan is not a recurrence; a newer period is.
    return period is not None and (alert.period is None or period > alert.period)


def apply_scan_findings(findings: Iterable[ScanFinding], *, actor: Any = None) -> ScanResult:
    """Upsert one alert per (indicator, region, kind): a finding seen again updates the alert
    (deduplication), a resolved alert whose finding recurs in a newer period re-opens through
    the workflow, a dismissed one stays dismissed. One audit event per scan, with the counts."""
    result = ScanResult()
    now = timezone.now()
    with transaction.atomic():
        for item in findings:
            f = item.finding
            fields = _fields(item)
            alert = (
                Alert.objects.select_for_update()
                .filter(indicator=item.indicator, region=item.region, kind=f.kind)
                .first()
            )
            if alert is None:
                created = Alert.objects.create(
                    indicator=item.indicator,
                    region=item.region,
                    kind=f.kind,
                    first_seen_at=now,
                    last_seen_at=now,
                    **fields,
                )
                result.created += 1
                result.fresh_ids.append(created.pk)
                continue
            if alert.status in ACTIVE_STATES or (
                alert.status == RESOLVED and _is_recurrence(alert, f.period)
            ):
                if alert.status == RESOLVED:
                    execute_transition(
                        alert,
                        "reopen",
                        actor=actor,
                        note=f.explanation,
                        context={"recurrence": True},
                    )
                    result.reopened += 1
                    result.fresh_ids.append(alert.pk)
                else:
                    result.updated += 1
                Alert.objects.filter(pk=alert.pk).update(
                    last_seen_at=now,
                    occurrences=models.F("occurrences") + 1,
                    version=models.F("version") + 1,
                    **fields,
                )
            else:
                result.unchanged += 1
        record_event(
            "alert.scan",
            actor=actor,
            object_type=Alert._meta.label_lower,
            message=(
                f"预警扫描：新增 {result.created}，更新 {result.updated}，"
                f"重新打开 {result.reopened}，未变 {result.unchanged}"
            ),
            after=result.as_dict(),
        )
    return result


def transition_alert(
    alert: Alert,
    action: str,
    *,
    actor: Any,
    note: str = "",
    department: Department | None = None,
    seen_status: str | None = None,
    target_kind: str = "",
    target_id: int | None = None,
) -> Alert:
    """Take one lifecycle step; ``seen_status`` is the state shown on the page the user
    clicked, so a decision taken on a stale page is refused rather than applied."""
    if seen_status is not None and seen_status != alert.status:
        raise TransitionConflict(
            f"该预警已被他人处理，当前状态为“{STATES.get(alert.status, alert.status)}”，"
            "请刷新后重试"
        )
    changes: dict[str, Any] = {}
    if action == "assign":
        changes = {"assigned_department": department, "note": note}
    elif action == "dismiss":
        changes = {"dismiss_reason": note}
    elif action == "resolve" and note:
        changes = {"note": note}
    elif action == "convert":
        changes = {"converted_kind": target_kind, "converted_id": target_id}
        if department is not None:
            changes["assigned_department"] = department
    execute_transition(
        alert,
        action,
        actor=actor,
        note=note,
        changes=changes,
        context={"department": department, "target_kind": target_kind},
    )
    return alert


def convert_alert(
    alert: Alert,
    *,
    target_kind: str,
    target_id: int,
    actor: Any,
    department: Department | None = None,
    note: str = "",
) -> Alert:
    """Record that ``alert`` became a work task or a rectification item. Called by the service
    that creates that item, inside its transaction, so both happen or neither."""
    return transition_alert(
        alert,
        "convert",
        actor=actor,
        note=note,
        department=department,
        target_kind=target_kind,
        target_id=target_id,
    )
