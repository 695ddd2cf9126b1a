"""Drawing an exam's questions from the bank by its rules (抽题规则).

A rule is ``{"count": n, "points": p}`` with any of ``tag``, ``indicator`` (a code: the
indicator or any indicator below it), ``difficulty`` and ``kind``. Rules draw in order, and a
question drawn by an earlier rule is not drawn again. The draw of an attempt is seeded with the
exam, the person and the attempt's number, so it is reproducible (tests, disputes)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from django.db.models import Q, QuerySet

from sizhen.indicators.catalogue.models import Indicator
from sizhen.training.choices import Difficulty, QuestionKind
from sizhen.training.models import Question

RULE_KEYS = ("count", "points", "tag", "indicator", "difficulty", "kind")


def rule_queryset(rule: dict[str, Any]) -> QuerySet[Question]:
    qs = Question.objects.filter(is_active=True)
    if rule.get("tag"):
        qs = qs.filter(tags__contains=f"，{rule['tag']}，")
    if rule.get("indicator"):
        indicator = Indicator.objects.filter(code=rule["indicator"]).first()
        if indicator is None:
            return qs.none()
        qs = qs.filter(Q(indicator=indicator) | Q(indicator__parent=indicator))
    if rule.get("difficulty"):
        qs = qs.filter(difficulty=rule["difficulty"])
    if rule.get("kind"):
        qs = qs.filter(kind=rule["kind"])
    return qs


def rule_label(rule: dict[str, Any]) -> str:
    parts = []
    if rule.get("indicator"):
        parts.append(f"指标 {rule['indicator']}")
    if rule.get("tag"):
        parts.append(f"标签“{rule['tag']}”")
    if rule.get("difficulty"):
        parts.append(Difficulty(rule["difficulty"]).label)
    if rule.get("kind"):
        parts.append(QuestionKind(rule["kind"]).label)
    scope = "、".join(parts) or "全部题目"
    return f"{scope}：{rule.get('count', 0)} 题，每题 {rule.get('points', 1)} 分"


def validate_rules(rules: Sequence[dict[str, Any]]) -> list[str]:
    """Why the rules are malformed (Chinese), empty when they are well formed."""
    problems = []
    for number, rule in enumerate(rules, start=1):
        count, points = rule.get("count"), rule.get("points")
        if not isinstance(count, int) or not 1 <= count <= 200:
            problems.append(f"第 {number} 条规则的题数应为 1–200")
        if not isinstance(points, int) or not 1 <= points <= 100:
            problems.append(f"第 {number} 条规则的每题分值应为 1–100")
        if rule.get("difficulty") and rule["difficulty"] not in Difficulty.values:
            problems.append(f"第 {number} 条规则的难度无效")
        if rule.get("kind") and rule["kind"] not in QuestionKind.values:
            problems.append(f"第 {number} 条规则的题型无效")
    return problems


def rule_shortfalls(rules: Sequence[dict[str, Any]]) -> list[str]:
    """Rules the bank cannot fill (fewer matching questions than asked, after the earlier
    rules took theirs), in Chinese."""
    taken: set[int] = set()
    shortfalls = []
    for rule in rules:
        ids = [pk for pk in rule_queryset(rule).values_list("pk", flat=True) if pk not in taken]
        count = int(rule.get("count", 0))
        if len(ids) < count:
            shortfalls.append(f"{rule_label(rule)}（题库中只有 {len(ids)} 题）")
        taken.update(ids[:count])
    return shortfalls


def draw(rules: Sequence[dict[str, Any]], seed: str) -> list[tuple[Question, int]]:
    """The questions of one attempt with their points, in the order of the rules."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible draw, not a secret
    taken: set[int] = set()
    drawn: list[tuple[int, int]] = []
    for rule in rules:
        pool = [pk for pk in rule_queryset(rule).order_by("pk").values_list("pk", flat=True)]
        pool = [pk for pk in pool if pk not in taken]
        count = min(int(rule.get("count", 0)), len(pool))
        for pk in rng.sample(pool, count):
            taken.add(pk)
            drawn.append((pk, int(rule.get("points", 1))))
    questions = Question.objects.select_related("indicator").in_bulk([pk for pk, _ in drawn])
    return [(questions[pk], points) for pk, points in drawn]


def snapshot_of(question: Question) -> dict[str, Any]:
    return {
        "kind": question.kind,
        "stem": question.stem,
        "options": list(question.options),
        "answer": list(question.answer),
        "explanation": question.explanation,
        "indicator": question.indicator.code if question.indicator else "",
        "indicator_name": question.indicator.name if question.indicator else "",
    }


__all__ = ["RULE_KEYS", "draw", "rule_label", "rule_queryset", "rule_shortfalls", "snapshot_of"]
