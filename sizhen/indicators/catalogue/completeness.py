"""Complete periods (完整期间): whether the sources of an indicator have reported a period, and
the newest complete period that every headline shows (docs/indicators.md, "Headline period").

A leaf's period is complete when its source has reported it:

- records (系统数据计算): the dataset's watermark (the latest date of the definition's period
  field among the loaded records, ``Dataset.watermarks``) has reached the period's last day, and
  the period ended at least ``SIZHEN_PERIOD_GRACE_DAYS`` days ago;
- filling (部门填报): every filling task of the indicator for the period is approved;
- aggregate and survey (汇总数据导入, 问卷调查): a value exists for the region and period.

A leaf without what its rule needs (a records leaf with no definition, a filled-in leaf with no
filling round) counts as complete once it has a value. A composite is complete when each child
that gates it is complete for every one of the child's periods within the composite's period.
The gating children are those with a weight above 0, with a source connected (a value at the
region at some time), that report at least as often as the composite; a child that reports
less often (a yearly survey under a monthly index) is left out, as the composite itself leaves
it out until it comes (decision 0007), unless no child reports that often, in which case the
most frequent ones gate.

The catalogue owns the rule; the records and filling checks live with the parts that own their
data and register here (``register_leaf_check``), so the catalogue imports neither.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from sizhen.core.periods import MONTHS, Period
from sizhen.indicators.catalogue.choices import SourceKind
from sizhen.indicators.catalogue.models import Indicator, IndicatorValue
from sizhen.organisations.models import Region

DEFAULT_GRACE_DAYS = 5
#: Periods checked per round, newest first: the headline is nearly always among the newest few.
FIRST_ROUND = 3


def grace_days() -> int:
    return int(getattr(settings, "SIZHEN_PERIOD_GRACE_DAYS", DEFAULT_GRACE_DAYS))


def period_after(start: dt.date, frequency: str) -> dt.date:
    """The first day after the period beginning at ``start`` (its end, exclusive)."""
    return Period.containing(start, frequency).shift(1).start


def reported_through(
    watermark: dt.date | None, start: dt.date, frequency: str, today: dt.date
) -> bool:
    """The records rule: the sources reached the period's last day and the grace has passed."""
    end = period_after(start, frequency)
    if watermark is None or watermark < end - dt.timedelta(days=1):
        return False
    return today >= end + dt.timedelta(days=grace_days())


# ---------------------------------------------------------------------------------------------
# Leaves and the checks of their source kinds


@dataclass(frozen=True)
class Node:
    pk: int
    code: str
    frequency: str
    source_kind: str
    weight: float
    children: tuple[Node, ...] = ()


Ask = tuple[Node, dt.date]  # a leaf and one of its periods
#: A source kind's check: of the asked leaf periods at ``region``, those complete on ``today``.
LeafCheck = Callable[[list[Ask], Region, dt.date], set[tuple[int, dt.date]]]

_CHECKS: dict[str, LeafCheck] = {}


def register_leaf_check(source_kind: str, check: LeafCheck) -> None:
    _CHECKS[source_kind] = check


def present_values(asks: Iterable[Ask], region: Region) -> set[tuple[int, dt.date]]:
    """Leaf periods with a value (of any source kind) at the region."""
    asks = list(asks)
    if not asks:
        return set()
    return set(
        IndicatorValue.objects.filter(
            indicator_id__in={leaf.pk for leaf, _ in asks},
            period__in={period for _, period in asks},
            region=region,
            value__isnull=False,
        ).values_list("indicator_id", "period")
    ) & {(leaf.pk, period) for leaf, period in asks}


def _check(asks: list[Ask], region: Region, today: dt.date) -> set[tuple[int, dt.date]]:
    by_kind: dict[str, list[Ask]] = defaultdict(list)
    for ask in asks:
        by_kind[ask[0].source_kind].append(ask)
    complete: set[tuple[int, dt.date]] = set()
    for kind, part in by_kind.items():
        check = _CHECKS.get(kind)
        complete |= check(part, region, today) if check else present_values(part, region)
    return complete


# ---------------------------------------------------------------------------------------------
# The tree


def load_nodes() -> dict[int, Node]:
    """Every active indicator as a node with its active children, by primary key."""
    rows = list(
        Indicator.objects.filter(is_active=True)
        .order_by("sort_order", "code")
        .values_list("pk", "code", "parent_id", "frequency", "source_kind", "weight")
    )
    children: dict[int | None, list[int]] = defaultdict(list)
    for pk, _code, parent_id, *_ in rows:
        children[parent_id].append(pk)
    by_pk = {row[0]: row for row in rows}
    nodes: dict[int, Node] = {}

    def build(pk: int) -> Node:
        if pk not in nodes:
            _, code, _, frequency, kind, weight = by_pk[pk]
            kids = tuple(build(c) for c in children[pk])
            nodes[pk] = Node(pk, code, frequency, kind, weight, kids)
        return nodes[pk]

    for pk in by_pk:
        build(pk)
    return nodes


def _child_periods(child: Node, start: dt.date, parent_frequency: str) -> list[dt.date]:
    if MONTHS.get(child.frequency, 1) >= MONTHS.get(parent_frequency, 1):
        return [Period.containing(start, child.frequency).start]
    end = period_after(start, parent_frequency)
    periods, day = [], start
    while day < end:
        periods.append(day)
        day = period_after(day, child.frequency)
    return periods


def _leaves(node: Node) -> list[Node]:
    if not node.children:
        return [node]
    return [leaf for child in node.children for leaf in _leaves(child)]


class _Evaluator:
    """Completeness of (node, period) pairs at one region: the leaf periods they need are
    checked in one batch per source kind, then the composites are decided in memory.

    A leaf that has never had a value at the region (its source is not connected yet) takes no
    part: otherwise one unconnected figure among ninety would keep every period incomplete."""

    def __init__(self, region: Region, today: dt.date) -> None:
        self.region, self.today = region, today
        self.connected: set[int] | None = None
        self.reporting: dict[int, int | None] = {}
        self.leaves: dict[tuple[int, dt.date], bool] = {}

    def _connect(self, nodes: Iterable[Node]) -> None:
        ids = {leaf.pk for node in nodes for leaf in _leaves(node)}
        self.connected = set(
            IndicatorValue.objects.filter(
                indicator_id__in=ids, region=self.region, value__isnull=False
            )
            .values_list("indicator_id", flat=True)
            .distinct()
        )

    def _reporting_months(self, node: Node) -> int | None:
        """How often a node's figures arrive (a leaf by its frequency, a composite by its most
        frequent counted child); None when none of its sources is connected."""
        if node.pk not in self.reporting:
            if not node.children:
                connected = self.connected is not None and node.pk in self.connected
                self.reporting[node.pk] = MONTHS.get(node.frequency, 1) if connected else None
            else:
                months = [self._reporting_months(c) for c in self._counted(node)]
                self.reporting[node.pk] = min((m for m in months if m), default=None)
        return self.reporting[node.pk]

    def _counted(self, node: Node) -> tuple[Node, ...]:
        return tuple(c for c in node.children if c.weight > 0) or node.children

    def gating_children(self, node: Node) -> list[Node]:
        counted = [c for c in self._counted(node) if self._reporting_months(c) is not None]
        if not counted:
            return []
        own = MONTHS.get(node.frequency, 1)
        months = {c.pk: self._reporting_months(c) or 0 for c in counted}
        often = [c for c in counted if months[c.pk] <= own]
        if often:
            return often
        fastest = min(months.values())
        return [c for c in counted if months[c.pk] == fastest]

    def _leaf_asks(self, node: Node, period: dt.date, into: dict[tuple[int, dt.date], Ask]) -> None:
        if not node.children:
            key = (node.pk, period)
            if key not in self.leaves:
                into[key] = (node, period)
            return
        for child in self.gating_children(node):
            for day in _child_periods(child, period, node.frequency):
                self._leaf_asks(child, day, into)

    def prepare(self, pairs: list[tuple[Node, dt.date]]) -> None:
        if self.connected is None:
            self._connect(node for node, _ in pairs)
        asks: dict[tuple[int, dt.date], Ask] = {}
        for node, period in pairs:
            self._leaf_asks(node, period, asks)
        complete = _check(list(asks.values()), self.region, self.today)
        for key in asks:
            self.leaves[key] = key in complete

    def complete(self, node: Node, period: dt.date) -> bool:
        if not node.children:
            return self.leaves.get((node.pk, period), False)
        gating = self.gating_children(node)
        return bool(gating) and all(
            self.complete(child, day)
            for child in gating
            for day in _child_periods(child, period, node.frequency)
        )


# ---------------------------------------------------------------------------------------------
# What pages read


@dataclass(frozen=True)
class PeriodState:
    """One period of an indicator at a region: complete or provisional (暂定), and for a
    composite the children with a score out of its children (覆盖 k/n)."""

    period: dt.date
    complete: bool
    coverage: tuple[int, int] | None = None

    @property
    def coverage_text(self) -> str:
        return f"覆盖 {self.coverage[0]}/{self.coverage[1]}" if self.coverage else ""


@dataclass
class Headline:
    """The period a headline shows (the newest complete one, None when no period with a value
    is complete) and the newer provisional periods, oldest first."""

    period: dt.date | None = None
    provisional: list[PeriodState] = field(default_factory=list)
    states: dict[dt.date, PeriodState] = field(default_factory=dict)

    def is_provisional(self, period: dt.date) -> bool:
        state = self.states.get(period)
        return state is not None and not state.complete


def latest_complete_periods(
    indicators: Iterable[Indicator], region: Region, *, today: dt.date | None = None
) -> dict[int, Headline]:
    """For each indicator, its newest complete period with a value at the region and the newer
    provisional ones; a handful of queries whatever the number of indicators."""
    today = today or timezone.localdate()
    wanted = {i.pk for i in indicators}
    if not wanted:
        return {}
    nodes = load_nodes()
    periods: dict[int, set[dt.date]] = defaultdict(set)
    observations: dict[tuple[int, dt.date], int] = {}
    for indicator_id, period, kind, count in IndicatorValue.objects.filter(
        indicator_id__in=wanted, region=region, value__isnull=False
    ).values_list("indicator_id", "period", "source_kind", "observations"):
        node = nodes.get(indicator_id)
        # A parent's periods are those of its composite (a stray leaf-kind row is no index).
        if node is not None and node.children and kind != SourceKind.COMPOSITE:
            continue
        periods[indicator_id].add(period)
        if kind == SourceKind.COMPOSITE:
            observations[(indicator_id, period)] = count
    evaluator = _Evaluator(region, today)
    result: dict[int, Headline] = {}
    pending = {pk: sorted(periods[pk], reverse=True) for pk in wanted if pk in nodes}
    for pk in wanted - set(pending):
        result[pk] = Headline()
    rounds = (slice(0, FIRST_ROUND), slice(FIRST_ROUND, None))
    for part in rounds:
        batch = [(nodes[pk], day) for pk, days in pending.items() for day in days[part]]
        evaluator.prepare(batch)
        for pk in list(pending):
            node, headline = nodes[pk], result.setdefault(pk, Headline())
            for day in pending[pk][part]:
                width = len(node.children)
                coverage = (observations.get((pk, day), 0), width) if width else None
                state = PeriodState(day, evaluator.complete(node, day), coverage)
                headline.states[day] = state
                if state.complete:
                    headline.period = day
                    break
                headline.provisional.insert(0, state)
            if headline.period is not None or not pending[pk][part.stop or len(pending[pk]) :]:
                del pending[pk]
    for headline in result.values():
        headline.provisional.sort(key=lambda s: s.period)
    return result


def latest_complete_period(
    indicator: Indicator, region: Region, *, today: dt.date | None = None
) -> Headline:
    return latest_complete_periods([indicator], region, today=today)[indicator.pk]


def is_complete(
    indicator: Indicator, period: dt.date, region: Region, *, today: dt.date | None = None
) -> bool:
    """Whether the indicator's period (its first day) is complete at the region."""
    nodes = load_nodes()
    node = nodes.get(indicator.pk)
    if node is None:
        return False
    evaluator = _Evaluator(region, today or timezone.localdate())
    evaluator.prepare([(node, period)])
    return evaluator.complete(node, period)


def gating_children(indicator: Indicator, region: Region) -> list[str]:
    """Codes of the children that decide whether the indicator's periods are complete at the
    region (for pages that explain a provisional period)."""
    node = load_nodes().get(indicator.pk)
    if node is None:
        return []
    evaluator = _Evaluator(region, timezone.localdate())
    evaluator._connect([node])
    return [child.code for child in evaluator.gating_children(node)]
