"""Writes on alerts: applying a scan's findings (dedup, update, re-open, auto-resolve), the
lifecycle, and the alert rules (预警规则)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from sizhen.core.access import Actor
from sizhen.core.audit import changed, record_event, snapshot
from sizhen.core.jobs import enqueue, publish
from sizhen.core.workflow import TransitionConflict, execute_transition
from sizhen.indicators.catalogue.models import Indicator
from sizhen.monitoring import detection
from sizhen.monitoring.models import Alert, AlertKind, AlertRule
from sizhen.monitoring.workflow import ACTIVE_STATES, CONDITION_CLEARED, RESOLVED, STATES
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
    "overdue_cases": 1.0,
}
#: Kinds whose condition can clear, so the scan resolves them when it no longer sees them.
#: Statistical kinds are judgements about a past period; a later normal month does not undo them.
CLEARABLE_KINDS = frozenset(
    {
        AlertKind.STALE_SOURCE,
        AlertKind.OVERDUE_FILLING,
        AlertKind.OVERDUE_CASES,
        AlertKind.GOALPOST_BREACH,
        AlertKind.BENCHMARK_LAG,
    }
)


@dataclass(frozen=True)
class ScanFinding:
    """A detection finding tied to the indicator and region rows it is about."""

    indicator: Indicator
    region: Region
    finding: detection.Finding
    #: Within (indicator, region, kind): the department code for overdue cases, else "".
    subject: str = ""
    department: Department | None = None
    #: The effective rule's description (EffectiveRule.describe) for the alert page.
    rule: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[int, int, str, str]:
        return (self.indicator.pk, self.region.pk, self.finding.kind, self.subject)


@dataclass(frozen=True)
class CheckedScope:
    """What one scan looked at for a clearable kind: an active alert inside it that the scan
    did not see again has cleared. ``period`` None covers alerts of every period (stale
    sources, open filling tasks); otherwise only alerts of that period or earlier, so a scan of
    an old period never resolves a newer alert. ``region_ids`` None covers every region."""

    indicator_id: int
    kind: str
    period: dt.date | None = None
    region_ids: frozenset[int] | None = None


RECURRENCE_JOB = "rectification.reopen_on_recurrence"
#: Published (core.jobs.publish) with the ids of the alerts a scan created, re-opened or
#: changed the severity of; apps acting on alerts subscribe to it (monitoring imports none).
ALERTS_RAISED = "monitoring.alerts_raised"


@dataclass
class ScanResult:
    created: int = 0
    updated: int = 0
    reopened: int = 0
    unchanged: int = 0
    resolved: int = 0
    #: Alerts created or re-opened by this scan: the ones worth telling people about.
    fresh_ids: list[int] = field(default_factory=list)
    #: Alerts re-opened because their finding came back: items closed on them may be reopened.
    reopened_ids: list[int] = field(default_factory=list)
    #: Alerts seen again with another severity (an orange one turning red, say).
    regraded_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "reopened": self.reopened,
            "unchanged": self.unchanged,
            "resolved": self.resolved,
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
        "rule": item.rule,
        "department": item.department,
    }


def _fields_names() -> list[str]:
    return [
        "period", "severity", "value", "expected", "lower", "upper", "method", "score",
        "points", "explanation", "impact", "rule", "department",
    ]  # fmt: skip


def _same(alert: Alert, fields: dict[str, Any]) -> bool:
    """The finding says exactly what the alert already says."""
    for name, value in fields.items():
        current = alert.department_id if name == "department" else getattr(alert, name)
        wanted = value.pk if name == "department" and value is not None else value
        if current != wanted:
            return False
    return True


def _is_recurrence(alert: Alert, period: dt.date | None) -> bool:
    # The same finding seen by the next scheduled scan is not a recurrence; a newer period is,
    # and so is any return of a condition the scan itself saw clear.
    if alert.auto_resolved_at is not None:
        return True
    return period is not None and (alert.period is None or period > alert.period)


def _auto_resolve(
    checked: Iterable[CheckedScope],
    seen: set[tuple[int, int, str, str]],
    *,
    actor: Actor | None,
    now: dt.datetime,
) -> int:
    scopes: dict[tuple[int, str], list[CheckedScope]] = defaultdict(list)
    for scope in checked:
        if scope.kind in CLEARABLE_KINDS:
            scopes[(scope.indicator_id, scope.kind)].append(scope)
    if not scopes:
        return 0
    # One locked read of the active alerts of the kinds concerned (in chunks of indicators),
    # matched to the scopes here: a province-sized scan judges thousands of scopes.
    indicator_ids = sorted({indicator_id for indicator_id, _ in scopes})
    kinds = sorted({kind for _, kind in scopes})
    candidates: list[Alert] = []
    for first in range(0, len(indicator_ids), 500):
        candidates.extend(
            Alert.objects.select_for_update().filter(
                indicator_id__in=indicator_ids[first : first + 500],
                kind__in=kinds,
                status__in=ACTIVE_STATES,
            )
        )
    resolved = 0
    for alert in sorted(candidates, key=lambda a: a.pk):
        if (alert.indicator_id, alert.region_id, alert.kind, alert.subject) in seen:
            continue
        if not any(
            _inside(alert, scope) for scope in scopes.get((alert.indicator_id, alert.kind), [])
        ):
            continue
        execute_transition(
            alert,
            "auto_resolve",
            actor=actor,
            note=CONDITION_CLEARED,
            changes={"auto_resolved_at": now},
            context={"condition_cleared": True},
        )
        resolved += 1
    return resolved


def _inside(alert: Alert, scope: CheckedScope) -> bool:
    if scope.period is not None and (alert.period is None or alert.period > scope.period):
        return False
    return scope.region_ids is None or alert.region_id in scope.region_ids


def apply_scan_findings(
    findings: Iterable[ScanFinding],
    *,
    actor: Actor | None = None,
    checked: Iterable[CheckedScope] = (),
) -> ScanResult:
    """Upsert one alert per (indicator, region, kind, subject): a finding seen again updates
    the alert (deduplication), a resolved alert whose finding recurs in a newer period (or
    after the scan resolved it) re-opens through the workflow, a dismissed one stays
    dismissed. Active alerts of clearable kinds inside ``checked`` that this scan did not see
    are resolved by the system ("条件已消除"). One audit event per scan, with the counts."""
    result = ScanResult()
    now = timezone.now()
    seen: set[tuple[int, int, str, str]] = set()
    items: dict[tuple[int, int, str, str], ScanFinding] = {}
    for item in findings:
        items[item.key] = item  # a key seen twice in one scan counts once (the last wins)
    with transaction.atomic():
        # One locked read of the existing alerts of the indicators concerned, not one per
        # finding: a province-sized scan brings thousands of findings.
        existing: dict[tuple[int, int, str, str], Alert] = {}
        indicator_ids = sorted({key[0] for key in items})
        for start in range(0, len(indicator_ids), 500):
            for row in Alert.objects.select_for_update().filter(
                indicator_id__in=indicator_ids[start : start + 500]
            ):
                existing[(row.indicator_id, row.region_id, row.kind, row.subject)] = row
        fresh: list[Alert] = []
        refreshed: list[Alert] = []
        seen_again: list[int] = []
        for key, item in items.items():
            f = item.finding
            fields = _fields(item)
            seen.add(key)
            alert = existing.get(key)
            if alert is None:
                fresh.append(
                    Alert(
                        indicator=item.indicator,
                        region=item.region,
                        kind=f.kind,
                        subject=item.subject,
                        first_seen_at=now,
                        last_seen_at=now,
                        **fields,
                    )
                )
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
                        changes={"auto_resolved_at": None},
                        context={"recurrence": True},
                    )
                    result.reopened += 1
                    result.fresh_ids.append(alert.pk)
                    result.reopened_ids.append(alert.pk)
                else:
                    result.updated += 1
                if _same(alert, fields):
                    seen_again.append(alert.pk)  # the usual rescan: only the counters move
                    continue
                if alert.severity != fields["severity"]:
                    result.regraded_ids.append(alert.pk)
                for name, value in fields.items():
                    setattr(alert, name, value)
                alert.last_seen_at = now
                alert.occurrences = models.F("occurrences") + 1
                alert.version = models.F("version") + 1
                refreshed.append(alert)
            else:
                result.unchanged += 1
        created = Alert.objects.bulk_create(fresh, batch_size=500)
        result.created = len(created)
        result.fresh_ids[:0] = [alert.pk for alert in created]
        Alert.objects.bulk_update(
            refreshed,
            [*_fields_names(), "last_seen_at", "occurrences", "version"],
            batch_size=100,
        )
        for start in range(0, len(seen_again), 500):
            Alert.objects.filter(pk__in=seen_again[start : start + 500]).update(
                last_seen_at=now,
                occurrences=models.F("occurrences") + 1,
                version=models.F("version") + 1,
            )
        result.resolved = _auto_resolve(checked, seen, actor=actor, now=now)
        if result.reopened_ids:
            # A rectification item closed on a recurring alert is reopened (问题反弹) by the
            # rectification app's job, enqueued by name so monitoring does not import it.
            enqueue(RECURRENCE_JOB, alert_ids=result.reopened_ids)
        raised = sorted({*result.fresh_ids, *result.regraded_ids})
        if raised:
            publish(ALERTS_RAISED, alert_ids=raised)
        record_event(
            "alert.scan",
            actor=actor,
            object_type=Alert._meta.label_lower,
            message=(
                f"预警扫描：新增 {result.created}，更新 {result.updated}，"
                f"重新打开 {result.reopened}，未变 {result.unchanged}，"
                f"自动解决 {result.resolved}"
            ),
            after=result.as_dict(),
        )
    return result


def transition_alert(
    alert: Alert,
    action: str,
    *,
    actor: Actor,
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
    actor: Actor,
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


# --- alert rules (预警规则) ------------------------------------------------------------------

RULE_FIELDS = (
    "indicator",
    "enable_cross_sectional",
    "enable_abnormal_change",
    "enable_level_shift",
    "enable_goalpost",
    "enable_benchmark",
    "enable_stale_source",
    "enable_overdue_filling",
    "enable_overdue_cases",
    "modified_z_threshold",
    "iqr_multiplier",
    "log_scale",
    "yoy_threshold",
    "stl_threshold",
    "hampel_window",
    "hampel_threshold",
    "level_shift_threshold",
    "level_shift_points",
    "min_notify_severity",
    "stale_after_days",
    "filling_grace_days",
    "overdue_cases_minimum",
    "mute_until",
    "note",
)


def _actor_label(actor: Actor) -> str:
    return str(getattr(actor, "audit_label", None) or actor or "系统")[:200]


def create_alert_rule(*, actor: Actor, **values: Any) -> AlertRule:
    """A new rule: the default one (indicator None) or an indicator's own override."""
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise ValueError(f"unknown rule fields {sorted(unknown)}")
    with transaction.atomic():
        rule = AlertRule(**values, updated_by=_actor_label(actor), updated_at=timezone.now())
        rule.full_clean()
        rule.save()
        record_event(
            "alert_rule.create",
            actor=actor,
            obj=rule,
            after=snapshot(rule),
            message=f"新增{rule}",
        )
    return rule


def update_alert_rule(rule: AlertRule, *, actor: Actor, **values: Any) -> AlertRule:
    """Change a rule; the version goes up and the audit event keeps the before and after of
    every changed field, so any past scan's settings can be reconstructed."""
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise ValueError(f"unknown rule fields {sorted(unknown)}")
    with transaction.atomic():
        locked = AlertRule.objects.select_for_update().get(pk=rule.pk)
        before = snapshot(locked)
        for name, value in values.items():
            setattr(locked, name, value)
        locked.full_clean()
        after_values = snapshot(locked)
        old, new = changed(before, after_values)
        if not new:
            return locked
        locked.version = before["version"] + 1
        locked.updated_at = timezone.now()
        locked.updated_by = _actor_label(actor)
        locked.save()
        record_event(
            "alert_rule.update",
            actor=actor,
            obj=locked,
            before={**old, "version": before["version"]},
            after={**new, "version": locked.version},
            message=f"修改{locked}（第 {locked.version} 版）",
        )
    rule.refresh_from_db()
    return rule


def delete_alert_rule(rule: AlertRule, *, actor: Actor) -> None:
    """Remove a rule; the indicator falls back to the default rule (or the built-in values)."""
    with transaction.atomic():
        before = snapshot(rule)
        label = str(rule)
        pk = rule.pk
        rule.delete()
        record_event(
            "alert_rule.delete",
            actor=actor,
            object_type=AlertRule._meta.label_lower,
            object_id=str(pk),
            object_repr=label,
            before=before,
            message=f"删除{label}",
        )
