"""Validation rules (校验规则) of filled values: ranges, change against the last period and
relations to other indicators; errors block a submission, warnings need an explanation."""

from __future__ import annotations

import datetime as dt
import math
import operator
from collections.abc import Callable
from typing import Any

from sizhen.core.periods import Period
from sizhen.indicators.catalogue.choices import SourceKind
from sizhen.indicators.catalogue.models import Indicator, IndicatorValue
from sizhen.indicators.filling.choices import RuleKind, RuleSeverity
from sizhen.indicators.filling.models import FillingRule, FillingTask
from sizhen.organisations.models import Region

OPERATORS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "<": (operator.lt, "小于"),
    "<=": (operator.le, "不大于"),
    "==": (lambda a, b: math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), "等于"),
    "!=": (lambda a, b: not math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), "不等于"),
    ">=": (operator.ge, "不小于"),
    ">": (operator.gt, "大于"),
}


def parse_number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def format_number(value: float) -> str:
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
        low, high = parse_number(params.get("min")), parse_number(params.get("max"))
        if (low is not None and value < low) or (high is not None and value > high):
            if low is not None and high is not None:
                default = f"数值应在 {format_number(low)} 至 {format_number(high)} 之间"
            elif low is not None:
                default = f"数值不应小于 {format_number(low)}"
            else:
                default = f"数值不应大于 {format_number(high or 0)}"
            return rule.message or default
        return None
    if rule.kind == RuleKind.CHANGE_VS_LAST_PERIOD:
        limit = parse_number(params.get("max_change_percent"))
        if limit is None:
            return None
        last_period = Period.containing(task.period, task.indicator.frequency).shift(-1)
        last = reference_value(task.indicator, task.region, last_period.start)
        if last is None:
            return None
        if last == 0:
            change = 0.0 if value == 0 else math.inf
        else:
            change = abs(value - last) / abs(last) * 100
        if change > limit:
            shown = "—" if math.isinf(change) else f"{change:.1f}%"
            return rule.message or (
                f"与上期（{last_period.label_zh}："
                f"{format_number(last)}）相比变化 {shown}，超过 {format_number(limit)}%"
            )
        return None
    if rule.kind == RuleKind.CROSS_FIELD:
        other_code = str(params.get("other", ""))
        symbol = str(params.get("operator", ""))
        factor = parse_number(params.get("factor", 1))
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
        scaled = f"{format_number(factor)} 倍" if factor != 1 else ""
        return rule.message or (
            f"数值应{words}指标 {other.code} {other.name}{scaled}的值（{format_number(bound)}）"
        )
    return None


def validate_value(task: FillingTask, value: Any) -> tuple[list[str], list[str]]:
    """(errors, warnings) of a value for a task under the indicator's active rules."""
    number = parse_number(value)
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
    # The indicator's domain (a share in % within 0–100, a count never negative) holds whatever
    # rules the lead department has set; a rule that already refuses the value has said why.
    domain = task.indicator.bounds_problem(number)
    if domain and not errors:
        errors.append(domain)
    return errors, warnings


RULE_OPERATORS = tuple(OPERATORS)


def rule_parameter_problems(kind: str, parameters: Any) -> list[str]:
    if not isinstance(parameters, dict):
        return ["规则参数格式不正确"]
    if kind == RuleKind.RANGE:
        low, high = parameters.get("min"), parameters.get("max")
        if low is None and high is None:
            return ["取值范围规则至少要设置下限或上限"]
        if (low is not None and parse_number(low) is None) or (
            high is not None and parse_number(high) is None
        ):
            return ["下限和上限应为数字"]
        if low is not None and high is not None and float(low) > float(high):
            return ["下限不能大于上限"]
        return []
    if kind == RuleKind.CHANGE_VS_LAST_PERIOD:
        limit = parse_number(parameters.get("max_change_percent"))
        return [] if limit is not None and limit >= 0 else ["变化幅度上限应为不小于 0 的百分数"]
    if kind == RuleKind.CROSS_FIELD:
        problems = []
        if not Indicator.objects.filter(code=str(parameters.get("other", ""))).exists():
            problems.append("比较的指标编码不存在")
        if parameters.get("operator") not in OPERATORS:
            problems.append("比较关系应为 " + " ".join(OPERATORS))
        if parse_number(parameters.get("factor", 1)) is None:
            problems.append("倍数应为数字")
        return problems
    return ["请选择规则类型"]
