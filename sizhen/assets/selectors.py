"""Reads of the data-asset catalogue (数据资源目录) and lineage (血缘): derived from the datasets,
loads, indicators, filling and survey rounds that exist, plus the stored asset profiles; cached
by the versioned cache (decision 0013) except the counts of what uses an indicator (alerts,
tasks, letters, ledger items), which change all day and are read on every request."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Max, Min, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from sizhen.assets.changes import ASSETS, figures_version
from sizhen.assets.choices import AssetKind
from sizhen.assets.models import AssetProfile, ExtractRequest
from sizhen.assets.workflow import SUBMITTED
from sizhen.core.access import VIEW, Actor, scope_key
from sizhen.core.permissions import capability_roles, has_capability
from sizhen.core.versions import VersionedCache
from sizhen.core.workqueue import Queue
from sizhen.indicators.catalogue.choices import SourceKind
from sizhen.indicators.catalogue.models import Indicator, IndicatorValue
from sizhen.indicators.filling.models import FillingRound
from sizhen.indicators.ingestion.choices import LoadStatus
from sizhen.indicators.ingestion.models import Dataset, LoadBatch
from sizhen.indicators.ingestion.selectors import (
    dataset_of_indicators,
    list_dataset_freshness,
)
from sizhen.monitoring.models import Alert
from sizhen.rectification.models import RectificationItem
from sizhen.reports.models import ReminderLetter
from sizhen.surveys.models import SurveyRound
from sizhen.work_tasks.models import TaskAssignment

#: The quality score looks at this many days of loads (docs/data-assets.md).
QUALITY_WINDOW_DAYS = 180
BAD_WEIGHT = 0.7
LATE_WEIGHT = 0.3
UNREGISTERED = "未登记"


# --- quality (质量评分) -------------------------------------------------------------------------


@dataclass(frozen=True)
class Quality:
    loads: int
    rows: int
    rejected: int
    intervals: int
    late: int

    @property
    def bad_share(self) -> float:
        return self.rejected / self.rows if self.rows else 0.0

    @property
    def late_share(self) -> float:
        return self.late / self.intervals if self.intervals else 0.0

    @property
    def score(self) -> float | None:
        if not self.loads:
            return None
        raw = 100 * (BAD_WEIGHT * (1 - self.bad_share) + LATE_WEIGHT * (1 - self.late_share))
        return round(raw, 1)


def dataset_quality(datasets: Iterable[Dataset], *, now: dt.datetime) -> dict[int, Quality]:
    """The quality score of each dataset from its loads of the last 180 days: the share of
    rows rejected or quarantined, and the share of intervals between committed loads (and
    since the last one) longer than the dataset's ``stale_after_days``. One query."""
    by_id = {d.pk: d for d in datasets}
    since = now - dt.timedelta(days=QUALITY_WINDOW_DAYS)
    rows: dict[int, list[int]] = {pk: [0, 0, 0] for pk in by_id}  # loads, rows, rejected
    finished: dict[int, list[dt.datetime]] = {pk: [] for pk in by_id}
    for dataset_id, status, finished_at, total, rejected in (
        LoadBatch.objects.filter(
            dataset_id__in=list(by_id),
            dry_run=False,
            finished_at__gte=since,
            status__in=(LoadStatus.LOADED, LoadStatus.REJECTED),
        )
        .order_by("dataset_id", "finished_at")
        .values_list("dataset_id", "status", "finished_at", "rows_total", "rejected")
    ):
        counts = rows[dataset_id]
        counts[0] += 1
        counts[1] += total
        counts[2] += rejected
        if status == LoadStatus.LOADED and finished_at is not None:
            finished[dataset_id].append(finished_at)
    out = {}
    for pk, dataset in by_id.items():
        limit = dt.timedelta(days=dataset.stale_after_days)
        stamps = [*finished[pk], now]
        gaps = [b - a for a, b in itertools.pairwise(stamps)]
        loads, total, rejected = rows[pk]
        out[pk] = Quality(
            loads=loads,
            rows=total,
            rejected=rejected,
            intervals=len(gaps),
            late=sum(1 for gap in gaps if gap > limit),
        )
    return out


# --- the catalogue -------------------------------------------------------------------------


@dataclass(frozen=True)
class AssetEntry:
    """One row of the catalogue, whatever its kind."""

    id: str
    kind: str
    code: str
    name: str
    owner: str = ""
    source: str = ""
    frequency: str = ""
    restricted: bool = False
    row_count: int | None = None
    first_period: dt.date | None = None
    last_period: dt.date | None = None
    last_load_at: dt.datetime | None = None
    freshness: str = ""
    stale: bool = False
    quality: float | None = None
    description: str = ""
    url: str = ""

    @property
    def kind_label(self) -> str:
        return AssetKind(self.kind).label

    @property
    def time_span(self) -> str:
        if self.first_period is None and self.last_period is None:
            return ""
        first = self.first_period.isoformat() if self.first_period else "…"
        last = self.last_period.isoformat() if self.last_period else "…"
        return f"{first} 至 {last}"


def asset_id(kind: str, code: str | int) -> str:
    return f"{kind}.{code}"


def _value_spans() -> dict[int, tuple[dt.date, dt.date]]:
    return {
        row["indicator_id"]: (row["first"], row["last"])
        for row in IndicatorValue.objects.values("indicator_id").annotate(
            first=Min("period"), last=Max("period")
        )
    }


def _dataset_entries(
    now: dt.datetime, spans: dict[int, tuple[dt.date, dt.date]]
) -> list[AssetEntry]:
    datasets = list(
        Dataset.objects.select_related("asset_profile__owner_department").order_by("code")
    )
    quality = dataset_quality(datasets, now=now)
    feeds = dataset_of_indicators()
    indicator_ids = dict(Indicator.objects.values_list("code", "pk"))
    first_by_dataset: dict[str, dt.date] = {}
    for indicator_code, dataset_code in feeds.items():
        span = spans.get(indicator_ids.get(indicator_code, 0))
        if span is not None:
            known = first_by_dataset.get(dataset_code)
            first_by_dataset[dataset_code] = min(span[0], known) if known else span[0]
    out = []
    for fresh in list_dataset_freshness(datasets, now=now):
        dataset = fresh.dataset
        profile = _profile(dataset)
        watermarks = [dt.date.fromisoformat(v) for v in (dataset.watermarks or {}).values() if v]
        out.append(
            AssetEntry(
                id=asset_id(AssetKind.DATASET, dataset.code),
                kind=AssetKind.DATASET,
                code=dataset.code,
                name=dataset.name,
                owner=profile.owner_department.name
                if profile and profile.owner_department
                else UNREGISTERED,
                source=profile.source_system if profile and profile.source_system else UNREGISTERED,
                frequency=profile.get_update_frequency_display() if profile else UNREGISTERED,
                restricted=bool(profile and profile.restricted),
                row_count=fresh.rows_loaded,
                first_period=first_by_dataset.get(dataset.code),
                last_period=max(watermarks) if watermarks else None,
                last_load_at=fresh.last_load_at,
                freshness=fresh.state_label,
                stale=fresh.stale,
                quality=quality[dataset.pk].score,
                description=(profile.description if profile and profile.description else "")
                or dataset.description,
                url=reverse("assets:dataset", args=[dataset.code]),
            )
        )
    return out


def _profile(dataset: Dataset) -> AssetProfile | None:
    try:
        return dataset.asset_profile
    except AssetProfile.DoesNotExist:
        return None


def _indicator_entries(spans: dict[int, tuple[dt.date, dt.date]]) -> list[AssetEntry]:
    feeds = dataset_of_indicators()
    names = dict(Dataset.objects.values_list("code", "name"))
    out = []
    for indicator in Indicator.objects.select_related("lead_department").order_by(
        "sort_order", "code"
    ):
        span = spans.get(indicator.pk)
        if indicator.source_kind == SourceKind.RECORDS and indicator.code in feeds:
            source = names.get(feeds[indicator.code], feeds[indicator.code])
        else:
            source = indicator.get_source_kind_display()
        out.append(
            AssetEntry(
                id=asset_id(AssetKind.INDICATOR, indicator.code),
                kind=AssetKind.INDICATOR,
                code=indicator.code,
                name=indicator.name,
                owner=indicator.lead_department.name if indicator.lead_department else "",
                source=source,
                frequency=indicator.get_frequency_display(),
                first_period=span[0] if span else None,
                last_period=span[1] if span else None,
                description=indicator.definition,
                url=reverse("assets:indicator", args=[indicator.code]),
            )
        )
    return out


def _round_entries(actor: Actor) -> list[AssetEntry]:
    out = []
    for filling in (
        FillingRound.objects.visible_to(actor, VIEW)
        .annotate(indicator_count=Count("indicators"))
        .order_by("-period", "pk")
    ):
        out.append(
            AssetEntry(
                id=asset_id(AssetKind.FILLING, filling.pk),
                kind=AssetKind.FILLING,
                code=str(filling.pk),
                name=filling.title,
                source="部门填报",
                first_period=filling.period,
                last_period=filling.period,
                description=f"{filling.indicator_count} 项指标，截止 {filling.deadline:%Y-%m-%d}",
                url=reverse("indicator_filling:round_detail", args=[filling.pk]),
            )
        )
    for survey in (
        SurveyRound.objects.visible_to(actor, VIEW)
        .select_related("questionnaire")
        .order_by("-deadline", "pk")
    ):
        out.append(
            AssetEntry(
                id=asset_id(AssetKind.SURVEY, survey.pk),
                kind=AssetKind.SURVEY,
                code=str(survey.pk),
                name=survey.title,
                source=survey.questionnaire.title,
                last_period=survey.deadline,
                description=f"问卷：{survey.questionnaire.title}",
                url=reverse("surveys:round_detail", args=[survey.pk]),
            )
        )
    return out


def build_catalogue(actor: Actor, *, now: dt.datetime | None = None) -> list[AssetEntry]:
    """The catalogue computed afresh (what the cache stores; the bench's straightforward
    side)."""
    now = now or timezone.now()
    spans = _value_spans()
    return [*_dataset_entries(now, spans), *_indicator_entries(spans), *_round_entries(actor)]


CATALOGUE_CACHE: VersionedCache[list[AssetEntry]] = VersionedCache(
    "assets.catalogue", depends_on=ASSETS
)


def list_catalogue(actor: Actor) -> list[AssetEntry]:
    """Every data asset the actor may see, cached under the catalogue's versions and the
    viewer's scope (rounds are scoped)."""
    if not has_capability(actor, "staff.api"):
        return []
    key = (figures_version(), scope_key(actor))
    return CATALOGUE_CACHE.get(key, lambda: build_catalogue(actor))


def get_entry(actor: Actor, ident: str) -> AssetEntry | None:
    return next((e for e in list_catalogue(actor) if e.id == ident), None)


# --- lineage (血缘) --------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    #: source, dataset or child, indicator, composite, use — the graph's columns, left to
    #: right (CATEGORY_LABELS).
    category: str
    url: str = ""
    focus: bool = False

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS[self.category]


@dataclass(frozen=True)
class Edge:
    source: str
    target: str


@dataclass
class Lineage:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def add(self, node: Node) -> None:
        if all(n.id != node.id for n in self.nodes):
            self.nodes.append(node)

    def link(self, source: str, target: str) -> None:
        edge = Edge(source, target)
        if edge not in self.edges:
            self.edges.append(edge)

    def label_of(self, node_id: str) -> str:
        return next((n.label for n in self.nodes if n.id == node_id), node_id)

    def rows(self) -> list[tuple[Node, Node]]:
        """The edges as (from, to) nodes: the table beside the graph."""
        by_id = {n.id: n for n in self.nodes}
        return [(by_id[e.source], by_id[e.target]) for e in self.edges]

    def chart(self) -> dict[str, Any]:
        return {
            "nodes": [
                {"id": n.id, "name": n.label, "category": n.category, "focus": n.focus}
                for n in self.nodes
            ],
            "links": [{"source": e.source, "target": e.target} for e in self.edges],
        }


CATEGORY_LABELS = {
    "source": "来源系统",
    "dataset": "数据集",
    "child": "下级指标",
    "indicator": "指标",
    "composite": "上级指标",
    "use": "使用方",
}


def _source_node(dataset: Dataset) -> Node:
    profile = _profile(dataset)
    label = profile.source_system if profile and profile.source_system else "来源系统未登记"
    return Node(f"source:{label}", label, "source")


def _dataset_node(dataset: Dataset, focus: bool = False) -> Node:
    return Node(
        f"dataset:{dataset.code}",
        dataset.name,
        "dataset",
        reverse("assets:dataset", args=[dataset.code]),
        focus,
    )


def _indicator_node(indicator: Indicator, category: str, focus: bool = False) -> Node:
    return Node(
        f"indicator:{indicator.code}",
        f"{indicator.code} {indicator.name}",
        category,
        reverse("assets:indicator", args=[indicator.code]),
        focus,
    )


def _ancestors(indicator: Indicator, by_pk: dict[int, Indicator]) -> list[Indicator]:
    chain: list[Indicator] = []
    parent_id = indicator.parent_id
    while parent_id is not None and parent_id in by_pk and len(chain) < 10:
        chain.append(by_pk[parent_id])
        parent_id = by_pk[parent_id].parent_id
    return chain


def _upstream(lineage: Lineage, indicator: Indicator, datasets: dict[str, Dataset]) -> str:
    """Adds where the indicator's figures come from; returns the id of the node feeding it."""
    feeds = dataset_of_indicators()
    dataset = datasets.get(feeds.get(indicator.code, ""))
    if indicator.source_kind == SourceKind.RECORDS and dataset is not None:
        source = _source_node(dataset)
        lineage.add(source)
        lineage.add(_dataset_node(dataset))
        lineage.link(source.id, f"dataset:{dataset.code}")
        return f"dataset:{dataset.code}"
    label = indicator.get_source_kind_display()
    if indicator.source_kind == SourceKind.FILLING and indicator.lead_department:
        label = f"{indicator.lead_department.name}（部门填报）"
    node = Node(f"source:{label}", label, "source")
    lineage.add(node)
    return node.id


def _structure_of_indicator(code: str) -> Lineage:
    by_pk = {i.pk: i for i in Indicator.objects.select_related("lead_department")}
    indicator = next(i for i in by_pk.values() if i.code == code)
    datasets = {d.code: d for d in Dataset.objects.select_related("asset_profile")}
    lineage = Lineage()
    focus = _indicator_node(indicator, "indicator", focus=True)
    if indicator.source_kind == SourceKind.COMPOSITE:
        for child in sorted(
            (i for i in by_pk.values() if i.parent_id == indicator.pk),
            key=lambda i: (i.sort_order, i.code),
        ):
            lineage.add(_indicator_node(child, "child"))
            lineage.link(f"indicator:{child.code}", focus.id)
    else:
        feeder = _upstream(lineage, indicator, datasets)
        lineage.add(focus)
        lineage.link(feeder, focus.id)
    lineage.add(focus)
    below = focus.id
    for parent in _ancestors(indicator, by_pk):
        node = _indicator_node(parent, "composite")
        lineage.add(node)
        lineage.link(below, node.id)
        below = node.id
    return lineage


def _structure_of_dataset(code: str) -> Lineage:
    dataset = Dataset.objects.select_related("asset_profile").get(code=code)
    by_pk = {i.pk: i for i in Indicator.objects.all()}
    by_code = {i.code: i for i in by_pk.values()}
    lineage = Lineage()
    source = _source_node(dataset)
    lineage.add(source)
    lineage.add(_dataset_node(dataset, focus=True))
    lineage.link(source.id, f"dataset:{code}")
    for indicator_code, dataset_code in dataset_of_indicators().items():
        indicator = by_code.get(indicator_code)
        if dataset_code != code or indicator is None:
            continue
        lineage.add(_indicator_node(indicator, "indicator"))
        lineage.link(f"dataset:{code}", f"indicator:{indicator.code}")
        below = f"indicator:{indicator.code}"
        for parent in _ancestors(indicator, by_pk):
            node = _indicator_node(parent, "composite")
            lineage.add(node)
            lineage.link(below, node.id)
            below = node.id
    return lineage


LINEAGE_CACHE: VersionedCache[Lineage] = VersionedCache("assets.lineage", depends_on=ASSETS)


def _uses(lineage: Lineage, actor: Actor, indicators: QuerySet[Indicator], target: str) -> None:
    """What uses the figures, counted within the actor's scope on every request."""
    counts = (
        (
            "alerts",
            "预警",
            Alert.objects.visible_to(actor, VIEW).filter(indicator__in=indicators).count(),
            "monitoring:alert_list",
        ),
        (
            "tasks",
            "工作任务",
            TaskAssignment.objects.visible_to(actor, VIEW)
            .filter(task__indicators__in=indicators)
            .values("task_id")
            .distinct()
            .count(),
            "work_tasks:list",
        ),
        (
            "letters",
            "提醒函",
            ReminderLetter.objects.visible_to(actor, VIEW).filter(indicator__in=indicators).count(),
            "reports:letter_list",
        ),
        (
            "items",
            "整改事项",
            RectificationItem.objects.visible_to(actor, VIEW)
            .filter(indicators__in=indicators)
            .distinct()
            .count(),
            "rectification:item_list",
        ),
    )
    for key, label, count, url_name in counts:
        if count:
            node = Node(f"use:{key}", f"{label} {count} 项", "use", reverse(url_name))
            lineage.add(node)
            lineage.link(target, node.id)


def _structure(kind: str, code: str, cached: bool) -> Lineage:
    """The lineage without its uses: the same for every viewer, cached (decision 0013)."""
    build = _structure_of_indicator if kind == "indicator" else _structure_of_dataset
    structure = (
        LINEAGE_CACHE.get((kind, code, figures_version()), lambda: build(code))
        if cached
        else build(code)
    )
    # A copy: the cached entry is shared and the uses are added per viewer.
    return Lineage(list(structure.nodes), list(structure.edges))


def build_indicator_lineage(actor: Actor, code: str, *, cached: bool = True) -> Lineage:
    """Source system → dataset (or the children of a composite) → the indicator → its
    composites, and what uses it within the actor's scope."""
    lineage = _structure("indicator", code, cached)
    _uses(lineage, actor, Indicator.objects.filter(code=code), f"indicator:{code}")
    return lineage


def build_dataset_lineage(actor: Actor, code: str, *, cached: bool = True) -> Lineage:
    """Source system → the dataset → the indicators computed from it → their composites, and
    what uses those indicators within the actor's scope."""
    lineage = _structure("dataset", code, cached)
    codes = [n.id.split(":", 1)[1] for n in lineage.nodes if n.category == "indicator"]
    if codes:
        _uses(lineage, actor, Indicator.objects.filter(code__in=codes), f"dataset:{code}")
    return lineage


# --- extract requests ----------------------------------------------------------------------


def list_to_approve(actor: Actor) -> QuerySet[ExtractRequest]:
    """Requests waiting for the actor's decision: any for the office, those on the datasets
    their department owns for a department."""
    qs = ExtractRequest.objects.visible_to(actor, VIEW).filter(status=SUBMITTED)
    if has_capability(actor, "asset.manage"):
        return qs
    department_id = getattr(actor, "department_id", None)
    if not department_id or not has_capability(actor, "asset.approve"):
        return qs.none()
    return qs.filter(owner_department_id=department_id).exclude(
        Q(requested_by_id=getattr(actor, "pk", None))
    )


WORK_QUEUES = (
    Queue(
        "extract_approve",
        "待审批的数据调取申请",
        "数据资产",
        capability_roles("asset.approve"),
        list_to_approve,
        "assets:extract_list",
        deadline="",
    ),
)
