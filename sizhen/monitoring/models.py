"""Alerts (预警): one per indicator, region and kind of finding, updated as scans see it again."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from sizhen.core.access import CHANGE, DELETE, Actor, ScopedManager, region_scope_q, role_of
from sizhen.core.periods import Period
from sizhen.core.permissions import has_capability
from sizhen.core.roles import CITY_WIDE_ROLES, DEPARTMENT_ROLES, Role
from sizhen.indicators.catalogue.models import Indicator
from sizhen.monitoring.workflow import ALERT_WORKFLOW, OPEN, STATES
from sizhen.organisations.models import Department, Region


class AlertKind(models.TextChoices):
    CROSS_SECTIONAL_EXTREME = "cross_sectional_extreme", "横向极端值"
    ABNORMAL_CHANGE = "abnormal_change", "异常波动"
    LEVEL_SHIFT = "level_shift", "水平突变"
    GOALPOST_BREACH = "goalpost_breach", "未达目标"
    BENCHMARK_LAG = "benchmark_lag", "落后标杆城市"
    STALE_SOURCE = "stale_source", "数据源陈旧"
    OVERDUE_FILLING = "overdue_filling", "填报逾期"
    OVERDUE_CASES = "overdue_cases", "办件超期"


class Severity(models.TextChoices):
    RED = "red", "红色"
    ORANGE = "orange", "橙色"
    YELLOW = "yellow", "黄色"
    BLUE = "blue", "蓝色"


#: The most severe of the four colours (红色预警).
HIGHEST_SEVERITY = Severity.RED


class Alert(models.Model):
    """An explainable alert: the value, the expected range, the method, the points it used and
    a four-colour severity (四色预警)."""

    indicator = models.ForeignKey(
        Indicator, verbose_name="指标", on_delete=models.CASCADE, related_name="alerts"
    )
    region = models.ForeignKey(
        Region, verbose_name="区域", on_delete=models.CASCADE, related_name="alerts"
    )
    kind = models.CharField("类型", max_length=30, choices=AlertKind.choices)
    period = models.DateField("期间（首日）", null=True)
    status = models.CharField(
        "状态", max_length=20, choices=list(STATES.items()), default=OPEN, editable=False
    )
    severity = models.CharField("预警等级", max_length=10, choices=Severity.choices)
    value = models.FloatField("数值")
    expected = models.FloatField("预期值", null=True, blank=True)
    lower = models.FloatField("正常范围下限", null=True, blank=True)
    upper = models.FloatField("正常范围上限", null=True, blank=True)
    method = models.CharField("检测方法", max_length=30)
    score = models.FloatField("统计量")
    points = models.JSONField("所用数据点", default=list, blank=True)
    explanation = models.TextField("说明")
    impact = models.FloatField("影响度", default=0.0)
    assigned_department = models.ForeignKey(
        Department,
        verbose_name="承办部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="alerts",
    )
    note = models.TextField("处置说明", blank=True)
    #: What the alert was converted into: "work_task" or "rectification", and that item's id.
    converted_kind = models.CharField("转办类型", max_length=20, blank=True)
    converted_id = models.PositiveIntegerField("转办事项编号", null=True, blank=True)
    dismiss_reason = models.TextField("忽略理由", blank=True)
    #: What within (indicator, region, kind) the alert is about; the department code for
    #: overdue cases (one alert per department and district), "" for every other kind.
    subject = models.CharField("细分对象", max_length=50, blank=True, default="")
    department = models.ForeignKey(
        Department,
        verbose_name="涉及部门",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subject_alerts",
    )
    #: The effective alert rule and thresholds that produced the latest finding.
    rule = models.JSONField("适用规则", default=dict, blank=True)
    #: Set when the scan resolved the alert because its condition cleared, so a return of the
    #: same finding (even for the same period) counts as a recurrence and re-opens it.
    auto_resolved_at = models.DateTimeField("自动解决时间", null=True, blank=True)
    first_seen_at = models.DateTimeField("首次发现", default=timezone.now)
    last_seen_at = models.DateTimeField("最近发现", default=timezone.now)
    occurrences = models.PositiveIntegerField("发现次数", default=1)
    version = models.PositiveIntegerField("版本", default=1)

    objects = ScopedManager()
    workflow = ALERT_WORKFLOW

    class Meta:
        verbose_name = "预警"
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "region", "kind", "subject"], name="monitoring_alert_unique"
            )
        ]
        indexes = [
            models.Index(fields=["status", "impact"], name="monitoring_alert_status_impact"),
        ]

    def __str__(self) -> str:
        suffix = f"/{self.subject}" if self.subject else ""
        return f"{self.indicator_id}/{self.region_id}/{self.kind}{suffix}"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        role = role_of(actor)
        if role is None or role == Role.ENTERPRISE:
            return None
        department_id = getattr(actor, "department_id", None)
        assigned = Q(assigned_department_id=department_id) if department_id else None
        if action in (CHANGE, DELETE):
            if action == CHANGE and has_capability(actor, "alert.manage"):
                return Q()
            # The assigned department may acknowledge; the workflow guard decides which action.
            return assigned if action == CHANGE else None
        if role in CITY_WIDE_ROLES:
            return Q()
        q = region_scope_q(actor, "region__path")
        if role in DEPARTMENT_ROLES and assigned is not None:
            q |= assigned | Q(department_id=department_id)
        return q

    @property
    def period_label(self) -> str:
        return Period.containing(self.period).label if self.period else ""

    @property
    def value_label(self) -> str:
        """What ``value`` measures: the indicator's value, or for the kinds that count
        something else (overdue cases filed under 按时办结率, days without a load) that count."""
        return VALUE_MEASURES.get(self.kind, ("数值", ""))[0]

    @property
    def value_text(self) -> str:
        measure = VALUE_MEASURES.get(self.kind)
        unit = measure[1] if measure else self.indicator.unit
        shown = f"{self.value:.2f}".rstrip("0").rstrip(".")
        return f"{'0' if shown == '-0' else shown}{unit}"

    @property
    def headline(self) -> str:
        """The alert in plain Chinese, for the people who act on it: what happened, compared
        with what, how unusual, without the statistics (those stay in ``explanation``, one
        click away on the alert's page). Kinds whose explanation is already plain keep it."""
        if self.kind not in STATISTICAL_KINDS or self.lower is None or self.upper is None:
            return self.explanation
        unit = self.indicator.unit
        low, high = _short(self.lower), _short(self.upper)
        normal = f"{low}–{high}{unit}" if low != high else f"{low}{unit}"
        above = self.expected is not None and self.value > self.expected
        subject = f"{self.region.name}{self.indicator.name}"
        if self.kind == AlertKind.LEVEL_SHIFT:
            text = (
                f"{subject}自{self.period_label}起连续几期{'升' if above else '降'}到"
                f"{self.value_text}左右，明显{'高于' if above else '低于'}此前的正常范围"
                f"（{normal}），不是一时波动"
            )
        elif self.kind == AlertKind.CROSS_SECTIONAL_EXTREME:
            text = (
                f"{self.period_label}{subject}为{self.value_text}，"
                f"{'远高于' if above else '远低于'}同期其他地区的一般水平（{normal}）"
            )
        else:
            text = (
                f"{self.period_label}{subject}为{self.value_text}，"
                f"{'明显高于' if above else '明显低于'}按以往规律预计的范围（{normal}）"
            )
        return f"{text}；{self.rarity}。"

    @property
    def rarity(self) -> str:
        """How unusual, in words, as the scan graded it (the severity follows the statistic's
        distance past its method's threshold)."""
        words = {Severity.RED.value: "极为罕见", Severity.ORANGE.value: "很少见"}
        return f"这样的偏离在以往数据中{words.get(self.severity, '少见')}"


#: Kinds found by the statistical scan: their explanation carries the statistics.
STATISTICAL_KINDS = frozenset(
    {AlertKind.ABNORMAL_CHANGE, AlertKind.LEVEL_SHIFT, AlertKind.CROSS_SECTIONAL_EXTREME}
)


def _short(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


#: Kinds whose value is not a value of the indicator: (what it counts, its unit). An overdue-case
#: alert under 按时办结率 holds the number of cases, never a rate.
VALUE_MEASURES: dict[str, tuple[str, str]] = {
    AlertKind.OVERDUE_CASES: ("超期办件数", "件"),
    AlertKind.OVERDUE_FILLING: ("逾期天数", "天"),
    AlertKind.STALE_SOURCE: ("未更新天数", "天"),
}


class LogScale(models.TextChoices):
    AUTO = "auto", "自动（计数、金额类指标用对数）"
    YES = "yes", "用对数"
    NO = "no", "不用对数"


#: Indicator units whose cross-sections are skewed counts or amounts (a few large districts),
#: so "auto" compares them on the log scale (DHIS2's z-score complaint, reference §1.3).
SKEWED_UNITS = frozenset({"件", "户", "家", "个", "人", "项", "元", "万元", "亿元"})


class AlertRule(models.Model):
    """An alert rule (预警规则): which kinds a scan raises for an indicator and with which
    thresholds. The rule without an indicator is the default for all; an indicator's own rule
    overrides it field by field, and an empty field inherits (finally the built-in default)."""

    indicator = models.ForeignKey(
        Indicator,
        verbose_name="指标",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alert_rules",
    )
    enable_cross_sectional = models.BooleanField("横向极端值", null=True, blank=True)
    enable_abnormal_change = models.BooleanField("异常波动", null=True, blank=True)
    enable_level_shift = models.BooleanField("水平突变", null=True, blank=True)
    enable_goalpost = models.BooleanField("目标值检查", null=True, blank=True)
    enable_benchmark = models.BooleanField("标杆城市对比", null=True, blank=True)
    enable_stale_source = models.BooleanField("数据源陈旧", null=True, blank=True)
    enable_overdue_filling = models.BooleanField("填报逾期", null=True, blank=True)
    enable_overdue_cases = models.BooleanField("办件超期", null=True, blank=True)
    modified_z_threshold = models.FloatField("修正Z分数阈值", null=True, blank=True)
    iqr_multiplier = models.FloatField("对数四分位距倍数", null=True, blank=True)
    log_scale = models.CharField(
        "横向比较用对数", max_length=10, choices=LogScale.choices, blank=True, default=""
    )
    yoy_threshold = models.FloatField("同比变化阈值", null=True, blank=True)
    stl_threshold = models.FloatField("STL 残差阈值", null=True, blank=True)
    hampel_window = models.PositiveIntegerField("Hampel 窗口（期）", null=True, blank=True)
    hampel_threshold = models.FloatField("Hampel 阈值", null=True, blank=True)
    level_shift_threshold = models.FloatField("水平突变阈值", null=True, blank=True)
    level_shift_points = models.PositiveIntegerField("水平突变连续期数", null=True, blank=True)
    min_notify_severity = models.CharField(
        "通知的最低等级", max_length=10, choices=Severity.choices, blank=True, default=""
    )
    stale_after_days = models.PositiveIntegerField("数据源陈旧天数", null=True, blank=True)
    filling_grace_days = models.PositiveIntegerField("填报逾期宽限天数", null=True, blank=True)
    overdue_cases_minimum = models.PositiveIntegerField("办件超期最少件数", null=True, blank=True)
    mute_until = models.DateField("静默至", null=True, blank=True)
    note = models.TextField("说明", blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    updated_at = models.DateTimeField("更新时间", default=timezone.now)
    updated_by = models.CharField("更新人", max_length=200, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "预警规则"
        constraints = [
            # One rule per indicator and one default: NULLs are distinct in a plain unique
            # index, so the default rule is indexed as indicator 0.
            models.UniqueConstraint(
                Coalesce("indicator", models.Value(0)),
                name="monitoring_alertrule_one_per_indicator",
                violation_error_message="该指标已有预警规则，请编辑原规则",
            ),
        ]

    def __str__(self) -> str:
        return f"预警规则：{self.indicator.name}" if self.indicator else "默认预警规则"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        # Rules are the coordinating office's (营商办) configuration; nobody else sees them.
        return Q() if has_capability(actor, "alert_rule.edit") else None
