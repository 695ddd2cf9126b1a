"""Effective alert rules (预警规则): the default rule and each indicator's own rule merged field by
field over the built-in defaults, read once per scan."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sizhen.indicators.catalogue.models import Indicator
from sizhen.monitoring import detection
from sizhen.monitoring.models import SKEWED_UNITS, AlertKind, AlertRule, LogScale, Severity

#: The built-in defaults: the detection library's own (docs/alerts-detection.md).
BUILTIN: dict[str, Any] = {
    "enable_cross_sectional": True,
    "enable_abnormal_change": True,
    "enable_level_shift": True,
    "enable_goalpost": True,
    "enable_benchmark": True,
    "enable_stale_source": True,
    "enable_overdue_filling": True,
    "enable_overdue_cases": True,
    "modified_z_threshold": detection.MODIFIED_Z_THRESHOLD,
    "iqr_multiplier": detection.IQR_FENCE,
    "log_scale": LogScale.AUTO.value,
    "yoy_threshold": detection.HAMPEL_THRESHOLD,
    "stl_threshold": detection.STL_THRESHOLD,
    # The YoY path sees at most 23 past changes and the month-on-month path fewer than 18, so
    # 24 keeps the library's behaviour while bounding what a long-past regime contributes.
    "hampel_window": 24,
    "hampel_threshold": detection.HAMPEL_THRESHOLD,
    "level_shift_threshold": detection.HAMPEL_THRESHOLD,
    "level_shift_points": 3,
    "min_notify_severity": Severity.BLUE.value,
    # None: each dataset's own allowance (数据集的时效要求).
    "stale_after_days": None,
    "filling_grace_days": 0,
    "overdue_cases_minimum": 1,
    "mute_until": None,
}
SETTINGS = tuple(BUILTIN)

KIND_SWITCH: dict[str, str] = {
    AlertKind.CROSS_SECTIONAL_EXTREME: "enable_cross_sectional",
    AlertKind.ABNORMAL_CHANGE: "enable_abnormal_change",
    AlertKind.LEVEL_SHIFT: "enable_level_shift",
    AlertKind.GOALPOST_BREACH: "enable_goalpost",
    AlertKind.BENCHMARK_LAG: "enable_benchmark",
    AlertKind.STALE_SOURCE: "enable_stale_source",
    AlertKind.OVERDUE_FILLING: "enable_overdue_filling",
    AlertKind.OVERDUE_CASES: "enable_overdue_cases",
}
_SEVERITY_RANK = {"blue": 0, "yellow": 1, "orange": 2, "red": 3}


def setting_label(name: str) -> str:
    """The Chinese name of a rule setting (its model field's verbose name)."""
    return str(getattr(AlertRule._meta.get_field(name), "verbose_name", name))


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True)
class EffectiveRule:
    """The settings a scan applies to one indicator, and where each came from."""

    values: dict[str, Any]
    #: field -> "indicator", "default" or "builtin"
    sources: dict[str, str]
    label: str
    rule_ids: tuple[int, ...] = field(default=())

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        raise AttributeError(name)

    def enabled(self, kind: str) -> bool:
        return bool(self.values[KIND_SWITCH[kind]])

    def muted(self, today: dt.date) -> bool:
        until = self.values["mute_until"]
        return until is not None and today <= until

    def active(self, kind: str, today: dt.date) -> bool:
        """Whether a scan on ``today`` looks for ``kind`` on this indicator at all."""
        return self.enabled(kind) and not self.muted(today)

    def notifies(self, severity: str) -> bool:
        return _SEVERITY_RANK.get(severity, 0) >= _SEVERITY_RANK[self.values["min_notify_severity"]]

    def use_log_scale(self, unit: str, values: list[float]) -> bool:
        """Whether the cross-section is compared on the log scale (log1p needs values ≥ 0)."""
        if any(v < 0 for v in values):
            return False
        choice = self.values["log_scale"]
        if choice == LogScale.AUTO:
            return unit in SKEWED_UNITS
        return bool(choice == LogScale.YES)

    def thresholds(self, method: str) -> list[tuple[str, Any]]:
        """The settings that decided a finding of ``method``, as (label, value)."""
        names = {
            "modified_z": ["modified_z_threshold"],
            "funnel": ["modified_z_threshold"],
            "iqr_log": ["iqr_multiplier", "log_scale"],
            "stl_residual": ["stl_threshold"],
            "yoy_same_month": ["yoy_threshold", "hampel_window"],
            "hampel_change": ["hampel_threshold", "hampel_window"],
            "level_shift": ["level_shift_threshold", "level_shift_points"],
            "level_shift_cases": ["level_shift_threshold", "level_shift_points"],
            "goalpost": ["enable_goalpost"],
            "benchmark": ["enable_benchmark"],
            "staleness": ["stale_after_days"],
            "overdue": ["filling_grace_days"],
            "overdue_cases": ["overdue_cases_minimum"],
        }.get(method, [])
        out: list[tuple[str, Any]] = []
        for name in names:
            value = self.values[name]
            label = setting_label(name)
            if isinstance(value, bool):
                shown = "启用" if value else "停用"
            elif name == "log_scale":
                shown = LogScale(value).label
            elif value is None:
                shown = "按数据集设置"
            else:
                shown = _number(value)
            out.append((label, shown))
        return out

    def describe(self, method: str) -> dict[str, Any]:
        """What the alert stores about the rule that produced it (shown with the explanation)."""
        thresholds = self.thresholds(method)
        detail = "，".join(f"{label} {value}" for label, value in thresholds)
        text = f"适用规则：{self.label}" + (f"；{detail}" if detail else "")
        return {
            "label": self.label,
            "rule_ids": list(self.rule_ids),
            "thresholds": [[label, value] for label, value in thresholds],
            "text": text,
        }


def _values_of(rule: AlertRule | None) -> dict[str, Any]:
    if rule is None:
        return {}
    out = {}
    for name in SETTINGS:
        value = getattr(rule, name)
        if value is not None and value != "":
            out[name] = value
    return out


def merge(indicator_rule: AlertRule | None, default_rule: AlertRule | None) -> EffectiveRule:
    own, default = _values_of(indicator_rule), _values_of(default_rule)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in SETTINGS:
        if name in own:
            values[name], sources[name] = own[name], "indicator"
        elif name in default:
            values[name], sources[name] = default[name], "default"
        else:
            values[name], sources[name] = BUILTIN[name], "builtin"
    parts = []
    ids: list[int] = []
    if indicator_rule is not None:
        parts.append(f"指标专属规则（第 {indicator_rule.version} 版）")
        ids.append(indicator_rule.pk)
    if default_rule is not None:
        parts.append(f"默认规则（第 {default_rule.version} 版）")
        ids.append(default_rule.pk)
    parts.append("内置默认值")
    label = " > ".join(parts) if len(parts) > 1 else "内置默认值"
    return EffectiveRule(values=values, sources=sources, label=label, rule_ids=tuple(ids))


class RuleBook:
    """All rules, read once; ``for_indicator`` merges the indicator's rule over the default."""

    def __init__(self) -> None:
        rules = list(AlertRule.objects.all())
        self.default = next((r for r in rules if r.indicator_id is None), None)
        self.by_indicator = {r.indicator_id: r for r in rules if r.indicator_id is not None}
        self._cache: dict[int | None, EffectiveRule] = {}

    def for_indicator(self, indicator: Indicator | int | None) -> EffectiveRule:
        key = indicator.pk if isinstance(indicator, Indicator) else indicator
        if key not in self._cache:
            own = self.by_indicator.get(key) if key is not None else None
            self._cache[key] = merge(own, self.default)
        return self._cache[key]


def effective_rule(indicator: Indicator | None) -> EffectiveRule:
    return RuleBook().for_indicator(indicator)
