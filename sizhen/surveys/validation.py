"""Answers checked against a questionnaire version: types, choices (after choice filters),
required questions, validation (``constraint``) and skip logic (``relevant``), one function
for every channel (pages, one-time links, the API).

``form_of(version)`` reads the version once into plain tuples; ``check_answers(form, answers,
strict=...)`` returns the cleaned values, the questions that are relevant, and every error as
``AnswerError(question, code, message)`` (docs/surveys.md, "Answers")."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sizhen.surveys.choices import AnswerErrorCode as Code
from sizhen.surveys.choices import QuestionType as T
from sizhen.surveys.expressions import ExpressionError, as_text, check, evaluate

MAX_TEXT = 2000
#: Integers and decimals stay below this magnitude (a float holds them exactly, a database
#: column takes them everywhere).
MAX_MAGNITUDE = 10**15
_INTEGER = re.compile(r"^[+-]?\d{1,16}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class ChoiceSpec:
    name: str
    label: str
    filters: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QuestionSpec:
    pk: int
    name: str
    type: str
    label: str
    hint: str
    required: bool
    #: The section's and the question's own conditions, all of which must hold.
    relevant: tuple[str, ...]
    constraint: str
    constraint_message: str
    choice_filter: str
    choices: tuple[ChoiceSpec, ...]
    rows: tuple[ChoiceSpec, ...]
    scale: tuple[int, int, int]
    section: int

    @property
    def answerable(self) -> bool:
        return self.type != T.NOTE


@dataclass(frozen=True)
class SectionSpec:
    name: str
    label: str
    questions: tuple[str, ...]


@dataclass(frozen=True)
class FormSpec:
    version_id: int
    questions: tuple[QuestionSpec, ...]
    sections: tuple[SectionSpec, ...]

    @property
    def by_name(self) -> dict[str, QuestionSpec]:
        return {q.name: q for q in self.questions}


@dataclass(frozen=True)
class AnswerError:
    question: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        # ``field`` is the shape of every 422 of the API (docs/api.md, "Errors").
        return {
            "field": self.question,
            "question": self.question,
            "code": self.code,
            "message": self.message,
        }


@dataclass
class CheckResult:
    values: dict[str, Any]
    errors: list[AnswerError]
    relevant: set[str]
    #: The choices each relevant choice question offers now (after its choice filter).
    offered: dict[str, tuple[ChoiceSpec, ...]]

    @property
    def ok(self) -> bool:
        return not self.errors


def form_of(version: Any) -> FormSpec:
    """The version's questions, sections and choices as plain values (three queries)."""
    from sizhen.surveys.models import Choice, Question, Section

    sections = list(Section.objects.filter(version=version).order_by("order", "pk"))
    index = {s.pk: i for i, s in enumerate(sections)}
    choices: dict[int, list[ChoiceSpec]] = {}
    for c in Choice.objects.filter(question__version=version).order_by("order", "pk"):
        choices.setdefault(c.question_id, []).append(ChoiceSpec(c.name, c.label, c.filters or {}))
    questions: list[QuestionSpec] = []
    members: dict[int, list[str]] = {}
    ordered = Question.objects.filter(version=version).order_by("section__order", "order", "pk")
    for q in ordered:
        section = sections[index[q.section_id]]
        relevant = tuple(text for text in (section.relevant, q.relevant) if text.strip())
        questions.append(
            QuestionSpec(
                pk=q.pk,
                name=q.name,
                type=q.type,
                label=q.label,
                hint=q.hint,
                required=q.required,
                relevant=relevant,
                constraint=q.constraint,
                constraint_message=q.constraint_message,
                choice_filter=q.choice_filter,
                choices=tuple(choices.get(q.pk, ())),
                rows=tuple(ChoiceSpec(r["name"], r.get("label", r["name"])) for r in q.rows or []),
                scale=q.scale,
                section=index[q.section_id],
            )
        )
        members.setdefault(q.section_id, []).append(q.name)
    return FormSpec(
        version_id=version.pk,
        questions=tuple(questions),
        sections=tuple(
            SectionSpec(s.name, s.label, tuple(members.get(s.pk, ()))) for s in sections
        ),
    )


# --- coercion ----------------------------------------------------------------------------------


class _Invalid(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


def _is_empty(raw: Any) -> bool:
    return raw is None or raw == "" or raw == [] or raw == {}


def _choice_text(raw: Any) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise _Invalid("应为选项值（文本）")
    return str(raw).strip()


def _integer(raw: Any) -> int:
    if isinstance(raw, bool):
        raise _Invalid("应为整数")
    if isinstance(raw, int):
        number = raw
    elif isinstance(raw, float) and math.isfinite(raw) and raw.is_integer():
        number = int(raw)
    elif isinstance(raw, str) and _INTEGER.match(raw.strip()):
        number = int(raw.strip())
    else:
        raise _Invalid("应为整数")
    if abs(number) >= MAX_MAGNITUDE:
        raise _Invalid("数值超出范围")
    return number


def _decimal(raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise _Invalid("应为数字")
    if isinstance(raw, int):
        if abs(raw) >= MAX_MAGNITUDE:
            raise _Invalid("数值超出范围")
        return float(raw)
    try:
        number = float(raw.strip()) if isinstance(raw, str) else raw
    except ValueError:
        raise _Invalid("应为数字") from None
    if not math.isfinite(number):
        raise _Invalid("应为数字")
    if abs(number) >= MAX_MAGNITUDE:
        raise _Invalid("数值超出范围")
    return number


def coerce(question: QuestionSpec, raw: Any) -> Any:
    """The answer as stored, or None when unanswered; ``_Invalid`` when it has the wrong type."""
    if _is_empty(raw):
        return None
    kind = question.type
    if kind == T.NOTE:
        raise _Invalid("说明文字不需要作答")
    if kind == T.SINGLE:
        return _choice_text(raw) or None
    if kind == T.MULTIPLE:
        if isinstance(raw, str):
            items = raw.split()
        elif isinstance(raw, list):
            items = [_choice_text(item) for item in raw]
        else:
            raise _Invalid("应为选项值的列表")
        return list(dict.fromkeys(item for item in items if item)) or None
    if kind == T.INTEGER:
        return _integer(raw)
    if kind == T.RATING:
        start, end, step = question.scale
        try:
            number = _integer(raw)
        except _Invalid:
            raise _Invalid(f"应为 {start}–{end} 之间的整数") from None
        if not start <= number <= end or (number - start) % max(step, 1):
            raise _Invalid(f"应为 {start}–{end} 之间的整数")
        return number
    if kind == T.DECIMAL:
        return _decimal(raw)
    if kind == T.TEXT:
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise _Invalid("应为文本")
        text = str(raw).strip()
        if len(text) > MAX_TEXT:
            raise _Invalid(f"不能超过 {MAX_TEXT} 字")
        return text or None
    if kind == T.DATE:
        if not isinstance(raw, str) or not _DATE.match(raw.strip()):
            raise _Invalid("应为日期（YYYY-MM-DD）")
        try:
            return dt.date.fromisoformat(raw.strip()).isoformat()
        except ValueError:
            raise _Invalid("应为有效日期（YYYY-MM-DD）") from None
    if kind == T.MATRIX:
        if not isinstance(raw, dict):
            raise _Invalid("应为“行名称: 选项值”的对象")
        rows = {r.name for r in question.rows}
        cleaned: dict[str, str] = {}
        for row, value in raw.items():
            if row not in rows:
                raise _Invalid(f"没有名为“{str(row)[:40]}”的行")
            if not _is_empty(value):
                cleaned[row] = _choice_text(value)
        ordered = {r.name: cleaned[r.name] for r in question.rows if cleaned.get(r.name)}
        return ordered or None
    raise _Invalid("未知题型")  # pragma: no cover - types come from QuestionType


def numeric_value(question_type: str, value: Any) -> float | None:
    """What ``Answer.number`` stores for aggregation."""
    if question_type in (T.INTEGER, T.DECIMAL, T.RATING) and value is not None:
        return float(value)
    return None


# --- the check ---------------------------------------------------------------------------------


def offered_choices(question: QuestionSpec, values: Mapping[str, Any]) -> tuple[ChoiceSpec, ...]:
    if not question.choice_filter:
        return question.choices
    return tuple(
        c
        for c in question.choices
        if evaluate(question.choice_filter, values, columns={"name": c.name, **c.filters})
    )


def is_relevant(question: QuestionSpec, values: Mapping[str, Any]) -> bool:
    return all(evaluate(text, values) for text in question.relevant)


def _choice_errors(
    question: QuestionSpec, value: Any, offered: tuple[ChoiceSpec, ...]
) -> str | None:
    names = {c.name for c in offered}
    picked: list[str]
    if question.type == T.SINGLE:
        picked = [value]
    elif question.type == T.MULTIPLE:
        picked = list(value)
    elif question.type == T.MATRIX:
        picked = list(value.values())
    else:
        return None
    for item in picked:
        if item not in names:
            return f"“{item[:40]}”不是本题的选项"
    return None


def check_answers(
    form: FormSpec,
    answers: Mapping[str, Any],
    *,
    strict: bool,
    partial: bool = False,
) -> CheckResult:
    """Check ``answers`` (question name → raw value) against the form.

    ``strict`` (the API): an unknown question or an answer to a question that is not relevant
    is an error. Otherwise (pages) they are dropped, as ODK clears non-relevant values.
    ``partial`` (保存并继续): required questions may still be empty."""
    errors: list[AnswerError] = []
    by_name = form.by_name
    if strict:
        for name in answers:
            spec = by_name.get(str(name))
            if spec is None:
                errors.append(
                    AnswerError(str(name)[:60], Code.UNKNOWN_QUESTION, "问卷中没有这道题")
                )
    coerced: dict[str, Any] = {}
    invalid: dict[str, str] = {}
    for question in form.questions:
        if question.name not in answers:
            continue
        try:
            coerced[question.name] = coerce(question, answers[question.name])
        except _Invalid as problem:
            invalid[question.name] = problem.message
    # Expressions see every answer given; one that turns out not relevant is blanked for the
    # questions after it.
    context: dict[str, Any] = dict(coerced)
    values: dict[str, Any] = {}
    relevant: set[str] = set()
    offered: dict[str, tuple[ChoiceSpec, ...]] = {}
    for question in form.questions:
        name = question.name
        answered = coerced.get(name) is not None or name in invalid
        if not is_relevant(question, context):
            context[name] = None
            if answered and strict:
                errors.append(AnswerError(name, Code.NOT_RELEVANT, "按跳题规则本题不应作答"))
            continue
        relevant.add(name)
        if not question.answerable:
            if name in invalid and strict:
                errors.append(AnswerError(name, Code.UNKNOWN_QUESTION, invalid[name]))
            continue
        if question.type in (T.SINGLE, T.MULTIPLE, T.MATRIX):
            offered[name] = offered_choices(question, context)
        if name in invalid:
            errors.append(AnswerError(name, Code.INVALID_VALUE, invalid[name]))
            context[name] = None
            continue
        value = coerced.get(name)
        if value is None:
            if question.required and not partial:
                errors.append(AnswerError(name, Code.REQUIRED, "此题为必答题"))
            continue
        if (
            question.type == T.MATRIX
            and question.required
            and not partial
            and len(value) < len(question.rows)
        ):
            errors.append(AnswerError(name, Code.REQUIRED, "此题为必答题，请回答每一行"))
            continue
        not_offered = _choice_errors(question, value, offered.get(name, ()))
        if not_offered:
            errors.append(AnswerError(name, Code.INVALID_CHOICE, not_offered))
            continue
        if question.constraint and not evaluate(question.constraint, context, current=value):
            message = question.constraint_message or "答案不符合本题的填写要求"
            errors.append(AnswerError(name, Code.CONSTRAINT, message))
            continue
        values[name] = value
    return CheckResult(values=values, errors=errors, relevant=relevant, offered=offered)


# --- the form itself ---------------------------------------------------------------------------


def expression_problems(form: FormSpec) -> list[tuple[str, str]]:
    """(question name, Chinese reason) for each expression outside the subset or pointing at
    a question the form lacks, a matrix or a note."""
    names = {q.name for q in form.questions}
    refused = {
        q.name: f"不能引用{'说明' if q.type == T.NOTE else '矩阵题'} ${{{q.name}}}"
        for q in form.questions
        if q.type in (T.NOTE, T.MATRIX)
    }
    problems: list[tuple[str, str]] = []
    for q in form.questions:
        for label, text, dot, bare in (
            ("显示条件", " and ".join(f"({r})" for r in q.relevant), False, False),
            ("校验条件", q.constraint, True, False),
            ("选项筛选", q.choice_filter, False, True),
        ):
            if not text.strip():
                continue
            try:
                check(text, names=names, allow_dot=dot, bare_names=bare, refused=refused)
            except ExpressionError as problem:
                problems.append((q.name, f"{label}：{problem.message}"))
    return problems


def form_problems(version: Any) -> list[str]:
    """Why the version may not be published (Chinese), empty when it may."""
    form = form_of(version)
    problems: list[str] = []
    if not any(q.answerable for q in form.questions):
        problems.append("问卷没有需要作答的题目")
    for q in form.questions:
        if q.type in (T.SINGLE, T.MULTIPLE, T.MATRIX) and not q.choices:
            problems.append(f"题目 {q.name} 没有选项")
        if q.type == T.MATRIX and not q.rows:
            problems.append(f"矩阵题 {q.name} 没有行")
    problems.extend(f"题目 {name} 的{reason}" for name, reason in expression_problems(form))
    return problems


__all__ = [
    "AnswerError",
    "CheckResult",
    "ChoiceSpec",
    "FormSpec",
    "QuestionSpec",
    "as_text",
    "check_answers",
    "coerce",
    "form_of",
    "form_problems",
    "is_relevant",
    "numeric_value",
]
