"""Request analysis (诉求分析): volume, the three rates (三率: response rate 响应率, resolution
rate 解决率, satisfaction rate 满意率), overdue rate (超期率), second-assignment rate (二次交办率)
and average handling time, grouped by channel, lead unit, district, category and month; hot
topics (热点问题) by keyword and the category trend.

Every figure is a count or a sum computed by the database (one grouped query per dimension);
Python only divides and rolls regions up to their district. Working days come from the work
calendar as a workday index W(d) = working days in (origin, d], so that the working days
between two dates is W(b) - W(a) (the same as ``workcalendar.working_days_between``); the index
is handed to the database as a balanced CASE tree over the day boundaries, so each row costs
about log2(days) comparisons.

Definitions are configurable through ``settings.SIZHEN_REQUEST_RATES`` (see ``DEFAULT_RATES``
and docs/enterprise-requests.md, section "分析与三率")."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeAlias

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from sizhen.core.access import Actor
from sizhen.core.numbers import rounded
from sizhen.core.periods import Period
from sizhen.core.workcalendar import get_calendar
from sizhen.enterprise_requests.choices import Channel, Satisfaction
from sizhen.enterprise_requests.models import EnterpriseRequest, RequestCategory
from sizhen.enterprise_requests.selectors import requests_visible_to
from sizhen.enterprise_requests.workflow import CLOSED, MERGED, REJECTED, TERMINAL, WITHDRAWN
from sizhen.organisations.choices import RegionLevel
from sizhen.organisations.models import Department, Region

#: Documented defaults; a project overrides any key with ``SIZHEN_REQUEST_RATES = {...}``.
DEFAULT_RATES: dict[str, Any] = {
    # 响应率: responded when ``response_at`` is within this many working days of ``response_from``.
    "response_working_days": 1,
    "response_from": "submitted_at",  # or "dispatched_at" (falls back to submitted_at)
    # The first acceptance (首次签收, kept across re-dispatch and second assignment); or
    # "accepted_at" (the latest acceptance) or "replied_at" (答复).
    "response_at": "first_accepted_at",
    # 解决率: "revisit" = judged solved by the enterprise at the revisit (resolved / revisited);
    # "closed" = 办结 / replied.
    "resolution_mode": "revisit",
    # 满意率: the 好差评 levels counted as satisfied (非常满意 5, 满意 4) among the rated.
    "satisfied_levels": (Satisfaction.VERY_SATISFIED, Satisfaction.SATISFIED),
    # The moment a request counts as handled for the overdue rate and the handling time.
    "handled_at": "replied_at",  # or "closed_at"
    # Requests that never entered handling count in no figure (并单、撤回、不予受理).
    "excluded_statuses": (MERGED, WITHDRAWN, REJECTED),
    # Hot topics: a category is rising when its month count is at least ``rising_min`` and at
    # least ``rising_ratio`` times its mean over the ``rising_window`` months before.
    "rising_ratio": 1.5,
    "rising_min": 3,
    "rising_window": 3,
    "keywords_per_month": 10,
    #: Texts read per month for keywords (newest first) and the months of a range that get
    #: keywords (the last ones), to bound the work for a large city (jieba: ~0.2 ms a text).
    "keyword_sample": 2000,
    "keyword_months": 3,
    # Publication to the indicator engine (job enterprise_requests.publish_rates): measure →
    # leaf indicator code of the default catalogue (政务服务 BE15); empty = nothing published.
    "publish": {
        "response_rate": "BE15.08",
        "resolution_rate": "BE15.09",
        "satisfaction_rate": "BE15.10",
    },
    #: Username of the account the scheduled publication imports as; empty = the system.
    "publish_as": "",
}

RESPONSE_FROM = ("submitted_at", "dispatched_at")
RESPONSE_AT = ("first_accepted_at", "accepted_at", "replied_at")
HANDLED_AT = ("replied_at", "closed_at")
RESOLUTION_MODES = ("revisit", "closed")

DIMENSIONS = {
    "channel": "渠道",
    "department": "主办单位",
    "district": "区域",
    "category": "诉求分类",
    "month": "月份",
}
UNASSIGNED = "（未指定）"


def rate_settings() -> dict[str, Any]:
    """The definitions in force: the defaults updated by ``settings.SIZHEN_REQUEST_RATES``."""
    merged = dict(DEFAULT_RATES)
    merged.update(getattr(settings, "SIZHEN_REQUEST_RATES", None) or {})
    for key, allowed in (
        ("response_from", RESPONSE_FROM),
        ("response_at", RESPONSE_AT),
        ("handled_at", HANDLED_AT),
        ("resolution_mode", RESOLUTION_MODES),
    ):
        if merged[key] not in allowed:
            raise ValueError(f"SIZHEN_REQUEST_RATES[{key!r}] must be one of {allowed}")
    return merged


# --- filters -------------------------------------------------------------------------------


def local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@dataclass
class AnalysisFilter:
    """Requests submitted in the months [first, last] (诉求按提交时间归期)."""

    first: dt.date
    last: dt.date
    channel: str = ""
    department: Department | None = None
    region: Region | None = None
    category: RequestCategory | None = None

    def __post_init__(self) -> None:
        self.first = Period.containing(self.first).start
        self.last = Period.containing(self.last).start

    @property
    def label(self) -> str:
        if self.first == self.last:
            return f"{self.first:%Y年%-m月}"
        return f"{self.first:%Y年%-m月}至{self.last:%Y年%-m月}"

    def months(self) -> list[dt.date]:
        out, day = [], self.first
        while day <= self.last:
            out.append(day)
            day = Period(day).shift(1).start
        return out


class _System:
    """The whole city, for the background jobs (report, publication); pages never pass it."""

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM = _System()

#: For whom an analysis is made: an actor (their scope) or ``SYSTEM`` (the whole city).
Viewer: TypeAlias = Actor | _System


def filtered(actor: Viewer, f: AnalysisFilter) -> QuerySet[EnterpriseRequest]:
    """The requests the actor may see that the filter selects, without the excluded states."""
    base = (
        EnterpriseRequest.objects.all()
        if isinstance(actor, _System)
        else requests_visible_to(actor)
    )
    qs = base.filter(
        submitted_at__gte=local_midnight(f.first),
        submitted_at__lt=local_midnight(Period.containing(f.last).shift(1).start),
    )
    qs = qs.exclude(status__in=rate_settings()["excluded_statuses"])
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.department is not None:
        qs = qs.filter(lead_department=f.department)
    if f.region is not None:
        qs = qs.filter(region__path__startswith=f.region.path)
    if f.category is not None:
        qs = qs.filter(Q(category=f.category) | Q(category__parent=f.category))
    return qs.order_by()


# --- working-day index ---------------------------------------------------------------------


@dataclass(frozen=True)
class WorkdayIndex:
    """W(d) over [first, last] as runs of days with the same index (weekends and holidays
    share the index of the working day before them)."""

    starts: tuple[dt.date, ...]
    values: tuple[int, ...]

    @classmethod
    def build(cls, first: dt.date, last: dt.date) -> WorkdayIndex:
        starts: list[dt.date] = []
        values: list[int] = []
        count = 0
        for info in get_calendar().days(first, last):
            if info.is_workday:
                count += 1
            if not values or values[-1] != count:
                starts.append(info.date)
                values.append(count)
        return cls(tuple(starts), tuple(values))

    def of(self, day: dt.date) -> int:
        value = self.values[0]
        for start, v in zip(self.starts, self.values, strict=True):
            if start > day:
                break
            value = v
        return value

    def expression(self, field_name: str) -> Any:
        """W(local date of ``field_name``) as a SQL expression; NULL stays NULL."""
        return day_runs_expression(field_name, self.starts, self.values, IntegerField())

    def first_day_at_least(self, value: int) -> dt.date:
        """The first day whose index is at least ``value`` (past the range: the day after)."""
        for start, v in zip(self.starts, self.values, strict=True):
            if v >= value:
                return start
        return self.starts[-1] + dt.timedelta(days=1)

    def response_cutoffs(self, limit: int) -> tuple[tuple[dt.date, ...], tuple[dt.datetime, ...]]:
        """For a clock started on day d: the moment a response is late, i.e. midnight of the
        first day x with W(x) − W(d) > ``limit``; as runs of days sharing it."""
        starts: list[dt.date] = []
        values: list[dt.datetime] = []
        for start, v in zip(self.starts, self.values, strict=True):
            cutoff = local_midnight(self.first_day_at_least(v + limit + 1))
            if not values or values[-1] != cutoff:
                starts.append(start)
                values.append(cutoff)
        return tuple(starts), tuple(values)


def day_runs_expression(
    field_name: str, starts: tuple[dt.date, ...], values: tuple[Any, ...], output_field: Any
) -> Any:
    """The value of the run the local date of ``field_name`` falls in, as a balanced CASE tree
    over the runs' first days (before the first run: the first value); NULL stays NULL."""

    def tree(lo: int, hi: int) -> Any:
        if lo == hi:
            return Value(values[lo], output_field=output_field)
        mid = (lo + hi + 1) // 2
        return Case(
            When(**{f"{field_name}__lt": local_midnight(starts[mid])}, then=tree(lo, mid - 1)),
            default=tree(mid, hi),
            output_field=output_field,
        )

    return Case(
        When(**{f"{field_name}__isnull": True}, then=Value(None, output_field=output_field)),
        default=tree(0, len(values) - 1),
        output_field=output_field,
    )


# --- figures -------------------------------------------------------------------------------


@dataclass
class Figures:
    """Counts of one group; the rates are their ratios (None when nothing is due)."""

    key: Any = None
    label: str = ""
    total: int = 0
    responded: int = 0
    response_due: int = 0
    resolved: int = 0
    resolution_base: int = 0
    satisfied: int = 0
    rated: int = 0
    overdue: int = 0
    deadline_due: int = 0
    second: int = 0
    second_base: int = 0
    handled: int = 0
    handling_days: int = 0

    COUNTS = (
        "total",
        "responded",
        "response_due",
        "resolved",
        "resolution_base",
        "satisfied",
        "rated",
        "overdue",
        "deadline_due",
        "second",
        "second_base",
        "handled",
        "handling_days",
    )

    def add(self, other: Figures) -> None:
        for name in self.COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @staticmethod
    def _pct(num: int, den: int) -> float | None:
        return rounded(100.0 * num / den, 1) if den else None

    @property
    def response_rate(self) -> float | None:
        return self._pct(self.responded, self.response_due)

    @property
    def resolution_rate(self) -> float | None:
        return self._pct(self.resolved, self.resolution_base)

    @property
    def satisfaction_rate(self) -> float | None:
        return self._pct(self.satisfied, self.rated)

    @property
    def overdue_rate(self) -> float | None:
        return self._pct(self.overdue, self.deadline_due)

    @property
    def second_rate(self) -> float | None:
        return self._pct(self.second, self.second_base)

    @property
    def avg_handling_days(self) -> float | None:
        return rounded(self.handling_days / self.handled, 1) if self.handled else None

    RATES = (
        ("response_rate", "响应率"),
        ("resolution_rate", "解决率"),
        ("satisfaction_rate", "满意率"),
        ("overdue_rate", "超期率"),
        ("second_rate", "二次交办率"),
    )


def _measures(qs: QuerySet[EnterpriseRequest], today: dt.date) -> tuple[QuerySet[Any], dict]:
    conf = rate_settings()
    bounds = qs.aggregate(first=Min("submitted_at"))
    first = timezone.localtime(bounds["first"]).date() if bounds["first"] else today
    limit = int(conf["response_working_days"])
    # Past today as well: the response cutoff of a request submitted today lies ahead.
    index = WorkdayIndex.build(
        min(first, today) - dt.timedelta(days=1), today + dt.timedelta(days=limit * 3 + 30)
    )
    response_at = conf["response_at"]
    handled_at = conf["handled_at"]
    start_field = "submitted_at"
    if conf["response_from"] == "dispatched_at":
        qs = qs.alias(_start_ts=Coalesce("dispatched_at", "submitted_at"))
        start_field = "_start_ts"
    cut_starts, cut_values = index.response_cutoffs(limit)
    qs = qs.alias(_cutoff=day_runs_expression(start_field, cut_starts, cut_values, DateTimeField()))
    # Not responded and due: W(start day) < W(today) − limit, i.e. started before this moment.
    due_before = local_midnight(index.first_day_at_least(index.of(today) - limit))
    # Aggregates may not refer to aliases: the handling time is summed over the expression.
    handling = ExpressionWrapper(
        index.expression(handled_at) - index.expression("submitted_at"),
        output_field=IntegerField(),
    )
    responded = Q(**{f"{response_at}__isnull": False})
    handled = Q(**{f"{handled_at}__isnull": False})
    if conf["resolution_mode"] == "revisit":
        resolved, resolution_base = Q(resolved=True), Q(resolved__isnull=False)
    else:
        resolved, resolution_base = Q(status=CLOSED), Q(replied_at__isnull=False)
    with_deadline = Q(deadline__isnull=False)
    measures = {
        "total": Count("pk"),
        "responded": Count("pk", filter=responded & Q(**{f"{response_at}__lt": F("_cutoff")})),
        "response_due": Count("pk", filter=responded | Q(**{f"{start_field}__lt": due_before})),
        "resolved": Count("pk", filter=resolved),
        "resolution_base": Count("pk", filter=resolution_base),
        "satisfied": Count("pk", filter=Q(satisfaction__in=list(conf["satisfied_levels"]))),
        "rated": Count("pk", filter=Q(satisfaction__isnull=False)),
        "overdue": Count(
            "pk",
            filter=with_deadline
            & (
                (handled & Q(**{f"{handled_at}__date__gt": F("deadline")}))
                | (~handled & Q(deadline__lt=today) & ~Q(status__in=TERMINAL))
            ),
        ),
        "deadline_due": Count("pk", filter=with_deadline & (handled | Q(deadline__lt=today))),
        "second": Count("pk", filter=Q(second_assignment=True)),
        "second_base": Count("pk", filter=Q(replied_at__isnull=False) | Q(second_assignment=True)),
        "handled": Count("pk", filter=handled),
        "handling_days": Sum(handling, filter=handled),
    }
    # Prefixed: an aggregate may not share its name with a field (resolved, satisfaction…).
    return qs, {f"m_{name}": value for name, value in measures.items()}


def _figures(row: dict[str, Any], key: Any = None, label: str = "") -> Figures:
    return Figures(key=key, label=label, **{n: int(row.get(f"m_{n}") or 0) for n in Figures.COUNTS})


#: The cube's grouping keys, one per dimension (the district is rolled up from the region).
CUBE_KEYS = {
    "channel": "channel",
    "department": "lead_department_id",
    "district": "region_id",
    "category": "_top",
    "month": "_month",
}


def cube(actor: Viewer, f: AnalysisFilter, *, today: dt.date | None = None) -> list[dict[str, Any]]:
    """All counts grouped by channel × lead unit × region × first-level category × month, in
    one query; every figure of the page rolls up from these rows (at most one per
    combination, far fewer than the requests)."""
    today = today or timezone.localdate()
    qs, measures = _measures(filtered(actor, f), today)
    qs = qs.annotate(
        _top=Coalesce("category__parent_id", "category_id"), _month=TruncMonth("submitted_at")
    )
    rows = list(qs.values(*CUBE_KEYS.values()).annotate(**measures).order_by())
    for row in rows:
        row["_month"] = _as_month(row["_month"])
    return rows


@dataclass
class Summary:
    overall: Figures
    groups: dict[str, list[Figures]]


def summarise(actor: Viewer, f: AnalysisFilter, *, today: dt.date | None = None) -> Summary:
    """The overall figures and every dimension from one cube query."""
    rows = cube(actor, f, today=today)
    total = Figures(label="合计")
    for row in rows:
        total.add(_figures(row))
    return Summary(total, {d: _roll_up(rows, d, f) for d in DIMENSIONS})


def overall(actor: Viewer, f: AnalysisFilter, *, today: dt.date | None = None) -> Figures:
    return summarise(actor, f, today=today).overall


def totals(actor: Viewer, f: AnalysisFilter, *, today: dt.date | None = None) -> Figures:
    """The overall figures of ``f`` alone (the same as ``overall``) without the dimension
    roll-ups and their label look-ups: one aggregate query after the first submission date and
    the work calendar that the working-day index is built from. For the leaders' cockpit."""
    today = today or timezone.localdate()
    qs, measures = _measures(filtered(actor, f), today)
    # aggregate() may not refer to the measures' aliases: annotate over a constant group.
    rows = list(qs.annotate(_all=Value(1)).values("_all").annotate(**measures))
    return _figures(rows[0] if rows else {}, label="合计")


def by_dimension(
    actor: Viewer, f: AnalysisFilter, dimension: str, *, today: dt.date | None = None
) -> list[Figures]:
    """Figures per channel / department / district / category (first level) / month."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dimension!r}")
    return _roll_up(cube(actor, f, today=today), dimension, f)


def _sum_by(rows: list[dict[str, Any]], key: str) -> dict[Any, Figures]:
    out: dict[Any, Figures] = {}
    for row in rows:
        k = row[key]
        if k not in out:
            out[k] = Figures(key=k)
        out[k].add(_figures(row))
    return out


def _roll_up(rows: list[dict[str, Any]], dimension: str, f: AnalysisFilter) -> list[Figures]:
    if dimension == "district":
        return _roll_up_districts(rows)
    groups = _sum_by(rows, CUBE_KEYS[dimension])
    if dimension == "channel":
        labels = dict(Channel.choices)
        order = {value: i for i, value in enumerate(labels)}
        for g in groups.values():
            g.label = labels.get(g.key, g.key)
        return sorted(groups.values(), key=lambda g: order.get(g.key, len(order)))
    if dimension == "department":
        names = dict(Department.objects.filter(pk__in=list(groups)).values_list("pk", "name"))
        for g in groups.values():
            g.label = names.get(g.key, UNASSIGNED)
        return sorted(groups.values(), key=lambda x: (x.key is None, -x.total, x.label))
    if dimension == "category":
        cats = RequestCategory.objects.in_bulk([k for k in groups if k is not None])
        for g in groups.values():
            g.label = cats[g.key].name if g.key in cats else UNASSIGNED
        rank = {pk: (c.sort_order, c.code) for pk, c in cats.items()}
        return sorted(groups.values(), key=lambda x: (x.key is None, rank.get(x.key, (0, ""))))
    return [_month_figures(groups, m) for m in f.months()]


def _month_figures(groups: dict[Any, Figures], month: dt.date) -> Figures:
    figures = groups.get(month) or Figures(key=month)
    figures.label = f"{month:%Y-%m}"
    return figures


def _as_month(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        return value.date().replace(day=1)
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10]).replace(day=1)
    return value.replace(day=1)


DISTRICT_LEVELS = (RegionLevel.DISTRICT, RegionLevel.COUNTY)


def district_of(regions: Iterable[Region]) -> dict[int, Region | None]:
    """Each region's district or county (县市区); parks and towns roll up to theirs, a region
    above district level to None."""
    regions = list(regions)
    districts = list(Region.objects.filter(level__in=DISTRICT_LEVELS))
    out: dict[int, Region | None] = {}
    for region in regions:
        match = [d for d in districts if region.path.startswith(d.path)]
        out[region.pk] = max(match, key=lambda d: len(d.path)) if match else None
    return out


def _roll_up_districts(rows: list[dict[str, Any]]) -> list[Figures]:
    regions = Region.objects.filter(pk__in=[r["region_id"] for r in rows if r["region_id"]])
    mapping = district_of(regions)
    groups: dict[Any, Figures] = {}
    order: dict[Any, tuple[int, str]] = {}
    for row in rows:
        district = mapping.get(row["region_id"]) if row["region_id"] else None
        key = district.pk if district else None
        if key not in groups:
            groups[key] = Figures(key=key, label=district.name if district else "市级/未指定区域")
            order[key] = (district.sort_order, district.code) if district else (10**9, "")
        groups[key].add(_figures(row))
    return sorted(groups.values(), key=lambda x: order[x.key])


# --- hot topics ----------------------------------------------------------------------------

STOPWORDS_PATH = Path(__file__).resolve().parent / "data" / "stopwords.txt"
_WORD = re.compile(r"^[\u4e00-\u9fff]{2,}$|^[A-Za-z][A-Za-z0-9]{2,}$")


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    lines = STOPWORDS_PATH.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))


#: Enterprise names in a text (…有限公司): removed before keywords and in report examples.
COMPANY_NAME = re.compile(
    r"[\u4e00-\u9fffA-Za-z0-9（）()]{2,30}?(有限责任公司|股份有限公司|有限公司|公司|厂|合作社)"
)
_PLACE_SUFFIX = re.compile(
    r"(经济技术开发区|高新技术产业开发区|开发区|高新区|新区|园区|自治县|区|县|市|镇|乡|街道)$"
)


def place_words() -> frozenset[str]:
    """Region names and their stems (东湖区 → 东湖): a request naming its district is not a topic."""
    out: set[str] = set()
    for name in Region.objects.values_list("name", flat=True):
        out.add(name)
        stem = _PLACE_SUFFIX.sub("", name)
        if len(stem) >= 2:
            out.add(stem)
    return frozenset(out)


def keywords(texts: Iterable[str], top: int = 10) -> list[tuple[str, int]]:
    """The most frequent words (two or more Chinese characters, no stop words, no place
    names); a word counts once per request."""
    import jieba

    jieba.setLogLevel(60)
    stop = stopwords() | place_words()
    counter: Counter[str] = Counter()
    for text in texts:
        text = COMPANY_NAME.sub(" ", text)
        words = {w for w in jieba.lcut(text) if _WORD.match(w) and w not in stop}
        counter.update(words)
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:top]


@dataclass
class MonthTopics:
    month: dt.date
    total: int
    words: list[tuple[str, int]] = field(default_factory=list)


def hot_keywords(actor: Viewer, f: AnalysisFilter) -> list[MonthTopics]:
    """Top keywords of each of the last ``keyword_months`` months of the range."""
    conf = rate_settings()
    qs = filtered(actor, f)
    out = []
    for month in f.months()[-int(conf["keyword_months"]) :]:
        month_qs = qs.filter(
            submitted_at__gte=local_midnight(month),
            submitted_at__lt=local_midnight(Period.containing(month).shift(1).start),
        )
        rows = month_qs.order_by("-submitted_at").values_list("title", "text")[
            : int(conf["keyword_sample"])
        ]
        texts = [f"{title} {text}" for title, text in rows]
        out.append(
            MonthTopics(month, month_qs.count(), keywords(texts, int(conf["keywords_per_month"])))
        )
    return out


@dataclass
class CategoryTrend:
    category: RequestCategory | None
    label: str
    counts: list[int]
    rising: bool


def category_trend(actor: Viewer, f: AnalysisFilter) -> tuple[list[dt.date], list[CategoryTrend]]:
    """Month × first-level category counts; a category is flagged rising (上升) when its last
    month is at least ``rising_min`` and ``rising_ratio`` times its mean over the window before."""
    conf = rate_settings()
    months = f.months()
    rows = (
        filtered(actor, f)
        .annotate(
            _month=TruncMonth("submitted_at"), _top=Coalesce("category__parent_id", "category_id")
        )
        .values("_month", "_top")
        .annotate(n=Count("pk"))
        .order_by()
    )
    table: dict[Any, dict[dt.date, int]] = defaultdict(dict)
    for row in rows:
        month = _as_month(row["_month"])
        table[row["_top"]][month] = table[row["_top"]].get(month, 0) + row["n"]
    cats = RequestCategory.objects.in_bulk([k for k in table if k is not None])
    window = int(conf["rising_window"])
    out = []
    for key, counts in table.items():
        series = [counts.get(m, 0) for m in months]
        before = series[-1 - window : -1] if len(series) > 1 else []
        mean = sum(before) / len(before) if before else 0.0
        last = series[-1]
        rising = (
            bool(before)
            and last >= int(conf["rising_min"])
            and (last >= float(conf["rising_ratio"]) * mean)
        )
        category = cats.get(key) if key is not None else None
        out.append(
            CategoryTrend(category, category.name if category else UNASSIGNED, series, rising)
        )
    out.sort(key=lambda t: (-sum(t.counts), t.label))
    return months, out


# --- lists ---------------------------------------------------------------------------------


def overdue_requests(
    actor: Viewer, f: AnalysisFilter, *, today: dt.date | None = None
) -> QuerySet[EnterpriseRequest]:
    """The requests counted as overdue (handled after the deadline or open past it)."""
    today = today or timezone.localdate()
    handled_at = rate_settings()["handled_at"]
    handled = Q(**{f"{handled_at}__isnull": False})
    return (
        filtered(actor, f)
        .filter(deadline__isnull=False)
        .filter(
            (handled & Q(**{f"{handled_at}__date__gt": F("deadline")}))
            | (~handled & Q(deadline__lt=today) & ~Q(status__in=TERMINAL))
        )
        .select_related("category", "region", "lead_department")
        .order_by("deadline", "pk")
    )


def second_assignment_requests(actor: Viewer, f: AnalysisFilter) -> QuerySet[EnterpriseRequest]:
    return (
        filtered(actor, f)
        .filter(second_assignment=True)
        .select_related("category", "region", "lead_department")
        .order_by("submitted_at", "pk")
    )


def top_leaf_categories(actor: Viewer, f: AnalysisFilter, top: int = 5) -> list[dict[str, Any]]:
    """The most frequent second-level categories (突出问题) with their counts."""
    rows = (
        filtered(actor, f)
        .filter(category__isnull=False)
        .values("category_id", "category__name", "category__parent__name")
        .annotate(n=Count("pk"), last=Max("submitted_at"))
        .order_by("-n", "category__name")[:top]
    )
    return [dict(row) for row in rows]
