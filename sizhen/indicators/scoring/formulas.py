"""Scoring formulas (评分公式): distance-to-frontier (前沿距离) scores, entropy weights, weighted
means, competition ranks, and the period arithmetic the scoring runs on. Pure functions; the
rules are in docs/scoring.md."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence

import numpy as np

from sizhen.core.periods import MONTHS, Period
from sizhen.indicators.catalogue.choices import Direction

# Stands in for a zero score in the entropy method so that ln(p) stays finite; far below the
# 0.01-point resolution anyone reads a score at.
ENTROPY_EPSILON = 1e-4
# Scores are rounded before they are compared or stored, so that ties are ties on every database.
PRECISION = 10


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


def _starts_within(start: dt.date, outer: str, inner: str) -> list[dt.date]:
    """Starts of the ``inner`` periods inside the ``outer`` period beginning at ``start``."""
    first = Period(start, inner)
    return [first.shift(i).start for i in range(MONTHS[outer] // MONTHS[inner])]


def _affected(day: dt.date, child: str, parent: str) -> list[dt.date]:
    """Parent periods whose span overlaps the child period starting at ``day``."""
    if MONTHS[child] <= MONTHS[parent]:
        return [Period.containing(day, parent).start]
    return _starts_within(day, child, parent)
