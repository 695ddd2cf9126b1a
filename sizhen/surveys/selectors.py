"""Reads of the surveys app: results per question over a region's subtree, response rates per
region, the enterprise's invitations, the stored satisfaction index, and the answers that may
become (or became) requests and ledger items."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from sizhen.core.access import VIEW, Actor, is_city_wide
from sizhen.organisations.models import Region
from sizhen.surveys.choices import CONSENT_QUESTION, CONSENT_YES, NUMERIC_TYPES, QuestionType
from sizhen.surveys.index import overall_indicator, question_items
from sizhen.surveys.models import (
    Answer,
    Choice,
    FollowUp,
    IndexResult,
    Invitation,
    Question,
    Questionnaire,
    Response,
    SurveyRound,
)
from sizhen.surveys.workflow import CLOSED, DRAFT, OPEN


def rounds_of(questionnaire: Questionnaire, actor: Actor) -> QuerySet[SurveyRound]:
    return (
        SurveyRound.objects.visible_to(actor, VIEW)
        .filter(questionnaire=questionnaire)
        .select_related("region", "form_version")
        .order_by("-created_at", "-pk")
    )


def results_round(questionnaire: Questionnaire, actor: Actor, round_id: int | None) -> Any:
    """The round whose results are asked for: the given one, else the latest that has opened."""
    rounds = rounds_of(questionnaire, actor)
    if round_id is not None:
        return rounds.filter(pk=round_id).first()
    return rounds.filter(status__in=[OPEN, CLOSED]).order_by("-opened_at", "-pk").first()


def region_in_scope(actor: Actor, region: Region) -> bool:
    """Whether the actor may read figures of the region's subtree (its own subtree only)."""
    if is_city_wide(actor):
        return True
    path: str = getattr(actor, "scope_path", None) or ""
    return bool(path) and region.path.startswith(path)


def default_region(actor: Actor, survey_round: SurveyRound) -> Region | None:
    """The caller's own scope within the round, or the round's region."""
    if is_city_wide(actor):
        return survey_round.region
    path = getattr(actor, "scope_path", None) or ""
    if path.startswith(survey_round.region.path):
        return Region.objects.filter(path=path).first()
    if survey_round.region.path.startswith(path):
        return survey_round.region
    return None


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 4) if values else None


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def survey_results(survey_round: SurveyRound, region: Region) -> dict[str, Any]:
    """Per question: the number of answers, the count of each choice (each matrix row's), and
    mean and median of numeric and rating answers, over the submitted responses of the
    region's subtree. Plain Python over one pass of the answers (docs/surveys.md)."""
    responses = Response.objects.filter(
        round=survey_round, submitted_at__isnull=False, region__path__startswith=region.path
    )
    questions = list(
        Question.objects.filter(version=survey_round.form_version)
        .exclude(type=QuestionType.NOTE)
        .order_by("section__order", "order", "pk")
    )
    choices: dict[int, list[Choice]] = defaultdict(list)
    for choice in Choice.objects.filter(question__in=questions).order_by("order", "pk"):
        choices[choice.question_id].append(choice)
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    row_counts: dict[int, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    numbers: dict[int, list[float]] = defaultdict(list)
    answered: Counter[int] = Counter()
    answers = Answer.objects.filter(response__in=responses.values("pk")).values_list(
        "question_id", "value", "number"
    )
    for question_id, value, number in answers.iterator(chunk_size=5000):
        answered[question_id] += 1
        if number is not None:
            numbers[question_id].append(number)
        if isinstance(value, list):
            counts[question_id].update(str(v) for v in value)
        elif isinstance(value, dict):
            for row, choice in value.items():
                row_counts[question_id][row][str(choice)] += 1
        elif isinstance(value, str):
            counts[question_id][value] += 1
    items = []
    for question in questions:
        item: dict[str, Any] = {
            "name": question.name,
            "label": question.label,
            "type": question.type,
            "n": answered[question.pk],
        }
        options = choices.get(question.pk, [])
        if question.type in (QuestionType.SINGLE, QuestionType.MULTIPLE):
            item["counts"] = [
                {"name": c.name, "label": c.label, "count": counts[question.pk][c.name]}
                for c in options
            ]
        if question.type == QuestionType.MATRIX:
            item["rows"] = [
                {
                    "name": row["name"],
                    "label": row.get("label", row["name"]),
                    "n": sum(row_counts[question.pk][row["name"]].values()),
                    "counts": [
                        {
                            "name": c.name,
                            "label": c.label,
                            "count": row_counts[question.pk][row["name"]][c.name],
                        }
                        for c in options
                    ],
                }
                for row in question.rows or []
            ]
        if question.type in NUMERIC_TYPES:
            item["mean"] = _mean(numbers[question.pk])
            item["median"] = _median(numbers[question.pk])
        items.append(item)
    return {
        "round": survey_round.pk,
        "round_title": survey_round.title,
        "region": region.code,
        "region_name": region.name,
        "responses": responses.count(),
        "questions": items,
    }


def response_rates(survey_round: SurveyRound, actor: Actor) -> dict[str, Any]:
    """Invitations and submitted answers per region directly below the round's region (or the
    caller's own region, for a district officer), with the total: live, one grouped query."""
    top = default_region(actor, survey_round) or survey_round.region
    children = list(
        Region.objects.filter(parent=top, is_active=True).order_by("sort_order", "code")
    )
    invitations = (
        Invitation.objects.visible_to(actor, VIEW)
        .filter(round=survey_round, enterprise__region__path__startswith=top.path)
        .values("enterprise__region__path")
        .annotate(
            invited=Count("pk"),
            answered=Count("pk", filter=Q(answered_at__isnull=False)),
            panel=Count("pk", filter=Q(panel=True)),
        )
    )
    submitted = (
        Response.objects.visible_to(actor, VIEW)
        .filter(round=survey_round, submitted_at__isnull=False, region__path__startswith=top.path)
        .values("region__path")
        .annotate(n=Count("pk"))
    )

    def bucket(path: str) -> Region | None:
        for child in children:
            if path.startswith(child.path):
                return child
        return None

    rows: dict[Any, dict[str, Any]] = {}

    def row_for(region: Region | None) -> dict[str, Any]:
        key = region.pk if region else None
        if key not in rows:
            rows[key] = {
                "region": region,
                "label": region.name if region else f"{top.name}（本级）",
                "invited": 0,
                "answered": 0,
                "panel": 0,
                "responses": 0,
            }
        return rows[key]

    for child in children:
        row_for(child)
    for entry in invitations:
        row = row_for(bucket(entry["enterprise__region__path"]))
        for field in ("invited", "answered", "panel"):
            row[field] += entry[field]
    for count in submitted:
        row_for(bucket(count["region__path"]))["responses"] += count["n"]
    ordered = [rows[c.pk] for c in children] + ([rows[None]] if None in rows else [])
    total = {
        "label": "合计",
        **{f: sum(r[f] for r in ordered) for f in ("invited", "answered", "panel", "responses")},
    }
    for row in [*ordered, total]:
        row["rate"] = round(row["answered"] * 100 / row["invited"], 1) if row["invited"] else None
    return {"top": top, "rows": ordered, "total": total}


def enterprise_invitations(actor: Actor) -> QuerySet[Invitation]:
    """The enterprise's invitations to rounds that have opened (问卷 menu)."""
    return (
        Invitation.objects.visible_to(actor, VIEW)
        .exclude(round__status=DRAFT)
        .select_related("round__questionnaire", "round__form_version")
        .order_by("answered_at", "-round__deadline", "-pk")
    )


# --- the satisfaction index ------------------------------------------------------------------


@dataclass
class IndexTable:
    """One index of a round (the overall one, or a leaf's) with a row per visible region."""

    code: str
    label: str
    period: Any
    rows: list[IndexResult]


def index_tables(survey_round: SurveyRound, actor: Actor) -> list[IndexTable]:
    """The round's stored index per region, the overall index first, for the regions the actor
    may read (its subtree; the city-wide roles every region)."""
    rows = list(
        IndexResult.objects.visible_to(actor, VIEW)
        .filter(round=survey_round)
        .select_related("region")
        .order_by("region__path")
    )
    overall = overall_indicator()
    tables: dict[str, IndexTable] = {}
    for row in rows:
        table = tables.setdefault(
            row.indicator_code, IndexTable(row.indicator_code, row.label, row.period, [])
        )
        table.rows.append(row)
    return sorted(tables.values(), key=lambda t: (t.code != overall, t.code))


def index_basis(indicator_code: str, region: Region, actor: Actor) -> IndexResult | None:
    """For a survey leaf's page: the index of the region in the latest period a round published
    to, the one behind the value (another round of the period may have published it), else the
    latest round's reason for none (a sample below the minimum)."""
    rows = (
        IndexResult.objects.visible_to(actor, VIEW)
        .filter(indicator_code=indicator_code, region=region)
        .select_related("round")
        .order_by("-period", "-computed_at", "-pk")
    )
    latest = rows.first()
    if latest is None:
        return None
    return rows.filter(period=latest.period, published=True).first() or latest


# --- answers that become work --------------------------------------------------------------


def follow_ups_of(response: Response, actor: Actor) -> list[FollowUp]:
    return list(
        FollowUp.objects.visible_to(actor, VIEW)
        .filter(response=response)
        .select_related("answer__question")
        .order_by("created_at", "pk")
    )


def follow_up_source(kind: str, target_id: int, actor: Actor) -> FollowUp | None:
    """The survey answer a request or a ledger item came from, when the actor may read the
    response (an enterprise its own; the staff by region), else None."""
    follow_up = (
        FollowUp.objects.filter(kind=kind, target_id=target_id)
        .select_related("response__round", "answer__question")
        .first()
    )
    if follow_up is None:
        return None
    visible = Response.objects.visible_to(actor, VIEW).filter(pk=follow_up.response_id)
    return follow_up if visible.exists() else None


#: A rating or matrix answer below this score (0–100, as the satisfaction index rescales it)
#: is dissatisfied: 1–2 on a 1–5 scale, 1–5 on a 1–10 scale.
DISSATISFIED_BELOW = 50.0


def problem_of(question: Question, value: Any, choice_names: list[str] | None = None) -> str:
    """Why an answer may be followed up ("不满意评分", "文字意见"), or "" when it may not; a
    rating or a matrix row is scored as the satisfaction index scores it."""
    if question.type == QuestionType.TEXT:
        return "文字意见" if isinstance(value, str) and value.strip() else ""
    if question.type not in (QuestionType.RATING, QuestionType.MATRIX):
        return ""
    names = choice_names
    if names is None:
        names = list(question.choices.order_by("order", "pk").values_list("name", flat=True))
    items = question_items(question, {name: place for place, name in enumerate(names)})
    scores = [item.score(value) for item in items]
    if any(score is not None and score < DISSATISFIED_BELOW for score in scores):
        return "不满意评分"
    return ""


def has_consent(response: Response) -> bool:
    """Whether the enterprise agreed, in this response, to its problems being handled as
    requests (its answer to the questionnaire's ``consent`` question)."""
    value = (
        Answer.objects.filter(response=response, question__name=CONSENT_QUESTION)
        .values_list("value", flat=True)
        .first()
    )
    return str(value).strip().lower() in CONSENT_YES if value is not None else False


def problem_answers(response: Response) -> dict[int, str]:
    """The response's answers that may be turned into work, by answer id, with why: a
    dissatisfied rating or matrix row, or a written problem."""
    answers = list(
        response.answers.select_related("question").filter(
            question__type__in=[QuestionType.RATING, QuestionType.MATRIX, QuestionType.TEXT]
        )
    )
    names: dict[int, list[str]] = defaultdict(list)
    for question_id, name in (
        Choice.objects.filter(question__in={a.question_id for a in answers})
        .order_by("question_id", "order", "pk")
        .values_list("question_id", "name")
    ):
        names[question_id].append(name)
    problems = {}
    for answer in answers:
        problem = problem_of(answer.question, answer.value, names[answer.question_id])
        if problem:
            problems[answer.pk] = problem
    return problems
