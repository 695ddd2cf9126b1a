"""The scoring computation in memory (评分计算): what it reads (the indicator tree, the cycles with
their goalposts, the regions) and the evaluation of a year's values up the tree, which both
stored scoring and simulated evaluation run."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from sizhen.core.periods import MONTHS, Period
from sizhen.indicators.catalogue.choices import SourceKind, Weighting
from sizhen.indicators.catalogue.models import EvaluationCycle, Goalpost, Indicator
from sizhen.indicators.scoring.formulas import (
    _affected,
    _round,
    _starts_within,
    competition_ranks,
    dtf_score,
    entropy_weights,
    weighted_mean,
)
from sizhen.organisations.models import Region

# Which value of a leaf feeds its parent when several source kinds exist: the kind the catalogue
# declares first, then system-computed data before imported, filled-in and survey data.
LEAF_KIND_PREFERENCE = (
    SourceKind.RECORDS,
    SourceKind.AGGREGATE,
    SourceKind.FILLING,
    SourceKind.SURVEY,
)


Key = tuple[int, dt.date]  # (region id, period)


# ---------------------------------------------------------------------------------------------
# What a computation reads


@dataclass(frozen=True)
class _Node:
    pk: int
    code: str
    frequency: str
    direction: str
    weight: float
    kinds: tuple[str, ...]  # leaf source kinds in order of preference
    children: tuple[int, ...]


@dataclass
class _Tree:
    nodes: dict[int, _Node]
    order: list[int]  # pre-order from the roots; reversed, children come before parents
    roots: list[int]

    @property
    def by_code(self) -> dict[str, _Node]:
        return {node.code: node for node in self.nodes.values()}


def _load_tree() -> _Tree:
    """The tree of active indicators; a subtree under an inactive indicator takes no part."""
    rows = list(
        Indicator.objects.filter(is_active=True)
        .order_by("sort_order", "code")
        .values_list("pk", "code", "parent_id", "frequency", "direction", "weight", "source_kind")
    )
    children: dict[int | None, list[int]] = defaultdict(list)
    for pk, _code, parent_id, *_ in rows:
        children[parent_id].append(pk)
    nodes: dict[int, _Node] = {}
    for pk, code, _parent, frequency, direction, weight, kind in rows:
        kinds = tuple(dict.fromkeys(k for k in (kind, *LEAF_KIND_PREFERENCE) if k != "composite"))
        nodes[pk] = _Node(pk, code, frequency, direction, weight, kinds, tuple(children[pk]))
    order: list[int] = []
    stack = list(reversed(children[None]))
    while stack:
        pk = stack.pop()
        order.append(pk)
        stack.extend(reversed(nodes[pk].children))
    reachable = set(order)
    return _Tree({pk: n for pk, n in nodes.items() if pk in reachable}, order, children[None])


@dataclass(frozen=True)
class _Cycle:
    pk: int
    starts_on: dt.date
    ends_on: dt.date
    weighting: str
    is_current: bool


class _Cycles:
    """Which cycle's goalposts and weighting apply to a period: the cycle containing it (the
    latest-starting one if several do), else the current cycle; or the one the caller fixed."""

    def __init__(self, fixed: EvaluationCycle | None = None) -> None:
        queryset = EvaluationCycle.objects.all()
        if fixed is not None:
            queryset = queryset.filter(pk=fixed.pk)
        self.cycles = [
            _Cycle(*row)
            for row in queryset.order_by("-starts_on", "-pk").values_list(
                "pk", "starts_on", "ends_on", "weighting", "is_current"
            )
        ]
        self.fixed = self.cycles[0] if fixed is not None and self.cycles else None
        self.current = next((c for c in self.cycles if c.is_current), None)
        self.goalposts = {
            (cycle_id, indicator_id): (best, worst)
            for cycle_id, indicator_id, best, worst in Goalpost.objects.filter(
                cycle_id__in=[c.pk for c in self.cycles]
            ).values_list("cycle_id", "indicator_id", "best", "worst")
        }
        self._cache: dict[dt.date, _Cycle | None] = {}

    def for_period(self, day: dt.date) -> _Cycle | None:
        if self.fixed is not None:
            return self.fixed
        if day not in self._cache:
            containing = (c for c in self.cycles if c.starts_on <= day <= c.ends_on)
            self._cache[day] = next(containing, self.current)
        return self._cache[day]

    def goalpost(self, day: dt.date, indicator_id: int) -> tuple[float, float] | None:
        cycle = self.for_period(day)
        return None if cycle is None else self.goalposts.get((cycle.pk, indicator_id))

    def weighting(self, day: dt.date) -> str:
        cycle = self.for_period(day)
        return cycle.weighting if cycle is not None else Weighting.EQUAL


@dataclass(frozen=True)
class _Region:
    pk: int
    parent_id: int | None
    depth: int


def _load_regions() -> dict[int, _Region]:
    return {
        pk: _Region(pk, parent_id, depth)
        for pk, parent_id, depth in Region.objects.values_list("pk", "parent_id", "depth")
    }


# Leaf values: (indicator id, source kind) -> (region id, period) -> value
LeafValues = dict[tuple[int, str], dict[Key, float | None]]


# ---------------------------------------------------------------------------------------------
# The computation, in memory


@dataclass
class _Evaluation:
    leaf_scores: dict[tuple[int, str], dict[Key, float | None]] = field(default_factory=dict)
    # The score each indicator contributes upwards (leaves: the preferred source kind; parents:
    # the composite), only where there is one.
    series: dict[int, dict[Key, float]] = field(default_factory=dict)
    # The leaf value behind each leaf series entry; the number of children behind a composite.
    inputs: dict[int, dict[Key, float | None]] = field(default_factory=dict)


def _evaluate(
    tree: _Tree, cycles: _Cycles, regions: dict[int, _Region], values: LeafValues
) -> _Evaluation:
    result = _Evaluation()
    for (indicator_id, kind), rows in values.items():
        node = tree.nodes.get(indicator_id)
        if node is None or node.children:
            continue
        scores: dict[Key, float | None] = {}
        for key, value in rows.items():
            goalpost = cycles.goalpost(key[1], indicator_id)
            scores[key] = (
                None
                if goalpost is None
                else _round(dtf_score(value, goalpost[0], goalpost[1], node.direction))
            )
        result.leaf_scores[(indicator_id, kind)] = scores
    for pk in reversed(tree.order):
        node = tree.nodes[pk]
        if node.children:
            _evaluate_parent(node, tree, cycles, regions, result)
            continue
        series: dict[Key, float] = {}
        inputs: dict[Key, float | None] = {}
        for kind in reversed(node.kinds):
            for key, score in result.leaf_scores.get((pk, kind), {}).items():
                if score is not None:
                    series[key] = score
                    inputs[key] = values[(pk, kind)][key]
        result.series[pk], result.inputs[pk] = series, inputs
    return result


def _evaluate_parent(
    node: _Node,
    tree: _Tree,
    cycles: _Cycles,
    regions: dict[int, _Region],
    result: _Evaluation,
) -> None:
    children = [tree.nodes[c] for c in node.children]
    # Only children as frequent as the parent (or more) open a period: a yearly leaf alone does
    # not create monthly composites for months whose monthly data have not arrived.
    drivers = [c for c in children if MONTHS[c.frequency] <= MONTHS[node.frequency]] or children
    candidates: dict[dt.date, set[int]] = defaultdict(set)
    for child in drivers:
        for region_id, day in result.series[child.pk]:
            for start in _affected(day, child.frequency, node.frequency):
                candidates[start].add(region_id)
    series: dict[Key, float] = {}
    inputs: dict[Key, float | None] = {}
    for start in sorted(candidates):
        vectors = {
            region_id: [_child_score(child, node, region_id, start, result) for child in children]
            for region_id in sorted(candidates[start])
        }
        if cycles.weighting(start) == Weighting.ENTROPY:
            by_depth = _entropy_by_depth(vectors, regions, len(children))
            weights = {r: by_depth[regions[r].depth] for r in vectors}
        elif cycles.weighting(start) == Weighting.EXPERT:
            weights = {r: [c.weight for c in children] for r in vectors}
        else:
            # Equal weights, but a weight-0 leaf (informational, e.g. 办结量) never counts.
            weights = {r: [1.0 if c.weight > 0 else 0.0 for c in children] for r in vectors}
        for region_id, vector in vectors.items():
            score = weighted_mean(vector, weights[region_id])
            if score is not None:
                series[(region_id, start)] = score
                inputs[(region_id, start)] = sum(s is not None for s in vector)
    result.series[node.pk], result.inputs[node.pk] = series, inputs


def _child_score(
    child: _Node, parent: _Node, region_id: int, start: dt.date, result: _Evaluation
) -> float | None:
    series = result.series[child.pk]
    if MONTHS[child.frequency] >= MONTHS[parent.frequency]:
        return series.get((region_id, Period.containing(start, child.frequency).start))
    # A finer child (monthly under a quarterly parent) counts with the mean of its periods.
    found = [
        series[(region_id, day)]
        for day in _starts_within(start, parent.frequency, child.frequency)
        if (region_id, day) in series
    ]
    return _round(sum(found) / len(found)) if found else None


def _entropy_by_depth(
    vectors: dict[int, list[float | None]], regions: dict[int, _Region], width: int
) -> dict[int, list[float]]:
    """Entropy weights per level of the region tree, from the regions of that level that have
    every child score. A level with fewer than two such regions (the city itself) borrows the
    weights of the nearest deeper level, so that the city index weighs like its districts."""
    levels: dict[int, list[int]] = defaultdict(list)
    for region_id in vectors:
        levels[regions[region_id].depth].append(region_id)
    computed: dict[int, list[float]] = {}
    for depth, members in levels.items():
        columns = [j for j in range(width) if any(vectors[r][j] is not None for r in members)]
        rows = [
            [float(vectors[r][j]) for j in columns]  # type: ignore[arg-type]
            for r in members
            if all(vectors[r][j] is not None for j in columns)
        ]
        if columns and len(rows) >= 2:
            weights = [0.0] * width
            for j, weight in zip(columns, entropy_weights(rows), strict=True):
                weights[j] = weight
            computed[depth] = weights
    result = {}
    for depth in levels:
        deeper = [d for d in sorted(computed) if d >= depth]
        result[depth] = computed[deeper[0]] if deeper else [1.0] * width
    return result


def _sibling_ranks(
    scores: Mapping[int, float], regions: dict[int, _Region]
) -> dict[int, tuple[int, int]]:
    """(rank, rank_total) of each region among the regions with the same parent; the root region
    is not ranked."""
    groups: dict[int, dict[int, float]] = defaultdict(dict)
    for region_id, score in scores.items():
        parent_id = regions[region_id].parent_id
        if parent_id is not None:
            groups[parent_id][region_id] = score
    ranks = {}
    for members in groups.values():
        for region_id, rank in competition_ranks(members).items():
            ranks[region_id] = (rank, len(members))
    return ranks


def _year_bounds(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
