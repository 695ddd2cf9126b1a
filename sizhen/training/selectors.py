"""Reads of business-environment training (营商培训): a person's own list (一键学习), progress per
person and unit, exam results, and the statistics the coordinator and the units see. Every
reading of people goes through ``people_q`` (models): a department sees its own people, a
district officer those of their region, the city-wide roles everyone."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet

from sizhen.core.access import Actor
from sizhen.core.numbers import rounded
from sizhen.core.roles import STAFF_ROLES
from sizhen.training.choices import Audience, LearningStatus
from sizhen.training.models import (
    Attempt,
    AttemptAnswer,
    Course,
    CourseAssignment,
    CourseMaterial,
    Exam,
    Material,
    MaterialProgress,
    WrongAnswer,
    people_q,
)
from sizhen.training.services import progress_status
from sizhen.training.workflow import FINISHED_ATTEMPT_STATES, IN_PROGRESS


def _own(actor: Actor) -> int:
    """The actor's own id (0 names nobody: tokens and the system have no list of their own)."""
    return int(getattr(actor, "pk", None) or 0)


def _round(value: float) -> float:
    """A rate as the pages show it (one decimal, half away from zero), as a number."""
    return rounded(value, 1) or 0.0


def _codes(path: str | None) -> list[str]:
    return [code for code in (path or "").split("/") if code]


def _person_paths(person: Any) -> list[str]:
    """The region codes a person belongs to: their department's region and its ancestors, or
    their own region's."""
    department = getattr(person, "department", None)
    if department is not None and department.region is not None:
        return _codes(department.region.path)
    region = getattr(person, "region", None)
    return _codes(region.path) if region is not None else []


def assignments_of(person: Any) -> QuerySet[CourseAssignment]:
    """The course assignments that reach a person: their department's, and those of a district
    (or the city) their unit lies in."""
    condition = Q(region__code__in=_person_paths(person))
    if getattr(person, "department_id", None) is not None:
        condition |= Q(department_id=person.department_id)
    return CourseAssignment.objects.filter(condition).select_related("course")


def learners() -> QuerySet[Any]:
    """Staff who learn: every active member of staff."""
    return (
        get_user_model()
        .objects.filter(is_active=True, role__in=STAFF_ROLES)
        .select_related("department__region", "region")
    )


def learners_of(assignment: CourseAssignment) -> QuerySet[Any]:
    if assignment.department_id is not None:
        return learners().filter(department_id=assignment.department_id)
    assert assignment.region is not None
    path = assignment.region.path
    return learners().filter(
        Q(region__path__startswith=path) | Q(department__region__path__startswith=path)
    )


def unit_of(person: Any) -> str:
    if getattr(person, "department", None) is not None:
        return str(person.department.name)
    if getattr(person, "region", None) is not None:
        return str(person.region.name)
    return "未分配单位"


# --- one's own list (一键学习) -------------------------------------------------------------------


@dataclass
class ListEntry:
    material: Material
    status: str
    reason: str
    deadline: Any = None

    @property
    def status_label(self) -> str:
        return str(LearningStatus(self.status).label)


def my_materials(actor: Actor) -> list[ListEntry]:
    """A person's own list in order: the materials of the courses assigned to their unit (the
    nearest deadline first, in each course's order), then the 个性 materials of their
    department's indicators, then the 共性 materials for everyone, by indicator and order."""
    person = (
        get_user_model().objects.select_related("department__region", "region").get(pk=_own(actor))
    )
    progress = {p.material_id: p for p in MaterialProgress.objects.filter(user_id=_own(actor))}
    entries: list[ListEntry] = []
    seen: set[int] = set()

    def add(material: Material, reason: str, deadline: Any = None) -> None:
        if material.pk in seen or not material.is_active:
            return
        seen.add(material.pk)
        entries.append(
            ListEntry(material, progress_status(progress.get(material.pk)), reason, deadline)
        )

    for assignment in assignments_of(person).order_by("deadline", "pk"):
        items = assignment.course.items.select_related("material__indicator").order_by("position")
        for item in items:
            add(item.material, f"课程：{assignment.course.title}", assignment.deadline)
    ordering = ("indicator__sort_order", "indicator__code", "sort_order", "pk")
    if person.department_id is not None:
        specific = Material.objects.filter(
            audience=Audience.SPECIFIC, departments=person.department_id
        ).select_related("indicator")
        for material in specific.order_by(*ordering):
            add(material, "个性：本部门牵头或负责的指标")
    common = Material.objects.filter(audience=Audience.COMMON).select_related("indicator")
    for material in common.order_by(*ordering):
        add(material, "共性")
    return entries


# --- progress per person and per unit --------------------------------------------------------


@dataclass
class PersonProgress:
    person: Any
    unit: str
    done: int = 0
    opened: int = 0
    watched: int = 0
    total: int = 0

    @property
    def rate(self) -> float:
        return _round(100 * self.done / self.total) if self.total else 0.0


@dataclass
class UnitProgress:
    unit: str
    people: int = 0
    completed: int = 0
    done: int = 0
    total: int = 0

    @property
    def rate(self) -> float:
        return _round(100 * self.done / self.total) if self.total else 0.0


def visible_people(actor: Actor) -> QuerySet[Any]:
    """The learners whose progress and results the actor may see."""
    scope = people_q(actor, "")
    return learners().filter(scope) if scope is not None else learners().none()


def course_progress(course: Course, actor: Actor) -> dict[str, Any]:
    """Per person (the people of the course's assigned units the actor may see) and per unit:
    how many of the course's materials each opened and finished."""
    material_ids = list(course.items.values_list("material_id", flat=True))
    allowed = visible_people(actor)
    rows: dict[int, PersonProgress] = {}
    for assignment in course.assignments.select_related("department", "region"):
        for person in learners_of(assignment).filter(pk__in=allowed.values("pk")):
            rows.setdefault(person.pk, PersonProgress(person, unit_of(person)))
    records = MaterialProgress.objects.filter(user_id__in=list(rows), material_id__in=material_ids)
    for record in records:
        row = rows[record.user_id]
        row.opened += 1
        row.watched += int(record.watched_at is not None)
        if record.finished_at is not None:
            row.done += 1
    units: dict[str, UnitProgress] = {}
    for row in rows.values():
        row.total = len(material_ids)
        unit = units.setdefault(row.unit, UnitProgress(row.unit))
        unit.people += 1
        unit.done += row.done
        unit.total += row.total
        unit.completed += int(row.total > 0 and row.done == row.total)
    people_rows = sorted(rows.values(), key=lambda r: (r.unit, str(r.person)))
    return {
        "people": people_rows,
        "units": sorted(units.values(), key=lambda u: u.unit),
        "materials": len(material_ids),
    }


# --- exams ------------------------------------------------------------------------------------


def exam_results(exam: Exam, actor: Actor) -> dict[str, Any]:
    """The best finished attempt of each person the actor may see, and the figures per unit."""
    attempts = (
        Attempt.objects.visible_to(actor)
        .filter(exam=exam, status__in=FINISHED_ATTEMPT_STATES)
        .select_related("user__department__region", "user__region")
        .order_by("user_id", "-percent", "number")
    )
    best: dict[int, Attempt] = {}
    tries: dict[int, int] = defaultdict(int)
    for attempt in attempts:
        tries[attempt.user_id] += 1
        best.setdefault(attempt.user_id, attempt)
    rows = sorted(best.values(), key=lambda a: (unit_of(a.user), -(a.percent or 0)))
    units: dict[str, dict[str, Any]] = {}
    for attempt in rows:
        unit = units.setdefault(
            unit_of(attempt.user),
            {"unit": unit_of(attempt.user), "people": 0, "passed": 0, "sum": Decimal(0)},
        )
        unit["people"] += 1
        unit["passed"] += int(bool(attempt.passed))
        unit["sum"] += attempt.percent or 0
    unit_rows = []
    for unit in sorted(units.values(), key=lambda u: u["unit"]):
        unit_rows.append(
            {
                "unit": unit["unit"],
                "people": unit["people"],
                "passed": unit["passed"],
                "pass_rate": _round(100 * unit["passed"] / unit["people"]),
                "average": _round(float(unit["sum"]) / unit["people"]),
            }
        )
    return {
        "rows": [{"attempt": a, "tries": tries[a.user_id], "unit": unit_of(a.user)} for a in rows],
        "units": unit_rows,
        "questions": question_error_rates(exam, actor),
    }


def question_error_rates(exam: Exam, actor: Actor) -> list[dict[str, Any]]:
    """Each question of the exam's finished attempts (those the actor may see) with how often
    it was answered wrong, the most missed first."""
    answers = AttemptAnswer.objects.filter(
        attempt__in=Attempt.objects.visible_to(actor).filter(
            exam=exam, status__in=FINISHED_ATTEMPT_STATES
        )
    )
    figures = answers.values("question_id").annotate(
        total=Count("pk"), wrong=Count("pk", filter=Q(correct=False))
    )
    stems = dict(
        answers.order_by("question_id", "pk").values_list("question_id", "snapshot").distinct()
    )
    rows = [
        {
            "stem": stems.get(f["question_id"], {}).get("stem", ""),
            "indicator": stems.get(f["question_id"], {}).get("indicator_name", ""),
            "total": f["total"],
            "wrong": f["wrong"],
            "rate": _round(100 * f["wrong"] / f["total"]) if f["total"] else 0.0,
        }
        for f in figures
    ]
    return sorted(rows, key=lambda r: (-r["rate"], -r["total"], r["stem"]))


def my_attempts(actor: Actor) -> QuerySet[Attempt]:
    return Attempt.objects.filter(user_id=_own(actor)).select_related("exam")


def open_exams(actor: Actor) -> list[dict[str, Any]]:
    """Published exams with what the person may still do in each (start, resume, done)."""
    from sizhen.training.services import in_audience
    from sizhen.training.workflow import PUBLISHED

    mine: dict[int, list[Attempt]] = defaultdict(list)
    for attempt in my_attempts(actor):
        mine[attempt.exam_id].append(attempt)
    rows = []
    for exam in Exam.objects.filter(status=PUBLISHED).order_by("-created_at", "-pk"):
        if not in_audience(exam, actor):
            continue
        attempts = mine.get(exam.pk, [])
        current = next((a for a in attempts if a.status == IN_PROGRESS), None)
        rows.append(
            {
                "exam": exam,
                "attempts": attempts,
                "current": current,
                "can_start": current is None and len(attempts) < exam.max_attempts,
            }
        )
    return rows


# --- wrong-answer book ------------------------------------------------------------------------


def wrong_book(actor: Actor) -> dict[str, list[WrongAnswer]]:
    entries = WrongAnswer.objects.filter(user_id=_own(actor)).select_related("question__indicator")
    return {
        "open": list(entries.filter(mastered_at__isnull=True).order_by("-last_wrong_at", "-pk")),
        "mastered": list(entries.filter(mastered_at__isnull=False).order_by("-mastered_at")),
    }


# --- statistics -------------------------------------------------------------------------------


@dataclass
class UnitFigures:
    unit: str
    people: int = 0
    assigned: int = 0
    finished: int = 0
    examinees: int = 0
    passed: int = 0
    members: set[int] = field(default_factory=set)

    @property
    def learning_rate(self) -> float:
        return _round(100 * self.finished / self.assigned) if self.assigned else 0.0

    @property
    def exam_rate(self) -> float:
        return _round(100 * self.examinees / self.people) if self.people else 0.0

    @property
    def pass_rate(self) -> float:
        return _round(100 * self.passed / self.examinees) if self.examinees else 0.0


def statistics(actor: Actor) -> dict[str, Any]:
    """Learning completion (assigned course materials finished) and exam completion (people
    with a finished attempt, people who passed) by unit, and the weakest indicators by error
    rate, over the people the actor may see."""
    people = list(visible_people(actor))
    units: dict[str, UnitFigures] = {}
    person_unit: dict[int, UnitFigures] = {}
    for person in people:
        unit = units.setdefault(unit_of(person), UnitFigures(unit_of(person)))
        unit.people += 1
        unit.members.add(person.pk)
        person_unit[person.pk] = unit
    finished = set(
        MaterialProgress.objects.filter(
            user_id__in=list(person_unit), finished_at__isnull=False
        ).values_list("user_id", "material_id")
    )
    course_materials: dict[int, list[int]] = defaultdict(list)
    for course_id, material_id in CourseMaterial.objects.values_list("course_id", "material_id"):
        course_materials[course_id].append(material_id)
    for person in people:
        wanted: set[int] = set()
        for assignment in assignments_of(person):
            wanted.update(course_materials.get(assignment.course_id, []))
        unit = person_unit[person.pk]
        unit.assigned += len(wanted)
        unit.finished += sum(1 for m in wanted if (person.pk, m) in finished)
    attempts = Attempt.objects.filter(
        user_id__in=list(person_unit), status__in=FINISHED_ATTEMPT_STATES
    )
    took = set(attempts.values_list("user_id", flat=True))
    passed = set(attempts.filter(passed=True).values_list("user_id", flat=True))
    for user_id in took:
        person_unit[user_id].examinees += 1
    for user_id in passed:
        person_unit[user_id].passed += 1
    return {
        "units": sorted(units.values(), key=lambda u: u.unit),
        "weakest": weakest_indicators(actor),
        "people": len(people),
    }


def weakest_indicators(actor: Actor, limit: int = 10) -> list[dict[str, Any]]:
    """Indicators by the error rate of the answers to their questions in finished attempts of
    the people the actor may see, the weakest first."""
    answers = AttemptAnswer.objects.filter(
        attempt__in=Attempt.objects.visible_to(actor).filter(status__in=FINISHED_ATTEMPT_STATES),
        question__indicator__isnull=False,
    )
    figures = answers.values("question__indicator__code", "question__indicator__name").annotate(
        total=Count("pk"), wrong=Count("pk", filter=Q(correct=False))
    )
    rows = [
        {
            "code": f["question__indicator__code"],
            "name": f["question__indicator__name"],
            "total": f["total"],
            "wrong": f["wrong"],
            "rate": _round(100 * f["wrong"] / f["total"]),
        }
        for f in figures
        if f["total"]
    ]
    return sorted(rows, key=lambda r: (-r["rate"], -r["total"], r["code"]))[:limit]


__all__ = [
    "ListEntry",
    "assignments_of",
    "course_progress",
    "exam_results",
    "learners",
    "my_attempts",
    "my_materials",
    "open_exams",
    "question_error_rates",
    "statistics",
    "unit_of",
    "visible_people",
    "weakest_indicators",
    "wrong_book",
]
