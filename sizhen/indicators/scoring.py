"""Scoring (评分): distance-to-frontier (前沿距离) scores of the leaves with the evaluation
cycle's goalposts, parent scores as weighted means up the indicator tree, the overall index
(综合指数), and each region's rank among its siblings; plus simulated evaluation (仿真评价), which
recomputes the same in memory with what-if values and writes nothing.

Stored scores are never inputs: every run recomputes the whole calendar year of each requested
period in memory from values and goalposts, then writes only the requested scope, so the result
does not depend on which periods were scored before. The rules are in docs/scoring.md."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from sizhen.indicators.choices import Direction, SourceKind, Weighting
from sizhen.indicators.models import EvaluationCycle, Goalpost, Indicator, IndicatorValue
from sizhen.organisations.models import Region

MONTHS = {"month": 1, "quarter": 3, "year": 12}
# Which value of a leaf feeds its parent when several source kinds exist: the kind the catalogue
# declares first, then system-computed data before imported, filled-in and survey data.
LEAF_KIND_PREFERENCE = (
    SourceKind.RECORDS,
    SourceKind.AGGREGATE,
    SourceKind.FILLING,
    SourceKind.SURVEY,
)
# Stands in for a zero score in the entropy method so that ln(p) stays finite; far below the
# 0.01-point resolution anyone reads a score at.
ENTROPY_EPSILON = 1e-4
# Scores are rounded before they are compared or stored, so that ties are ties on every database.
PRECISION = 10

Key = tuple[int, dt.date]  # (region id, period)


# ---------------------------------------------------------------------------------------------
# Formulas


def dtf_score(value: float | None, best: float, worst: float, direction: str) -> float | None:
    """Distance to frontier on 0–100: 100 at or beyond the best value, 0 at or beyond the worst."""
    if value is None or math.isnan(value) or best == worst:
        return None
    if direction == Direction.LOWER_IS_BETTER:
        score = 100 * (worst - value) / (worst - best)
    elif direction == Direction.HIGHER_IS_BETTER:
        score = 100 * (value - worst) / (best - worst)
    else:
        raise ValueError(f"未知的指标方向：{direction}")
    return min(100.0, max(0.0, score))


def entropy_weights(matrix: Sequence[Sequence[float]]) -> list[float]:
    """Entropy weight method (熵权法) over already normalised 0–100 scores; rows are regions,
    columns indicators. Equal weights when there are fewer than two rows or no column varies."""
    columns = len(matrix[0]) if len(matrix) else 0
    if columns == 0:
        return []
    rows = len(matrix)
    if rows < 2:
        return [1 / columns] * columns
    x = np.maximum(np.asarray(matrix, dtype=float), ENTROPY_EPSILON)
    p = x / x.sum(axis=0)
    entropy = -(p * np.log(p)).sum(axis=0) / math.log(rows)
    divergence = np.clip(1 - entropy, 0.0, None)
    total = float(divergence.sum())
    # Rounding noise makes a constant column come out at 1e-16 instead of 0.
    if total <= 1e-12:
        return [1 / columns] * columns
    return [float(d) / total for d in divergence]


def weighted_mean(scores: Sequence[float | None], weights: Sequence[float]) -> float | None:
    """Mean of the scores present, with their weights renormalised over those present."""
    pairs = [(s, max(w, 0.0)) for s, w in zip(scores, weights, strict=True) if s is not None]
    if not pairs:
        return None
    total = sum(w for _, w in pairs)
    if total <= 0:
        pairs = [(s, 1.0) for s, _ in pairs]
        total = len(pairs)
    return _round(sum(s * w for s, w in pairs) / total)


def _round(score: float | None) -> float | None:
    return None if score is None else round(score, PRECISION) + 0.0


def competition_ranks(scores: Mapping[int, float]) -> dict[int, int]:
    """Rank 1 for the highest score; ties share the lower number (1, 2, 2, 4)."""
    ordered = sorted(scores.values(), reverse=True)
    first: dict[float, int] = {}
    for position, score in enumerate(ordered, start=1):
        first.setdefault(score, position)
    return {key: first[score] for key, score in scores.items()}


# ---------------------------------------------------------------------------------------------
# Periods


def period_start(day: dt.date, frequency: str) -> dt.date:
    months = MONTHS[frequency]
    return dt.date(day.year, (day.month - 1) // months * months + 1, 1)


def _is_start(day: dt.date, frequency: str) -> bool:
    return day.day == 1 and (day.month - 1) % MONTHS[frequency] == 0


def _starts_within(start: dt.date, outer: str, inner: str) -> list[dt.date]:
    """Starts of the ``inner`` periods inside the ``outer`` period beginning at ``start``."""
    step = MONTHS[inner]
    return [
        dt.date(start.year, start.month + offset, 1) for offset in range(0, MONTHS[outer], step)
    ]


def _affected(day: dt.date, child: str, parent: str) -> list[dt.date]:
    """Parent periods whose span overlaps the child period starting at ``day``."""
    if MONTHS[child] <= MONTHS[parent]:
        return [period_start(day, parent)]
    return _starts_within(day, child, parent)


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
        return series.get((region_id, period_start(start, child.frequency)))
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


# ---------------------------------------------------------------------------------------------
# Scoring stored values


@dataclass
class ScoringReport:
    leaf_rows: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@transaction.atomic
def score_periods(
    periods: Iterable[dt.date], *, cycle: EvaluationCycle | None = None
) -> ScoringReport:
    """Score every value whose period is in ``periods`` (first days), write the composites of
    the parents (``source_kind`` composite) for every parent period those values feed, and rank
    all of them among sibling regions. Recomputing gives identical rows."""
    days = {d.date() if isinstance(d, dt.datetime) else d for d in periods}
    report = ScoringReport()
    if not days:
        return report
    tree = _load_tree()
    cycles = _Cycles(cycle)
    regions = _load_regions()
    for year in sorted({d.year for d in days}):
        _score_year(year, {d for d in days if d.year == year}, tree, cycles, regions, report)
    return report


def _score_year(
    year: int,
    days: set[dt.date],
    tree: _Tree,
    cycles: _Cycles,
    regions: dict[int, _Region],
    report: ScoringReport,
) -> None:
    first, after = _year_bounds(year)
    rows = list(
        IndicatorValue.objects.filter(
            indicator_id__in=list(tree.nodes), period__gte=first, period__lt=after
        ).only(
            "pk",
            "indicator_id",
            "region_id",
            "period",
            "source_kind",
            "frequency",
            "value",
            "observations",
            "score",
            "rank",
            "rank_total",
        )
    )
    leaves = [r for r in rows if not tree.nodes[r.indicator_id].children]
    leaves = [r for r in leaves if r.source_kind != SourceKind.COMPOSITE]
    values: LeafValues = defaultdict(dict)
    for row in leaves:
        values[(row.indicator_id, row.source_kind)][(row.region_id, row.period)] = row.value
    evaluation = _evaluate(tree, cycles, regions, values)

    report.leaf_rows += _write_leaf_scores(leaves, days, evaluation, regions)
    existing = {
        (r.indicator_id, r.region_id, r.period): r
        for r in rows
        if r.source_kind == SourceKind.COMPOSITE and tree.nodes[r.indicator_id].children
    }
    _write_composites(existing, _scope(tree, days), tree, evaluation, regions, report)


def _write_leaf_scores(
    leaves: list[IndicatorValue],
    days: set[dt.date],
    evaluation: _Evaluation,
    regions: dict[int, _Region],
) -> int:
    groups: dict[tuple[int, str, dt.date], dict[int, float]] = defaultdict(dict)
    for (indicator_id, kind), scores in evaluation.leaf_scores.items():
        for (region_id, day), score in scores.items():
            if day in days and score is not None:
                groups[(indicator_id, kind, day)][region_id] = score
    ranks = {group: _sibling_ranks(scores, regions) for group, scores in groups.items()}
    in_scope = [row for row in leaves if row.period in days]
    changed = []
    for row in in_scope:
        score = evaluation.leaf_scores[(row.indicator_id, row.source_kind)][
            (row.region_id, row.period)
        ]
        group = (row.indicator_id, row.source_kind, row.period)
        rank, total = ranks.get(group, {}).get(row.region_id, (None, None))
        if (row.score, row.rank, row.rank_total) != (score, rank, total):
            row.score, row.rank, row.rank_total = score, rank, total
            changed.append(row)
    IndicatorValue.objects.bulk_update(changed, ["score", "rank", "rank_total"], batch_size=2000)
    return len(in_scope)


def _write_composites(
    existing: dict[tuple[int, int, dt.date], IndicatorValue],
    scope: dict[int, set[dt.date]],
    tree: _Tree,
    evaluation: _Evaluation,
    regions: dict[int, _Region],
    report: ScoringReport,
) -> None:
    """Create, update or delete the composite rows of each parent in its scope periods; rows
    whose fields did not change are left alone, so a recompute changes nothing."""
    now = timezone.now()
    to_create, to_update, seen = [], [], set()
    for pk, starts in scope.items():
        by_period: dict[dt.date, dict[int, float]] = defaultdict(dict)
        for (region_id, day), score in evaluation.series[pk].items():
            if day in starts:
                by_period[day][region_id] = score
        for day, scores in by_period.items():
            ranks = _sibling_ranks(scores, regions)
            for region_id, score in scores.items():
                key = (pk, region_id, day)
                seen.add(key)
                rank, total = ranks.get(region_id, (None, None))
                fields = {
                    "value": score,
                    "score": score,
                    "rank": rank,
                    "rank_total": total,
                    "frequency": tree.nodes[pk].frequency,
                    "observations": int(evaluation.inputs[pk][(region_id, day)] or 0),
                }
                current = existing.get(key)
                if current is None:
                    to_create.append(
                        IndicatorValue(
                            indicator_id=pk,
                            region_id=region_id,
                            period=day,
                            source_kind=SourceKind.COMPOSITE,
                            computed_at=now,
                            **fields,
                        )
                    )
                elif any(getattr(current, k) != v for k, v in fields.items()):
                    for k, v in fields.items():
                        setattr(current, k, v)
                    current.computed_at = now
                    to_update.append(current)
    stale = [
        row.pk
        for key, row in existing.items()
        if key[0] in scope and key[2] in scope[key[0]] and key not in seen
    ]
    if stale:
        report.deleted += IndicatorValue.objects.filter(pk__in=stale).delete()[0]
    IndicatorValue.objects.bulk_create(to_create, batch_size=2000)
    IndicatorValue.objects.bulk_update(
        to_update,
        ["value", "score", "rank", "rank_total", "frequency", "observations", "computed_at"],
        batch_size=2000,
    )
    report.created += len(to_create)
    report.updated += len(to_update)


def _scope(tree: _Tree, days: set[dt.date]) -> dict[int, set[dt.date]]:
    """For each parent, the periods whose composite may change when values in ``days`` change:
    the requested days that start one of its periods, and every period overlapping a changed
    period of a child."""
    changed: dict[int, set[dt.date]] = {}
    scope: dict[int, set[dt.date]] = {}
    for pk in reversed(tree.order):
        node = tree.nodes[pk]
        own = {d for d in days if _is_start(d, node.frequency)}
        for child_pk in node.children:
            child = tree.nodes[child_pk]
            for day in changed[child_pk]:
                own.update(_affected(day, child.frequency, node.frequency))
        changed[pk] = own
        if node.children:
            scope[pk] = own
    return scope


# ---------------------------------------------------------------------------------------------
# Simulated evaluation (仿真评价)


def simulate(
    region: Region,
    period: dt.date,
    what_if: Mapping[str, float],
    *,
    cycle: EvaluationCycle | None = None,
) -> dict[str, Any]:
    """Scores and sibling ranks of ``region`` for the period containing ``period`` if the leaves
    in ``what_if`` (code -> value) had those values, beside the scores from the stored values.
    Reads only; nothing is written. Ancestor regions keep their stored values (their roll-ups
    would need the records)."""
    tree = _load_tree()
    nodes = tree.by_code
    wrong = sorted(code for code in what_if if code not in nodes or nodes[code].children)
    if wrong:
        raise ValueError(f"只能模拟启用的末级指标，以下编码无效：{'、'.join(wrong)}")
    for code, number in what_if.items():
        if not isinstance(number, int | float) or not math.isfinite(number):
            raise ValueError(f"指标 {code} 的模拟值必须是有限的数字")
    cycles = _Cycles(cycle)
    regions = _load_regions()
    first, after = _year_bounds(period.year)
    values: LeafValues = defaultdict(dict)
    for indicator_id, region_id, day, kind, value in (
        IndicatorValue.objects.filter(
            indicator_id__in=[pk for pk, n in tree.nodes.items() if not n.children],
            period__gte=first,
            period__lt=after,
        )
        .exclude(source_kind=SourceKind.COMPOSITE)
        .values_list("indicator_id", "region_id", "period", "source_kind", "value")
    ):
        values[(indicator_id, kind)][(region_id, day)] = value
    baseline = _evaluate(tree, cycles, regions, values)
    changed: LeafValues = defaultdict(dict, {k: dict(v) for k, v in values.items()})
    for code, number in what_if.items():
        node = nodes[code]
        day = period_start(period, node.frequency)
        changed[(node.pk, node.kinds[0])][(region.pk, day)] = float(number)
    simulated = _evaluate(tree, cycles, regions, changed)

    indicators: dict[str, dict[str, Any]] = {}
    for pk in tree.order:
        node = tree.nodes[pk]
        day = period_start(period, node.frequency)
        entry: dict[str, Any] = {"period": day}
        for label, evaluation in (("baseline_", baseline), ("", simulated)):
            scores = {r: s for (r, d), s in evaluation.series[pk].items() if d == day}
            rank, total = _sibling_ranks(scores, regions).get(region.pk, (None, None))
            score = scores.get(region.pk)
            shown = evaluation.inputs[pk].get((region.pk, day)) if not node.children else score
            entry.update(
                {
                    f"{label}value": shown,
                    f"{label}score": score,
                    f"{label}rank": rank,
                    f"{label}rank_total": total,
                }
            )
        indicators[node.code] = entry
    return {
        "region": region.code,
        "period": period,
        "overall": tree.nodes[tree.roots[0]].code if tree.roots else None,
        "what_if": dict(what_if),
        "indicators": indicators,
    }
