"""The enterprise satisfaction index (企业满意度指数, 0–100): the formula (docs/surveys.md,
"Satisfaction index") and its computation over a round's submitted responses.

1. The items are the version's rating questions and the rows of its matrix questions whose
   weight (``Question.weight``, set in the builder) is above zero; a matrix's weight is shared
   equally by its rows, so that a question weighs the same whatever its type.
2. An answer is rescaled to 0–100: a rating ``x`` on ``start…end`` gives
   ``(x − start) / (end − start) × 100``; a matrix row's choice at position ``p`` of ``k``
   choices (in the questionnaire's order, least satisfied first) gives ``p / (k − 1) × 100``.
3. A response's score is the weighted mean of its answered items (skipped items drop out and
   the weights of the rest are used as they are); an enterprise's score is the mean of its
   submitted responses' scores (one, unless the questionnaire allows more).
4. A region's index is the mean of the scores of the enterprises whose responses lie in its
   subtree; ``n`` is their number, the 95 % confidence interval is ``mean ± t(0.975, n − 1) ×
   s / √n`` (``s`` the sample standard deviation of the scores), cut to 0–100. Below the
   minimum sample (``SIZHEN_SURVEY_MIN_SAMPLE``) the region gets no value and the reason.

The overall index takes every item; the sub-index of a survey leaf of the catalogue (e.g.
BE16.02) takes the items whose question bank item (``BankItem.indicator``) informs that leaf."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from sizhen.core.numbers import rounded
from sizhen.organisations.models import Region
from sizhen.surveys.choices import QuestionType
from sizhen.surveys.models import Answer, Choice, Question, SurveyRound

#: Decimals of the stored index, its confidence interval and standard deviation.
PLACES = 2
OVERALL_LABEL = "企业满意度指数"


def minimum_sample() -> int:
    return max(2, int(settings.SIZHEN_SURVEY_MIN_SAMPLE))


def overall_indicator() -> str:
    return str(settings.SIZHEN_SURVEY_INDEX_INDICATOR)


def too_small(n: int, minimum: int) -> str:
    return f"样本量不足（n={n}，至少 {minimum}）"


@dataclass(frozen=True)
class Item:
    """One rating item: a rating question, or one row of a matrix question."""

    question_id: int
    row: str | None
    weight: float
    #: The code of the indicator its bank item informs ("" without one).
    informs: str
    #: Rating scale (start, end); a matrix row's choice positions instead.
    start: float = 0.0
    end: float = 0.0
    positions: dict[str, int] = field(default_factory=dict)

    def score(self, value: Any) -> float | None:
        """The answer rescaled to 0–100, or None when it is not an answer to this item."""
        if self.row is None:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return None
            if self.end == self.start:
                return None
            return (float(value) - self.start) / (self.end - self.start) * 100
        if not isinstance(value, dict) or self.row not in value:
            return None
        position = self.positions.get(str(value[self.row]))
        if position is None or len(self.positions) < 2:
            return None
        return position / (len(self.positions) - 1) * 100


def index_items(survey_round: SurveyRound) -> list[Item]:
    """The weighted rating items of the round's questionnaire version."""
    questions = list(
        Question.objects.filter(
            version=survey_round.form_version,
            type__in=[QuestionType.RATING, QuestionType.MATRIX],
            weight__gt=0,
        )
        .select_related("bank_item__indicator")
        .order_by("section__order", "order", "pk")
    )
    positions: dict[int, dict[str, int]] = defaultdict(dict)
    for question_id, name in (
        Choice.objects.filter(question__in=questions)
        .order_by("question_id", "order", "pk")
        .values_list("question_id", "name")
    ):
        positions[question_id][name] = len(positions[question_id])
    items: list[Item] = []
    for question in questions:
        bank = question.bank_item
        informs = bank.indicator.code if bank is not None and bank.indicator is not None else ""
        items.extend(question_items(question, positions[question.pk], informs))
    return items


def question_items(question: Question, positions: dict[str, int], informs: str = "") -> list[Item]:
    """A rating question's item, or a matrix question's items (one a row, sharing its weight);
    ``positions``: the matrix's choice names by their place in the question's order."""
    if question.type == QuestionType.RATING:
        start, end, _step = question.scale
        return [Item(question.pk, None, question.weight, informs, start, end)]
    if question.type != QuestionType.MATRIX:
        return []
    rows = [row["name"] for row in question.rows or []]
    return [
        Item(question.pk, row, question.weight / len(rows), informs, positions=positions)
        for row in rows
    ]


def enterprise_scores(survey_round: SurveyRound, items: list[Item]) -> dict[int, tuple[str, float]]:
    """Each responding enterprise's score over ``items``: enterprise id → (the region path of
    its response, the score). Enterprises that answered none of the items are left out."""
    by_question: dict[int, list[Item]] = defaultdict(list)
    for item in items:
        by_question[item.question_id].append(item)
    sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    answers = Answer.objects.filter(
        response__round=survey_round,
        response__submitted_at__isnull=False,
        question_id__in=list(by_question),
    ).values_list("response_id", "question_id", "value")
    for response_id, question_id, value in answers.iterator(chunk_size=5000):
        for item in by_question[question_id]:
            score = item.score(value)
            if score is not None:
                total = sums[response_id]
                total[0] += item.weight * score
                total[1] += item.weight
    responses = survey_round.responses.filter(
        submitted_at__isnull=False, pk__in=list(sums)
    ).values_list("pk", "enterprise_id", "region__path")
    per_enterprise: dict[int, list[float]] = defaultdict(list)
    paths: dict[int, str] = {}
    for response_id, enterprise_id, path in responses.order_by("pk"):
        weighted, weights = sums[response_id]
        if weights > 0:
            per_enterprise[enterprise_id].append(weighted / weights)
            paths.setdefault(enterprise_id, path)
    return {e: (paths[e], sum(s) / len(s)) for e, s in per_enterprise.items()}


@dataclass(frozen=True)
class Summary:
    """One region's index: n, and the value with its interval, or the reason for none."""

    n: int
    value: float | None = None
    std: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    reason: str = ""


def summarise(scores: list[float], minimum: int) -> Summary:
    """The index of a region from its enterprises' scores (step 4 of the formula)."""
    n = len(scores)
    if n < minimum:
        return Summary(n, reason=too_small(n, minimum))
    # Student's t quantile; scipy.special rather than scipy.stats, whose import takes seconds.
    from scipy.special import stdtrit

    mean = sum(scores) / n
    std = statistics.stdev(scores) if n > 1 else 0.0
    half = float(stdtrit(n - 1, 0.975)) * std / math.sqrt(n) if n > 1 else 0.0
    return Summary(
        n,
        value=rounded(mean, PLACES),
        std=rounded(std, PLACES),
        ci_low=rounded(max(0.0, mean - half), PLACES),
        ci_high=rounded(min(100.0, mean + half), PLACES),
    )


def region_summaries(
    regions: list[Region], scores: dict[int, tuple[str, float]], minimum: int
) -> dict[int, Summary]:
    """Each region's summary over the enterprises of its subtree, by region id."""
    return {
        region.pk: summarise(
            [score for path, score in scores.values() if path.startswith(region.path)], minimum
        )
        for region in regions
    }
