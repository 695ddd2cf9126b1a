"""Reads of the surveys app: results per question over a region's subtree, response rates per
region, and the enterprise's invitations."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from typing import Any

from django.db.models import Count, Q, QuerySet

from sizhen.core.access import VIEW, Actor, is_city_wide
from sizhen.organisations.models import Region
from sizhen.surveys.choices import NUMERIC_TYPES, QuestionType
from sizhen.surveys.models import (
    Answer,
    Choice,
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
