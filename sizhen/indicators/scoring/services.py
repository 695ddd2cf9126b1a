"""Scoring (评分): distance-to-frontier (前沿距离) scores of the leaves with the evaluation
cycle's goalposts, parent scores as weighted means up the indicator tree, the overall index
(综合指数), and each region's rank among its siblings, written to the stored values. Simulated
evaluation (仿真评价), which recomputes the same in memory and writes nothing, is in
``simulation``; the computation both run is in ``evaluation``, the formulas in ``formulas``.

Stored scores are never inputs: every run recomputes the whole calendar year of each requested
period in memory from values and goalposts, then writes only the requested scope, so the result
does not depend on which periods were scored before. The rules are in docs/scoring.md."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from sizhen.core.periods import Period
from sizhen.core.sql import insert_rows, update_rows
from sizhen.indicators.catalogue.changes import values_changed
from sizhen.indicators.catalogue.choices import SourceKind
from sizhen.indicators.catalogue.models import EvaluationCycle, Indicator, IndicatorValue
from sizhen.indicators.scoring.evaluation import (
    LeafValues,
    _Cycles,
    _evaluate,
    _Evaluation,
    _load_regions,
    _load_tree,
    _Region,
    _sibling_ranks,
    _Tree,
    _year_bounds,
)
from sizhen.indicators.scoring.formulas import _affected, _round, dtf_score

# ---------------------------------------------------------------------------------------------
# Scoring values that belong to no region


def score_outside_values(
    indicator: Indicator, period: dt.date, values: Mapping[str, float | None]
) -> dict[str, float | None]:
    """Scores of values that are not a region's stored value (a benchmark city's, 标杆城市),
    on the scale the regions are scored on: the goalposts of the cycle that applies to
    ``period``. None where the indicator has no goalposts there."""
    goalpost = _Cycles().goalpost(period, indicator.pk)
    return {
        key: None
        if goalpost is None or value is None
        else _round(dtf_score(value, goalpost[0], goalpost[1], indicator.direction))
        for key, value in values.items()
    }


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


@dataclass(slots=True)
class _Row:
    """A stored value as scoring reads and rewrites it. A plain row rather than a model
    instance: a year holds tens of thousands of values, and building deferred-field instances
    was a fifth of a first recompute; ``update_rows`` writes these by ``pk`` and attname."""

    pk: int
    indicator_id: int
    region_id: int
    period: dt.date
    source_kind: str
    frequency: str
    value: float | None
    observations: int
    score: float | None
    rank: int | None
    rank_total: int | None
    computed_at: dt.datetime | None = None


_ROW_FIELDS = (
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


def _score_year(
    year: int,
    days: set[dt.date],
    tree: _Tree,
    cycles: _Cycles,
    regions: dict[int, _Region],
    report: ScoringReport,
) -> None:
    first, after = _year_bounds(year)
    rows = [
        _Row(*fields)
        for fields in IndicatorValue.objects.filter(
            indicator_id__in=list(tree.nodes), period__gte=first, period__lt=after
        ).values_list(*_ROW_FIELDS)
    ]
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
    leaves: list[_Row],
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
    update_rows(IndicatorValue, changed, ["score", "rank", "rank_total"])
    return len(in_scope)


def _write_composites(
    existing: dict[tuple[int, int, dt.date], _Row],
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
                        {
                            "indicator_id": pk,
                            "region_id": region_id,
                            "period": day,
                            "source_kind": SourceKind.COMPOSITE,
                            "computed_at": now,
                            **fields,
                        }
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
    if stale or to_create or to_update:
        values_changed()
    insert_rows(IndicatorValue, to_create)
    update_rows(
        IndicatorValue,
        to_update,
        ["value", "score", "rank", "rank_total", "frequency", "observations", "computed_at"],
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
        own = {d for d in days if Period.containing(d, node.frequency).start == d}
        for child_pk in node.children:
            child = tree.nodes[child_pk]
            for day in changed[child_pk]:
                own.update(_affected(day, child.frequency, node.frequency))
        changed[pk] = own
        if node.children:
            scope[pk] = own
    return scope
