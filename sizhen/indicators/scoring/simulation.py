"""Simulated evaluation (仿真评价): recomputes the scores in memory with what-if values and
writes nothing."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sizhen.core.periods import Period
from sizhen.indicators.catalogue.choices import SourceKind
from sizhen.indicators.catalogue.models import EvaluationCycle, IndicatorValue
from sizhen.indicators.scoring.evaluation import (
    LeafValues,
    _Cycles,
    _evaluate,
    _load_regions,
    _load_tree,
    _sibling_ranks,
    _year_bounds,
)
from sizhen.organisations.models import Region

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
        day = Period.containing(period, node.frequency).start
        changed[(node.pk, node.kinds[0])][(region.pk, day)] = float(number)
    simulated = _evaluate(tree, cycles, regions, changed)

    indicators: dict[str, dict[str, Any]] = {}
    for pk in tree.order:
        node = tree.nodes[pk]
        day = Period.containing(period, node.frequency).start
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
