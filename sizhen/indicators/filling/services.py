"""Periodic filling (定期填报): the services of filling and review, and of validation rules.

Indicators that no source system feeds are filled each period by the responsible departments
(责任部门) or the districts (县市区/园区). A round opens one task per indicator and region with a
deadline in working days; the filler saves drafts and submits; validation rules (校验规则)
block a submission with errors and let warnings through with an explanation; the indicator's
lead department (牵头部门) or the coordinating office approves or returns with a reason.
Approval locks the task and writes the value as ``IndicatorValue(source_kind="filling")``.

Opening rounds is in ``rounds``, periods in ``periods``, rule checks in ``rules``, aggregate
imports (汇总数据导入) in ``imports``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from sizhen.accounts.models import acting_user
from sizhen.core.access import Actor, role_of
from sizhen.core.audit import record_event, snapshot
from sizhen.core.errors import ServiceError
from sizhen.core.notifications import notify
from sizhen.core.permissions import has_capability
from sizhen.core.roles import Role
from sizhen.core.sql import update_rows
from sizhen.core.workflow import TransitionConflict, execute_transition, execute_transitions
from sizhen.indicators.catalogue.changes import values_changed
from sizhen.indicators.catalogue.choices import SourceKind
from sizhen.indicators.catalogue.models import Indicator, IndicatorValue
from sizhen.indicators.filling.choices import OPEN_STATES, FillingStatus, RuleSeverity
from sizhen.indicators.filling.models import FillingRule, FillingTask
from sizhen.indicators.filling.rules import (
    format_number,
    parse_number,
    rule_parameter_problems,
    validate_value,
)
from sizhen.indicators.filling.workflow import can_fill
from sizhen.indicators.scoring.services import score_periods


class FillingError(ServiceError):
    """A filling action that may not happen; the message is shown to the user (Chinese)."""


class FillingValidationFailed(FillingError):
    """The value breaks validation rules: errors block; warnings need an explanation."""

    def __init__(self, errors: list[str], warnings: list[str]):
        self.errors = errors
        self.warnings = warnings
        if errors:
            message = "校验未通过：" + "；".join(errors)
        else:
            message = "数据触发校验警告，请在“警告说明”中说明原因后再提交：" + "；".join(warnings)
        super().__init__(message)


def page_link(name: str, fallback: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        # The pages may be mounted elsewhere (or not at all, in a worker-only deployment).
        return fallback


def task_link(task: FillingTask) -> str:
    return page_link(
        "indicator_filling:task_detail", f"/monitoring/filling/tasks/{task.pk}/", task.pk
    )


@transaction.atomic
def create_filling_rule(
    *,
    actor: Actor,
    indicator: Indicator,
    kind: str,
    parameters: dict[str, Any],
    severity: str = RuleSeverity.ERROR,
    message: str = "",
) -> FillingRule:
    """A validation rule for an indicator, by its lead department or the coordinating office."""
    # A lead department sets rules for the indicators it leads only.
    own = role_of(actor) != Role.LEAD_DEPARTMENT or (
        indicator.lead_department_id is not None
        and indicator.lead_department_id == actor.department_id
    )
    if not (has_capability(actor, "filling.rule_edit") and own):
        raise FillingError("只有营商办或该指标的牵头部门可以设置校验规则")
    if severity not in RuleSeverity.values:
        raise FillingError("请选择严重程度")
    problems = rule_parameter_problems(kind, parameters)
    if problems:
        raise FillingError("；".join(problems))
    rule = FillingRule.objects.create(
        indicator=indicator,
        kind=kind,
        severity=severity,
        parameters=parameters,
        message=message[:200],
        created_by=acting_user(actor),
    )
    record_event("filling_rule.create", actor=actor, obj=rule, after=snapshot(rule))
    return rule


@transaction.atomic
def set_filling_rule_active(rule: FillingRule, *, actor: Actor, active: bool) -> FillingRule:
    if not FillingRule.objects.visible_to(actor, "change").filter(pk=rule.pk).exists():
        raise FillingError("只有营商办或该指标的牵头部门可以修改校验规则")
    FillingRule.objects.filter(pk=rule.pk).update(is_active=active)
    record_event(
        "filling_rule.activate" if active else "filling_rule.deactivate",
        actor=actor,
        obj=rule,
        before={"is_active": rule.is_active},
        after={"is_active": active},
    )
    rule.refresh_from_db()
    return rule


# --- filling and review --------------------------------------------------------------------


def _clean_value(value: Any) -> float | None:
    if value is None or value == "":
        return None
    number = parse_number(value)
    if number is None:
        raise FillingError("数值应为有限的数字")
    return number


def _locked_for_filling(task: FillingTask, actor: Actor) -> FillingTask:
    locked = (
        FillingTask.objects.select_for_update()
        .select_related("indicator", "region")
        .get(pk=task.pk)
    )
    if not can_fill(actor, locked):
        raise FillingError("您无权填报该任务")
    if locked.status == FillingStatus.APPROVED:
        raise FillingError("该数据已审核通过并锁定，不能再修改")
    if locked.status == FillingStatus.SUBMITTED:
        raise FillingError("数据已提交待审核，不能修改；如需修改，请联系审核部门退回")
    return locked


@transaction.atomic
def save_draft(
    task: FillingTask,
    *,
    actor: Actor,
    value: Any,
    note: str = "",
    expected_version: int | None = None,
) -> FillingTask:
    """Save the filler's figure without submitting it (暂存)."""
    locked = _locked_for_filling(task, actor)
    if expected_version is not None and locked.version != expected_version:
        raise TransitionConflict("该任务已被他人修改，请刷新后重试")
    number = _clean_value(value)
    before = {"value": locked.value, "note": locked.note}
    updated = FillingTask.objects.filter(pk=locked.pk, status__in=OPEN_STATES).update(
        value=number, note=note, version=F("version") + 1, updated_at=timezone.now()
    )
    if updated != 1:  # pragma: no cover - the row lock makes this unreachable
        raise TransitionConflict("该任务已被他人处理，请刷新后重试")
    record_event(
        "filling_task.save_draft",
        actor=actor,
        obj=locked,
        before=before,
        after={"value": number, "note": note},
    )
    task.refresh_from_db()
    return task


@transaction.atomic
def submit_filling(
    task: FillingTask,
    *,
    actor: Actor,
    value: Any,
    note: str = "",
    explanation: str = "",
) -> FillingTask:
    """Submit the figure for review. Errors of the validation rules block; warnings pass only
    with an explanation. Nothing is saved when the submission is refused."""
    locked = _locked_for_filling(task, actor)
    if locked.status != task.status:
        raise TransitionConflict("该任务已被他人处理，请刷新后重试")
    errors, warnings = validate_value(locked, value)
    if errors or (warnings and not explanation.strip()):
        raise FillingValidationFailed(errors, warnings)
    number = parse_number(value)
    execute_transition(
        task,
        "submit",
        actor=actor,
        note=note,
        changes={
            "value": number,
            "note": note,
            "warnings": warnings,
            "explanation": explanation.strip() if warnings else "",
            "submitted_at": timezone.now(),
            "submitted_by": actor,
        },
        context={"history_data": {"value": number, "warnings": warnings}},
    )
    reviewers = _reviewers(task)
    if reviewers:
        notify(
            reviewers,
            subject=f"待审核填报：{task}",
            body=f"数值 {format_number(number or 0)}"
            + (f"；警告：{'；'.join(warnings)}" if warnings else ""),
            link=task_link(task),
            category="filling",
        )
    return task


def _reviewers(task: FillingTask) -> list[Any]:
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(is_active=True)
    lead = task.indicator.lead_department_id
    q = Q(role=Role.LEAD_DEPARTMENT, department_id=lead) if lead else Q(role=Role.COORDINATOR)
    return list(users.filter(q))


@transaction.atomic
def approve_filling(task: FillingTask, *, actor: Actor, note: str = "") -> FillingTask:
    """Approve (审核通过): the task locks and its value becomes the period's filled value."""
    _approve(task, actor=actor, note=note)
    # The filled value feeds the scores of its indicator's parents and the overall index.
    score_periods({task.period})
    return task


@transaction.atomic
def submit_filling_tasks(
    entries: Sequence[tuple[FillingTask, Any]], *, actor: Actor, note: str = ""
) -> list[FillingTask]:
    """Submit several figures at once (批量提交), each validated as ``submit_filling`` validates
    it; any error or warning refuses the whole batch (a warning needs its own explanation, so
    it is submitted one by one). One notice to each reviewer for the batch."""
    number: dict[int, float | None] = {}
    for task, value in entries:
        errors, warnings = validate_value(task, value)
        if errors or warnings:
            raise FillingValidationFailed(
                [f"{task}：{e}" for e in errors], [f"{task}：{w}" for w in warnings]
            )
        number[task.pk] = parse_number(value)
    now = timezone.now()
    tasks: list[FillingTask] = execute_transitions(
        [task for task, _value in entries],
        "submit",
        actor=actor,
        note=note,
        changes=lambda t: {
            "value": number[t.pk],
            "note": note,
            "warnings": [],
            "explanation": "",
            "submitted_at": now,
            "submitted_by": actor,
        },
        context=lambda t: {"history_data": {"value": number[t.pk], "warnings": []}},
        related=("indicator", "region"),
    )
    by_reviewers: dict[tuple[int, ...], list[Any]] = defaultdict(list)
    for task in tasks:
        reviewers = _reviewers(task)
        by_reviewers[tuple(sorted(r.pk for r in reviewers))].append((task, reviewers))
    for group in by_reviewers.values():
        notify(
            group[0][1],
            subject=f"待审核填报：{len(group)} 项",
            body="；".join(
                f"{task} 数值 {format_number(number[task.pk] or 0)}" for task, _ in group
            )[:2000],
            link=page_link("indicator_filling:task_list", "/monitoring/filling/"),
            category="filling",
        )
    return tasks


@transaction.atomic
def approve_filling_tasks(
    tasks: Sequence[FillingTask], *, actor: Actor, note: str = ""
) -> list[FillingTask]:
    """Approve several submitted tasks at once (批量审核通过), each checked as
    ``approve_filling`` checks it (workflow guard, four eyes), all or nothing: their values are
    written together, each submitter gets one notice, and the scores of all their periods are
    computed once instead of once a task."""
    now = timezone.now()
    approved: list[FillingTask] = execute_transitions(
        list(tasks),
        "approve",
        actor=actor,
        note=note,
        changes=lambda t: {"approved_by": actor, "approved_at": now},
        related=("indicator", "region"),
    )
    keys = {(t.indicator_id, t.region_id, t.period): t for t in approved}
    existing = {
        (v.indicator_id, v.region_id, v.period): v
        for v in IndicatorValue.objects.filter(
            source_kind=SourceKind.FILLING,
            indicator_id__in={k[0] for k in keys},
            period__in={k[2] for k in keys},
        )
    }
    to_create, to_update = [], []
    for key, task in keys.items():
        fields = _filled_value_fields(task, now)
        current = existing.get(key)
        if current is None:
            to_create.append(
                IndicatorValue(
                    indicator_id=task.indicator_id,
                    region_id=task.region_id,
                    period=task.period,
                    source_kind=SourceKind.FILLING,
                    **fields,
                )
            )
        else:
            for name, value in fields.items():
                setattr(current, name, value)
            to_update.append(current)
    IndicatorValue.objects.bulk_create(to_create, batch_size=2000)
    update_rows(IndicatorValue, to_update, list(FILLED_VALUE_FIELDS))
    values_changed()
    by_submitter: dict[int, list[FillingTask]] = defaultdict(list)
    for task in approved:
        if task.submitted_by_id:
            by_submitter[task.submitted_by_id].append(task)
    for group in by_submitter.values():
        notify(
            [group[0].submitted_by],
            subject=f"填报已审核通过：{len(group)} 项",
            body="；".join(str(task) for task in group)[:2000],
            link=page_link("indicator_filling:task_list", "/monitoring/filling/"),
            category="filling",
        )
    score_periods({task.period for task in approved})
    return approved


FILLED_VALUE_FIELDS = (
    "frequency",
    "value",
    "numerator",
    "denominator",
    "observations",
    "batch",
    "computed_at",
)


def _filled_value_fields(task: FillingTask, now: Any) -> dict[str, Any]:
    return {
        "frequency": task.indicator.frequency,
        "value": task.value,
        "numerator": None,
        "denominator": None,
        "observations": 1,
        "batch": None,
        "computed_at": now,
    }


def _approve(task: FillingTask, *, actor: Actor, note: str) -> FillingTask:
    execute_transition(
        task,
        "approve",
        actor=actor,
        note=note,
        changes={"approved_by": actor, "approved_at": timezone.now()},
    )
    IndicatorValue.objects.update_or_create(
        indicator_id=task.indicator_id,
        region_id=task.region_id,
        period=task.period,
        source_kind=SourceKind.FILLING,
        defaults=_filled_value_fields(task, timezone.now()),
    )
    if task.submitted_by_id:
        notify(
            [task.submitted_by],
            subject=f"填报已审核通过：{task}",
            link=task_link(task),
            category="filling",
        )
    return task


@transaction.atomic
def return_filling(task: FillingTask, *, actor: Actor, reason: str) -> FillingTask:
    """Return (退回) the figure to the filler with a reason."""
    reason = (reason or "").strip()
    execute_transition(task, "return", actor=actor, note=reason, changes={"return_reason": reason})
    if task.submitted_by_id:
        notify(
            [task.submitted_by],
            subject=f"填报被退回：{task}",
            body=f"退回理由：{reason}",
            link=task_link(task),
            category="filling",
        )
    return task
