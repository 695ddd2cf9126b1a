"""Automatic scoring against hand-computed results."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from sizhen.core.models import AuditEvent
from sizhen.training import services
from sizhen.training.models import Attempt, WrongAnswer
from sizhen.training.scoring import clean_response, is_correct, normalise_text, percent_of

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("kind", "answer", "response", "expected"),
    [
        ("single", ["B"], ["B"], True),
        ("single", ["B"], ["A"], False),
        ("single", ["B"], [], False),
        ("true_false", ["B"], ["B"], True),
        ("true_false", ["B"], ["A"], False),
        # Multiple choice is all or nothing: a missing or an extra letter scores zero.
        ("multiple", ["A", "C"], ["A", "C"], True),
        ("multiple", ["A", "C"], ["C", "A"], True),
        ("multiple", ["A", "C"], ["A"], False),
        ("multiple", ["A", "C"], ["A", "B", "C"], False),
        ("fill", ["一网通办", "一网通办理"], ["一网通办。"], True),
        ("fill", ["一网通办", "一网通办理"], [" 一网 通办理 "], True),
        ("fill", ["ABC"], ["ａｂｃ"], True),
        ("fill", ["一网通办"], ["一窗通办"], False),
    ],
)
def test_is_correct(kind: str, answer: list[str], response: list[str], expected: bool) -> None:
    assert is_correct(kind, answer, response) is expected


def test_clean_response_keeps_only_valid_letters() -> None:
    assert clean_response("multiple", ["c", "A", "Z", "A"], 4) == ["A", "C"]
    assert clean_response("single", ["b", "c"], 3) == ["B"]
    assert clean_response("fill", ["  答案 "], 0) == ["答案"]
    assert normalise_text("Ｏｎｅ Net。") == "onenet"
    assert percent_of(Decimal(7), Decimal(10)) == Decimal("70.0")
    assert percent_of(Decimal(2), Decimal(3)) == Decimal("66.7")


def _answer(attempt: Attempt, actor: Any, responses: dict[str, list[str]]) -> None:
    for answer in attempt.answers.all():
        values = responses.get(answer.snapshot["kind"])
        if values is not None:
            services.save_answer(attempt, actor=actor, position=answer.position, values=values)


def test_scores_as_computed_by_hand(personas: dict[str, Any], exam: Any) -> None:
    person = personas["responsible_department"]
    attempt = services.start_attempt(exam, actor=person)
    assert attempt.max_score == Decimal(10)
    assert [a.points for a in attempt.answers.order_by("position")] == [1, 2, 3, 4]
    # single right (1), multiple with an extra letter (0), true/false right (3), fill right (4).
    _answer(
        attempt,
        person,
        {"single": ["B"], "multiple": ["A", "B", "C"], "true_false": ["B"], "fill": ["一网通办"]},
    )
    services.submit_attempt(attempt, actor=person)
    attempt.refresh_from_db()
    assert attempt.status == "submitted"
    assert attempt.score == Decimal("8.00")
    assert attempt.percent == Decimal("80.0")
    assert attempt.passed is True
    wrong = WrongAnswer.objects.get(user=person)
    assert wrong.question.kind == "multiple"
    assert wrong.last_response == ["A", "B", "C"]


def test_second_attempt_fails_and_adds_every_wrong_answer(
    personas: dict[str, Any], exam: Any
) -> None:
    person = personas["responsible_department"]
    first = services.start_attempt(exam, actor=person)
    services.submit_attempt(first, actor=person)  # nothing answered: 0 of 10
    first.refresh_from_db()
    assert (first.score, first.percent, first.passed) == (Decimal("0.00"), Decimal("0.0"), False)
    assert WrongAnswer.objects.filter(user=person).count() == 4
    second = services.start_attempt(exam, actor=person)
    assert second.number == 2
    # single wrong (0), multiple right (2), true/false wrong (0), fill right (4): 6 of 10.
    _answer(
        second,
        person,
        {"single": ["A"], "multiple": ["C", "A"], "true_false": ["A"], "fill": ["一网通办理"]},
    )
    services.submit_attempt(second, actor=person)
    second.refresh_from_db()
    assert (second.score, second.percent, second.passed) == (
        Decimal("6.00"),
        Decimal("60.0"),
        True,
    )
    counts = dict(
        WrongAnswer.objects.filter(user=person).values_list("question__kind", "wrong_count")
    )
    assert counts == {"single": 2, "multiple": 1, "true_false": 2, "fill": 1}
    with pytest.raises(services.TrainingError, match="最多可考 2 次"):
        services.start_attempt(exam, actor=person)


def test_the_server_refuses_answers_after_the_deadline_and_scores_what_was_saved(
    personas: dict[str, Any], exam: Any
) -> None:
    person = personas["responsible_department"]
    attempt = services.start_attempt(exam, actor=person)
    _answer(attempt, person, {"fill": ["一网通办"]})
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - dt.timedelta(seconds=1))
    attempt.refresh_from_db()
    single = attempt.answers.get(snapshot__kind="single")
    events = AuditEvent.objects.filter(action="training.answer_save").count()
    with pytest.raises(services.TrainingError, match="考试时间已到"):
        services.save_answer(attempt, actor=person, position=single.position, values=["B"])
    assert AuditEvent.objects.filter(action="training.answer_save").count() == events
    attempt.refresh_from_db()
    single.refresh_from_db()
    assert single.response == []
    assert attempt.status == "expired"
    assert attempt.score == Decimal("4.00")
    assert attempt.finished_at == attempt.deadline


def test_the_job_expires_due_attempts(personas: dict[str, Any], exam: Any) -> None:
    person = personas["lead_department"]
    attempt = services.start_attempt(exam, actor=person)
    assert services.expire_due_attempts() == 0
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now())
    assert services.expire_due_attempts() == 1
    attempt.refresh_from_db()
    assert (attempt.status, attempt.score) == ("expired", Decimal("0.00"))


def test_wrong_answer_book_practice_until_right_twice(personas: dict[str, Any], exam: Any) -> None:
    person = personas["responsible_department"]
    attempt = services.start_attempt(exam, actor=person)
    services.submit_attempt(attempt, actor=person)
    entry = WrongAnswer.objects.get(user=person, question__kind="single")
    right, entry = services.practise(entry, actor=person, values=["B"])
    assert right is True and entry.right_streak == 1 and entry.mastered_at is None
    right, entry = services.practise(entry, actor=person, values=["C"])
    assert right is False and entry.right_streak == 0 and entry.wrong_count == 2
    services.practise(entry, actor=person, values=["B"])
    right, entry = services.practise(entry, actor=person, values=["B"])
    assert right is True and entry.right_streak == 2 and entry.mastered_at is not None
    other = personas["lead_department"]
    with pytest.raises(services.TrainingError):
        services.practise(entry, actor=other, values=["B"])
