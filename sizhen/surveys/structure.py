"""A questionnaire's structure as plain values: what an XLSForm import produces, what an export
writes, and what copying a published version into a new draft goes through."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sizhen.surveys.choices import QuestionType


@dataclass
class ChoiceData:
    name: str
    label: str
    filters: dict[str, Any] = field(default_factory=dict)


@dataclass
class QuestionData:
    name: str
    type: str
    label: str
    hint: str = ""
    required: bool = False
    relevant: str = ""
    constraint: str = ""
    constraint_message: str = ""
    choice_filter: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, str]] = field(default_factory=list)
    weight: float = 0.0
    list_name: str = ""
    choices: list[ChoiceData] = field(default_factory=list)
    bank_code: str = ""
    #: The survey sheet row it came from (imports), for messages.
    row: int | None = None


@dataclass
class SectionData:
    name: str = ""
    label: str = ""
    relevant: str = ""
    questions: list[QuestionData] = field(default_factory=list)


@dataclass
class FormData:
    code: str
    title: str
    settings: dict[str, Any] = field(default_factory=dict)
    sections: list[SectionData] = field(default_factory=list)

    def questions(self) -> list[QuestionData]:
        return [q for s in self.sections for q in s.questions]

    @property
    def answerable_count(self) -> int:
        return sum(1 for q in self.questions() if q.type != QuestionType.NOTE)


#: The fields a question and its plain form share as they are.
COPIED_FIELDS = (
    "name",
    "type",
    "label",
    "hint",
    "required",
    "relevant",
    "constraint",
    "constraint_message",
    "choice_filter",
    "weight",
    "list_name",
)


def structure_of(version: Any) -> FormData:
    """Read a version's sections, questions and choices."""
    from sizhen.surveys.models import Choice, Question, Section

    choices: dict[int, list[ChoiceData]] = {}
    for c in Choice.objects.filter(question__version=version).order_by("order", "pk"):
        choices.setdefault(c.question_id, []).append(
            ChoiceData(c.name, c.label, dict(c.filters or {}))
        )
    sections = {
        s.pk: SectionData(s.name, s.label, s.relevant)
        for s in Section.objects.filter(version=version).order_by("order", "pk")
    }
    questions = Question.objects.filter(version=version).select_related("bank_item")
    for q in questions.order_by("section__order", "order", "pk"):
        sections[q.section_id].questions.append(
            QuestionData(
                **{name: getattr(q, name) for name in COPIED_FIELDS},
                parameters=dict(q.parameters or {}),
                rows=[dict(r) for r in q.rows or []],
                choices=choices.get(q.pk, []),
                bank_code=q.bank_item.code if q.bank_item else "",
            )
        )
    questionnaire = version.questionnaire
    return FormData(
        code=questionnaire.code,
        title=questionnaire.title,
        settings=dict(version.form_settings or {}),
        sections=list(sections.values()),
    )


def write_structure(version: Any, form: FormData, bank_ids: dict[str, int]) -> int:
    """Create the version's sections, questions and choices (bulk; the caller's transaction).
    Returns the number of questions."""
    from sizhen.surveys.models import Choice, Question, Section

    sections = Section.objects.bulk_create(
        [
            Section(version=version, name=s.name, label=s.label, relevant=s.relevant, order=i)
            for i, s in enumerate(form.sections)
        ]
    )
    rows: list[Question] = []
    planned: list[QuestionData] = []
    for section, data in zip(sections, form.sections, strict=True):
        for order, q in enumerate(data.questions):
            rows.append(
                Question(
                    version=version,
                    section=section,
                    **{name: getattr(q, name) for name in COPIED_FIELDS},
                    parameters=q.parameters,
                    rows=q.rows,
                    bank_item_id=bank_ids.get(q.bank_code) if q.bank_code else None,
                    order=order,
                )
            )
            planned.append(q)
    questions = Question.objects.bulk_create(rows)
    Choice.objects.bulk_create(
        [
            Choice(question=question, name=c.name, label=c.label, order=i, filters=c.filters)
            for question, data in zip(questions, planned, strict=True)
            for i, c in enumerate(data.choices)
        ]
    )
    return len(questions)
