"""Periodic filling (定期填报) and aggregate imports (汇总数据导入): the services.

Indicators that no source system feeds are filled each period by the responsible departments
(责任部门) or the districts (县市区/园区). A round opens one task per indicator and region with a
deadline in working days; the filler saves drafts and submits; validation rules (校验规则)
block a submission with errors and let warnings through with an explanation; the indicator's
lead department (牵头部门) or the coordinating office approves or returns with a reason.
Approval locks the task and writes the value as ``IndicatorValue(source_kind="filling")``.

Aggregate values that departments already hold (统计口径的汇总数) are imported from an XLSX
template, all or nothing, as ``IndicatorValue(source_kind="aggregate")``."""

from __future__ import annotations

import datetime as dt
import math
import operator
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from sizhen.core.access import has_role, role_of
from sizhen.core.audit import record_event, snapshot
from sizhen.core.imports import run_import
from sizhen.core.jobs import JobContext, job, schedule
from sizhen.core.notifications import notify
from sizhen.core.roles import Role
from sizhen.core.workcalendar import add_working_days
from sizhen.core.workflow import TransitionConflict, execute_transition
from sizhen.core.xlsx import Column, ImportReport, ImportSpec, template_workbook
from sizhen.indicators.choices import Frequency, SourceKind
from sizhen.indicators.filling_models import (
    FillingRound,
    FillingRule,
    FillingStatus,
    FillingTarget,
    FillingTask,
    RuleKind,
    RuleSeverity,
    can_fill,
)
from sizhen.indicators.models import Indicator, IndicatorValue
from sizhen.indicators.scoring import score_periods
from sizhen.organisations.choices import RegionLevel
from sizhen.organisations.models import Department, Region

#: Working days a filler has, counted from the day the round opens, unless the opener says.
DEFAULT_WORKING_DAYS = 10
MAX_WORKING_DAYS = 60
#: Regions that fill district tasks: districts, counties and parks (县市区、园区).
FILLING_REGION_LEVELS = (RegionLevel.DISTRICT, RegionLevel.COUNTY, RegionLevel.PARK)
OPEN_STATES = (FillingStatus.OPEN, FillingStatus.RETURNED)
AGGREGATE_IMPORTERS = frozenset({Role.COORDINATOR, Role.SYSADMIN, Role.LEAD_DEPARTMENT})
ROUND_OPENERS = frozenset({Role.COORDINATOR, Role.LEAD_DEPARTMENT})
OPERATORS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "<": (operator.lt, "小于"),
    "<=": (operator.le, "不大于"),
    "==": (lambda a, b: math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), "等于"),
    "!=": (lambda a, b: not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), "不等于"),
    ">=": (operator.ge, "不小于"),
    ">": (operator.gt, "大于"),
}
_PERIOD_TEXT = re.compile(r"^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?\s*$")


class FillingError(Exception):
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


# --- periods -------------------------------------------------------------------------------


def parse_period(value: Any) -> dt.date:
    """A period written as YYYY-MM (or an Excel date cell) -> its first day."""
    if isinstance(value, dt.datetime):
        return dt.date(value.year, value.month, 1)
    if isinstance(value, dt.date):
        return dt.date(value.year, value.month, 1)
    match = _PERIOD_TEXT.match(str(value or ""))
    if not match:
        raise ValueError("期间应写为 YYYY-MM，如 2025-10")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise ValueError("期间应写为 YYYY-MM，如 2025-10（年份 2000–2100，月份 1–12）")
    return dt.date(year, month, 1)


def period_problem(indicator: Indicator, period: dt.date) -> str | None:
    """Why the period does not fit the indicator's frequency, or None."""
    if period.day != 1:
        return "期间应为某月的第一天"
    if indicator.frequency == Frequency.QUARTER and period.month not in (1, 4, 7, 10):
        return f"指标 {indicator.code} 按季填报，期间应为季度首月（1、4、7、10 月）"
    if indicator.frequency == Frequency.YEAR and period.month != 1:
        return f"指标 {indicator.code} 按年填报，期间应写为当年 1 月（YYYY-01）"
    return None


def previous_period(period: dt.date, frequency: str) -> dt.date:
    months = {"quarter": 3, "year": 12}.get(str(frequency), 1)
    index = period.year * 12 + period.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_label(period: dt.date, frequency: str) -> str:
    if frequency == Frequency.QUARTER:
        return f"{period.year}年第{(period.month - 1) // 3 + 1}季度"
    if frequency == Frequency.YEAR:
        return f"{period.year}年"
    return f"{period.year}年{period.month}月"


# --- opening rounds ----------------------------------------------------------------------


@dataclass
class _Planned:
    indicator: Indicator
    region: Region
    department: Department | None


def _targets(indicator: Indicator, target: str, regions: list[Region]) -> list[_Planned]:
    departments = list(
        indicator.responsible_departments.filter(is_active=True).select_related("region")
    )
    if target == FillingTarget.DEPARTMENTS and not departments:
        raise FillingError(
            f"指标 {indicator.code} {indicator.name} 未设置责任部门，不能下发至责任部门"
        )
    if target == FillingTarget.DISTRICTS or not departments:
        return [_Planned(indicator, region, None) for region in regions]
    planned: dict[int, _Planned] = {}
    for department in departments:
        other = planned.get(department.region_id)
        if other is not None:
            # One figure per region: two departments of one region would fill the same value.
            raise FillingError(
                f"指标 {indicator.code} 的责任部门“{other.department}”和“{department}”同属"
                f"{department.region.name}，同一区划只能由一个部门填报"
            )
        planned[department.region_id] = _Planned(indicator, department.region, department)
    return list(planned.values())


def _filling_regions() -> list[Region]:
    return list(
        Region.objects.filter(is_active=True, level__in=FILLING_REGION_LEVELS).order_by("path")
    )


def _check_indicators(indicators: Iterable[Indicator], period: dt.date) -> list[Indicator]:
    chosen = list(indicators)
    if not chosen:
        raise FillingError("请至少选择一个指标")
    problems = []
    for indicator in chosen:
        if not indicator.is_active:
            problems.append(f"指标 {indicator.code} 已停用")
        elif indicator.children.exists():
            problems.append(f"指标 {indicator.code} 不是末级指标，其数值由下级指标合成，不能填报")
        else:
            problem = period_problem(indicator, period)
            if problem:
                problems.append(problem)
    if problems:
        raise FillingError("；".join(problems))
    return chosen


def _create_round(
    *,
    actor: Any,
    indicators: list[Indicator],
    period: dt.date,
    working_days: int,
    target: str,
    title: str,
    instructions: str,
    opened_on: dt.date,
    event: str,
) -> FillingRound:
    if not 1 <= working_days <= MAX_WORKING_DAYS:
        raise FillingError(f"填报时限应为 1–{MAX_WORKING_DAYS} 个工作日")
    if target not in FillingTarget.values:
        raise FillingError("请选择填报对象")
    try:
        deadline = add_working_days(opened_on, working_days)
    except ValueError as exc:
        raise FillingError(str(exc)) from exc
    regions = _filling_regions()
    planned = [p for indicator in indicators for p in _targets(indicator, target, regions)]
    if not planned:
        raise FillingError("没有可下发的填报对象（请先维护县市区、园区或责任部门）")
    taken = FillingTask.objects.filter(
        period=period,
        indicator__in=[p.indicator for p in planned],
        region__in=[p.region for p in planned],
    ).select_related("indicator", "region", "round")
    taken_keys = {(t.indicator_id, t.region_id): t for t in taken}
    clashes = [
        taken_keys[(p.indicator.pk, p.region.pk)]
        for p in planned
        if (p.indicator.pk, p.region.pk) in taken_keys
    ]
    if clashes:
        listed = "、".join(f"{t.indicator.code}（{t.region.name}）" for t in clashes[:10])
        more = f"等 {len(clashes)} 项" if len(clashes) > 10 else ""
        raise FillingError(
            f"{period_label(period, indicators[0].frequency)}已有填报任务：{listed}{more}，不能重复下发"
        )
    frequency = indicators[0].frequency
    filling_round = FillingRound.objects.create(
        title=(title or f"{period_label(period, frequency)}定期填报")[:100],
        period=period,
        target=target,
        opened_on=opened_on,
        working_days=working_days,
        deadline=deadline.date,
        deadline_provisional=deadline.provisional,
        instructions=instructions,
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    filling_round.indicators.set(indicators)
    try:
        with transaction.atomic():
            tasks = FillingTask.objects.bulk_create(
                [
                    FillingTask(
                        round=filling_round,
                        indicator=p.indicator,
                        region=p.region,
                        department=p.department,
                        period=period,
                        deadline=deadline.date,
                    )
                    for p in planned
                ]
            )
    except IntegrityError as exc:
        # Another round for the same period was opened between our check and insert.
        raise FillingError("本期填报任务刚被他人下发，请刷新后查看") from exc
    record_event(
        event,
        actor=actor,
        obj=filling_round,
        after={
            "period": period,
            "indicators": [i.code for i in indicators],
            "deadline": deadline.date,
            "tasks": len(tasks),
        },
    )
    _notify_fillers(tasks, filling_round)
    return filling_round


def _link(name: str, fallback: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        # The pages may be mounted elsewhere (or not at all, in a worker-only deployment).
        return fallback


def _task_link(task: FillingTask) -> str:
    return _link("indicator_filling:task_detail", f"/monitoring/filling/tasks/{task.pk}/", task.pk)


def _fillers(task: FillingTask) -> QuerySet[Any]:
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(is_active=True)
    if task.department_id is not None:
        return users.filter(
            department_id=task.department_id,
            role__in=(Role.RESPONSIBLE_DEPARTMENT, Role.LEAD_DEPARTMENT),
        )
    # The officers of the region itself and of the districts above it (a park's district).
    paths = [p for p in _prefixes(task.region.path)]
    return users.filter(role=Role.DISTRICT_OFFICER, region__path__in=paths)


def _prefixes(path: str) -> list[str]:
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


def _notify_fillers(tasks: list[FillingTask], filling_round: FillingRound) -> None:
    recipients: dict[int, Any] = {}
    for task in tasks:
        for user in _fillers(task):
            recipients[user.pk] = user
    if recipients:
        notify(
            recipients.values(),
            subject=f"填报任务：{filling_round.title}",
            body=f"请于 {filling_round.deadline:%Y-%m-%d} 前完成填报并提交审核。",
            link=_link("indicator_filling:task_list", "/monitoring/filling/"),
            category="filling",
        )


@transaction.atomic
def open_filling_round(
    *,
    actor: Any,
    indicators: Iterable[Indicator],
    period: dt.date,
    working_days: int = DEFAULT_WORKING_DAYS,
    target: str = FillingTarget.AUTO,
    title: str = "",
    instructions: str = "",
    opened_on: dt.date | None = None,
) -> FillingRound:
    """Open a round: one task per indicator and responsible department or district, all due
    ``working_days`` working days after ``opened_on`` (today by default)."""
    role = role_of(actor)
    if role not in ROUND_OPENERS:
        raise FillingError("只有营商办或指标牵头部门可以下发填报任务")
    chosen = _check_indicators(indicators, period)
    if role == Role.LEAD_DEPARTMENT:
        foreign = [i.code for i in chosen if i.lead_department_id != actor.department_id]
        if foreign:
            raise FillingError("您不是以下指标的牵头部门：" + "、".join(foreign))
    if len({i.frequency for i in chosen}) > 1:
        raise FillingError("一次下发的指标应为同一填报频度（月、季或年）")
    return _create_round(
        actor=actor,
        indicators=chosen,
        period=period,
        working_days=working_days,
        target=target,
        title=title,
        instructions=instructions,
        opened_on=opened_on or timezone.localdate(),
        event="filling_round.open",
    )


def due_period(today: dt.date, frequency: str) -> dt.date | None:
    """The period that has just ended and is filled now, or None when none ended this month."""
    if frequency == Frequency.MONTH:
        return previous_period(dt.date(today.year, today.month, 1), Frequency.MONTH)
    if frequency == Frequency.QUARTER:
        if today.month not in (1, 4, 7, 10):
            return None
        return previous_period(dt.date(today.year, today.month, 1), Frequency.QUARTER)
    if today.month != 1:
        return None
    return dt.date(today.year - 1, 1, 1)


def open_due_filling_rounds(*, today: dt.date | None = None) -> list[FillingRound]:
    """The platform's own periodic opening: for every active leaf indicator filled by
    departments (source kind "filling") whose just-ended period has no task yet, one round per
    frequency. Safe to re-run: indicators already asked for are left out."""
    today = today or timezone.localdate()
    working_days = int(getattr(settings, "SIZHEN_FILLING_WORKING_DAYS", DEFAULT_WORKING_DAYS))
    opened = []
    for frequency in Frequency.values:
        period = due_period(today, frequency)
        if period is None:
            continue
        asked = FillingTask.objects.filter(period=period).values("indicator_id")
        candidates = [
            indicator
            for indicator in Indicator.objects.filter(
                is_active=True, source_kind=SourceKind.FILLING, frequency=frequency
            )
            .exclude(pk__in=asked)
            .exclude(children__isnull=False)
            .distinct()
            .order_by("code")
        ]
        regions = _filling_regions()
        fillable = []
        for indicator in candidates:
            try:
                _targets(indicator, FillingTarget.AUTO, regions)
            except FillingError:
                # Misconfigured (e.g. two responsible departments in one region): left for the
                # coordinator, who sees the reason when opening the round by hand.
                continue
            fillable.append(indicator)
        if not fillable:
            continue
        with transaction.atomic():
            opened.append(
                _create_round(
                    actor=None,
                    indicators=fillable,
                    period=period,
                    working_days=working_days,
                    target=FillingTarget.AUTO,
                    title="",
                    instructions="",
                    opened_on=today,
                    event="filling_round.open_scheduled",
                )
            )
    return opened


# --- validation ----------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _format(value: float) -> str:
    return f"{value:g}"


def reference_value(indicator: Indicator, region: Region, period: dt.date) -> float | None:
    """The value of an indicator for a region and period as the platform knows it now: the
    filled figure (approved, submitted or draft) first, then any stored value."""
    task = FillingTask.objects.filter(
        indicator=indicator, region=region, period=period, value__isnull=False
    ).first()
    if task is not None:
        return task.value
    order = [SourceKind.FILLING, SourceKind.AGGREGATE, SourceKind.RECORDS, SourceKind.SURVEY]
    values = {
        v.source_kind: v.value
        for v in IndicatorValue.objects.filter(
            indicator=indicator, region=region, period=period, value__isnull=False
        )
    }
    for kind in order:
        if kind in values:
            return values[kind]
    return next(iter(values.values()), None)


def _rule_violation(rule: FillingRule, task: FillingTask, value: float) -> str | None:
    params = rule.parameters if isinstance(rule.parameters, dict) else {}
    if rule.kind == RuleKind.RANGE:
        low, high = _number(params.get("min")), _number(params.get("max"))
        if (low is not None and value < low) or (high is not None and value > high):
            if low is not None and high is not None:
                default = f"数值应在 {_format(low)} 至 {_format(high)} 之间"
            elif low is not None:
                default = f"数值不应小于 {_format(low)}"
            else:
                default = f"数值不应大于 {_format(high or 0)}"
            return rule.message or default
        return None
    if rule.kind == RuleKind.CHANGE_VS_LAST_PERIOD:
        limit = _number(params.get("max_change_percent"))
        if limit is None:
            return None
        last_period = previous_period(task.period, task.indicator.frequency)
        last = reference_value(task.indicator, task.region, last_period)
        if last is None:
            return None
        if last == 0:
            change = 0.0 if value == 0 else math.inf
        else:
            change = abs(value - last) / abs(last) * 100
        if change > limit:
            shown = "—" if math.isinf(change) else f"{change:.1f}%"
            return rule.message or (
                f"与上期（{period_label(last_period, task.indicator.frequency)}："
                f"{_format(last)}）相比变化 {shown}，超过 {_format(limit)}%"
            )
        return None
    if rule.kind == RuleKind.CROSS_FIELD:
        other_code = str(params.get("other", ""))
        symbol = str(params.get("operator", ""))
        factor = _number(params.get("factor", 1))
        other = Indicator.objects.filter(code=other_code).first()
        if other is None or symbol not in OPERATORS or factor is None:
            return None
        other_value = reference_value(other, task.region, task.period)
        if other_value is None:
            return None
        compare, words = OPERATORS[symbol]
        bound = factor * other_value
        if compare(value, bound):
            return None
        scaled = f"{_format(factor)} 倍" if factor != 1 else ""
        return rule.message or (
            f"数值应{words}指标 {other.code} {other.name}{scaled}的值（{_format(bound)}）"
        )
    return None


def validate_value(task: FillingTask, value: Any) -> tuple[list[str], list[str]]:
    """(errors, warnings) of a value for a task under the indicator's active rules."""
    number = _number(value)
    if value is None or value == "":
        return ["请填写数值"], []
    if number is None:
        return ["数值应为有限的数字"], []
    errors: list[str] = []
    warnings: list[str] = []
    rules = FillingRule.objects.filter(indicator=task.indicator, is_active=True).order_by("id")
    for rule in rules:
        problem = _rule_violation(rule, task, number)
        if problem:
            (errors if rule.severity == RuleSeverity.ERROR else warnings).append(problem)
    return errors, warnings


RULE_OPERATORS = tuple(OPERATORS)


def rule_parameter_problems(kind: str, parameters: Any) -> list[str]:
    if not isinstance(parameters, dict):
        return ["规则参数格式不正确"]
    if kind == RuleKind.RANGE:
        low, high = parameters.get("min"), parameters.get("max")
        if low is None and high is None:
            return ["取值范围规则至少要设置下限或上限"]
        if (low is not None and _number(low) is None) or (
            high is not None and _number(high) is None
        ):
            return ["下限和上限应为数字"]
        if low is not None and high is not None and float(low) > float(high):
            return ["下限不能大于上限"]
        return []
    if kind == RuleKind.CHANGE_VS_LAST_PERIOD:
        limit = _number(parameters.get("max_change_percent"))
        return [] if limit is not None and limit >= 0 else ["变化幅度上限应为不小于 0 的百分数"]
    if kind == RuleKind.CROSS_FIELD:
        problems = []
        if not Indicator.objects.filter(code=str(parameters.get("other", ""))).exists():
            problems.append("比较的指标编码不存在")
        if parameters.get("operator") not in OPERATORS:
            problems.append("比较关系应为 " + " ".join(OPERATORS))
        if _number(parameters.get("factor", 1)) is None:
            problems.append("倍数应为数字")
        return problems
    return ["请选择规则类型"]


@transaction.atomic
def create_filling_rule(
    *,
    actor: Any,
    indicator: Indicator,
    kind: str,
    parameters: dict[str, Any],
    severity: str = RuleSeverity.ERROR,
    message: str = "",
) -> FillingRule:
    """A validation rule for an indicator, by its lead department or the coordinating office."""
    if not (
        has_role(actor, Role.COORDINATOR)
        or (
            has_role(actor, Role.LEAD_DEPARTMENT)
            and indicator.lead_department_id is not None
            and indicator.lead_department_id == actor.department_id
        )
    ):
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
        created_by=actor if getattr(actor, "pk", None) else None,
    )
    record_event("filling_rule.create", actor=actor, obj=rule, after=snapshot(rule))
    return rule


@transaction.atomic
def set_filling_rule_active(rule: FillingRule, *, actor: Any, active: bool) -> FillingRule:
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
    number = _number(value)
    if number is None:
        raise FillingError("数值应为有限的数字")
    return number


def _locked_for_filling(task: FillingTask, actor: Any) -> FillingTask:
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
    actor: Any,
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
    actor: Any,
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
    number = _number(value)
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
            body=f"数值 {_format(number or 0)}"
            + (f"；警告：{'；'.join(warnings)}" if warnings else ""),
            link=_task_link(task),
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
def approve_filling(task: FillingTask, *, actor: Any, note: str = "") -> FillingTask:
    """Approve (审核通过): the task locks and its value becomes the period's filled value."""
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
        defaults={
            "frequency": task.indicator.frequency,
            "value": task.value,
            "numerator": None,
            "denominator": None,
            "observations": 1,
            "batch": None,
            "computed_at": timezone.now(),
        },
    )
    # The filled value feeds the scores of its indicator's parents and the overall index.
    score_periods({task.period})
    if task.submitted_by_id:
        notify(
            [task.submitted_by],
            subject=f"填报已审核通过：{task}",
            link=_task_link(task),
            category="filling",
        )
    return task


@transaction.atomic
def return_filling(task: FillingTask, *, actor: Any, reason: str) -> FillingTask:
    """Return (退回) the figure to the filler with a reason."""
    reason = (reason or "").strip()
    execute_transition(task, "return", actor=actor, note=reason, changes={"return_reason": reason})
    if task.submitted_by_id:
        notify(
            [task.submitted_by],
            subject=f"填报被退回：{task}",
            body=f"退回理由：{reason}",
            link=_task_link(task),
            category="filling",
        )
    return task


# --- selectors -----------------------------------------------------------------------------


def list_overdue(actor: Any, *, today: dt.date | None = None) -> QuerySet[FillingTask]:
    """Tasks past their deadline and not submitted (逾期未报), as far as the actor may see."""
    today = today or timezone.localdate()
    return FillingTask.objects.visible_to(actor).filter(status__in=OPEN_STATES, deadline__lt=today)


# --- aggregate import ----------------------------------------------------------------------

AGGREGATE_COLUMNS: tuple[Column, ...] = (
    Column(
        "indicator_code",
        "指标编码",
        required=True,
        help="末级指标的编码，如 BE01.01",
        aliases=("指标", "indicator"),
    ),
    Column(
        "region_code",
        "区划代码",
        required=True,
        help="市、县市区或园区的区划代码",
        aliases=("区划", "region"),
    ),
    Column(
        "period",
        "期间",
        required=True,
        help="YYYY-MM，如 2025-10；按季的指标写季度首月，按年的指标写当年 1 月",
        aliases=("月份", "period"),
    ),
    Column("value", "数值", required=True, help="数字，按指标的计量单位", aliases=("value",)),
)


@dataclass
class _AggregateRow:
    indicator: Indicator
    region: Region
    period: dt.date
    value: float


@dataclass
class _AggregateContext:
    actor: Any
    indicators: dict[str, Indicator | None] = field(default_factory=dict)
    regions: dict[str, Region | None] = field(default_factory=dict)


def _aggregate_validate(
    row: int, record: dict[str, Any], report: ImportReport, context: dict[str, Any]
) -> _AggregateRow | None:
    ctx: _AggregateContext = context["aggregate"]
    problems = 0

    def add(column: str, code: str, message: str) -> None:
        nonlocal problems
        problems += 1
        report.add(row, column, code, message)

    code = str(record.get("indicator_code") or "").strip()
    indicator = None
    if not code:
        add("指标编码", "required", "请填写指标编码")
    else:
        if code not in ctx.indicators:
            ctx.indicators[code] = Indicator.objects.filter(code=code).first()
        indicator = ctx.indicators[code]
        if indicator is None:
            add("指标编码", "unknown_indicator", f"指标编码“{code}”不存在")
        elif not indicator.is_active:
            add("指标编码", "inactive_indicator", f"指标 {code} 已停用")
        elif indicator.children.exists():
            add("指标编码", "not_leaf", f"指标 {code} 不是末级指标，其数值由下级指标合成")
        elif role_of(ctx.actor) == Role.LEAD_DEPARTMENT and (
            indicator.lead_department_id != ctx.actor.department_id
        ):
            add("指标编码", "not_lead", f"您不是指标 {code} 的牵头部门，不能导入其数值")
    region_code = str(record.get("region_code") or "").strip()
    region = None
    if not region_code:
        add("区划代码", "required", "请填写区划代码")
    else:
        if region_code not in ctx.regions:
            ctx.regions[region_code] = Region.objects.filter(code=region_code).first()
        region = ctx.regions[region_code]
        if region is None:
            add("区划代码", "unknown_region", f"区划代码“{region_code}”不存在")
        elif not region.is_active:
            add("区划代码", "inactive_region", f"区划 {region.name}（{region_code}）已停用")
    period = None
    try:
        period = parse_period(record.get("period"))
    except ValueError as exc:
        add("期间", "invalid_period", str(exc))
    if period is not None and indicator is not None:
        problem = period_problem(indicator, period)
        if problem:
            add("期间", "period_frequency", problem)
    raw = record.get("value")
    value = _number(raw)
    if raw is None or str(raw).strip() == "":
        add("数值", "required", "请填写数值")
    elif value is None:
        add("数值", "invalid_number", f"“{raw}”不是有效的数字")
    if problems or indicator is None or region is None or period is None or value is None:
        return None
    return _AggregateRow(indicator, region, period, value)


def _aggregate_save(rows: list[_AggregateRow], report: ImportReport, actor: Any) -> None:
    existing = {
        (v.indicator_id, v.region_id, v.period): v
        for v in IndicatorValue.objects.filter(
            source_kind=SourceKind.AGGREGATE,
            indicator__in={r.indicator.pk for r in rows},
            period__in={r.period for r in rows},
        )
    }
    now = timezone.now()
    to_create, to_update = [], []
    for row in rows:
        current = existing.get((row.indicator.pk, row.region.pk, row.period))
        if current is None:
            to_create.append(
                IndicatorValue(
                    indicator=row.indicator,
                    region=row.region,
                    period=row.period,
                    frequency=row.indicator.frequency,
                    source_kind=SourceKind.AGGREGATE,
                    value=row.value,
                    observations=1,
                    computed_at=now,
                )
            )
        elif current.value != row.value:
            current.value = row.value
            current.computed_at = now
            to_update.append(current)
        else:
            report.unchanged += 1
    IndicatorValue.objects.bulk_create(to_create, batch_size=2000)
    IndicatorValue.objects.bulk_update(to_update, ["value", "computed_at"], batch_size=2000)
    score_periods({row.period for row in rows})
    report.created += len(to_create)
    report.updated += len(to_update)


def _aggregate_dry_counts(rows: list[_AggregateRow], report: ImportReport) -> None:
    """For a check run: what the import would create and update, without writing."""
    existing = {
        (v.indicator_id, v.region_id, v.period): v.value
        for v in IndicatorValue.objects.filter(
            source_kind=SourceKind.AGGREGATE,
            indicator__in={r.indicator.pk for r in rows},
            period__in={r.period for r in rows},
        )
    }
    for row in rows:
        key = (row.indicator.pk, row.region.pk, row.period)
        if key not in existing:
            report.created += 1
        elif existing[key] != row.value:
            report.updated += 1
        else:
            report.unchanged += 1


def aggregate_template() -> bytes:
    return template_workbook(
        AGGREGATE_COLUMNS,
        ["BE01.01", "449900", "2025-10", 12.5],
        notes="第 2 行是示例，请删除后填写。整个文件校验通过才会导入；任何一行有错误都不写入数据。",
    )


def import_aggregate_values(
    data: bytes, *, actor: Any, dry_run: bool = False, system: bool = False
) -> ImportReport:
    """Import aggregate values (汇总数据) from the XLSX template, all or nothing.

    ``system=True`` (with ``actor=None``) is for a scheduled job of another module publishing
    its own figures, e.g. the enterprise requests' 三率: no person, so no role check, and the
    audit event names no actor. Pages never pass it."""
    if system:
        if actor is not None:
            raise FillingError("系统发布不应指定操作人")
    elif role_of(actor) not in AGGREGATE_IMPORTERS:
        raise FillingError("只有营商办、系统管理员或指标牵头部门可以导入汇总数据")
    checked: list[_AggregateRow] = []

    def validate(
        row: int, record: dict[str, Any], report: ImportReport, context: dict[str, Any]
    ) -> _AggregateRow | None:
        item = _aggregate_validate(row, record, report, context)
        if item is not None:
            checked.append(item)
        return item

    spec = ImportSpec(
        columns=AGGREGATE_COLUMNS,
        validate=validate,
        save=_aggregate_save,
        unique_key=lambda r: (r.indicator.code, r.region.code, f"{r.period:%Y-%m}"),
        unique_label="指标编码、区划代码与期间",
    )
    report = run_import(
        spec,
        data,
        actor=actor,
        action="indicator_value.import_aggregate",
        dry_run=dry_run,
        context={"aggregate": _AggregateContext(actor=actor)},
    )
    if dry_run and report.ok:
        _aggregate_dry_counts(checked, report)
    return report


# --- jobs ----------------------------------------------------------------------------------


@job("indicators.open_filling_rounds", label="下发定期填报任务")
def open_filling_rounds_job(ctx: JobContext) -> dict[str, Any]:
    opened = open_due_filling_rounds()
    return {"rounds": [r.pk for r in opened]}


schedule("indicators.open_filling_rounds", every=dt.timedelta(hours=6))
