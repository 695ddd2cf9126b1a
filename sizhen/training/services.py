"""Writes of business-environment training (营商培训). Each service runs in one transaction and
writes an audit event; exam and attempt states move only through ``execute_transition``."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from sizhen.accounts.models import acting_user
from sizhen.core.access import Actor, role_of
from sizhen.core.audit import actor_fields, record_event, snapshot
from sizhen.core.errors import ServiceError
from sizhen.core.notifications import notify_after_commit, unit_users
from sizhen.core.permissions import ensure_capability
from sizhen.core.roles import STAFF_ROLES
from sizhen.core.uploads import VIDEO_KINDS, upload_error
from sizhen.core.workflow import WorkflowError, execute_transition
from sizhen.indicators.catalogue.models import Indicator
from sizhen.organisations.models import Department, Region
from sizhen.training.choices import (
    OPTION_LETTERS,
    TRUE_FALSE_OPTIONS,
    Audience,
    Difficulty,
    LearningStatus,
    MaterialKind,
    QuestionKind,
)
from sizhen.training.exams import draw, snapshot_of, validate_rules
from sizhen.training.models import (
    Attempt,
    AttemptAnswer,
    Course,
    CourseAssignment,
    CourseMaterial,
    Exam,
    Material,
    MaterialProgress,
    Question,
    WrongAnswer,
)
from sizhen.training.scoring import clean_response, is_correct, percent_of
from sizhen.training.workflow import IN_PROGRESS, PUBLISHED

#: Right answers in a row that take a question out of the wrong-answer book (已掌握).
MASTERY_STREAK = 2
#: Which file types each kind of material takes.
KIND_EXTENSIONS = {
    MaterialKind.DOCUMENT: ("pdf", "docx", "txt"),
    MaterialKind.VIDEO: ("mp4", "webm"),
    MaterialKind.SLIDES: ("pdf", "pptx"),
}


class TrainingError(ServiceError):
    """A training step that may not happen now; the message is shown to the person."""


def _manage(actor: Actor, what: str) -> None:
    ensure_capability(actor, "training.manage", TrainingError(f"只有营商办可以{what}"))


def _learner(actor: Actor) -> int:
    """The person's own id: learning and exams are people's, not tokens' or the system's."""
    pk = getattr(actor, "pk", None)
    if role_of(actor) not in STAFF_ROLES or pk is None:
        raise TrainingError("只有工作人员本人可以学习和参加考试")
    return int(pk)


# --- materials --------------------------------------------------------------------------------


def docx_text(data: bytes, limit: int = 20000) -> str:
    """The paragraphs of a Word document as text: its preview on the page."""
    from docx import Document

    try:
        document = Document(io.BytesIO(data))
    except Exception:  # any unreadable document simply has no preview
        return ""
    text = "\n".join(p.text for p in document.paragraphs if p.text.strip())
    return text[:limit]


def _check_material(
    kind: str, title: str, upload: UploadedFile | None, link_url: str, has_file: bool
) -> None:
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = "请填写标题"
    if kind not in MaterialKind.values:
        errors["kind"] = "请选择资料类型"
    elif kind == MaterialKind.LINK:
        if not link_url.strip():
            errors["link_url"] = "链接类资料请填写链接地址"
    elif upload is not None:
        error = upload_error(upload, extra=VIDEO_KINDS)
        suffix = PurePath(upload.name or "").suffix.lower().lstrip(".")
        if error:
            errors["upload"] = error
        elif suffix not in KIND_EXTENSIONS[MaterialKind(kind)]:
            allowed = "、".join(KIND_EXTENSIONS[MaterialKind(kind)]).upper()
            errors["upload"] = f"{MaterialKind(kind).label}类资料应为 {allowed} 文件"
    elif not has_file:
        errors["upload"] = "请上传资料文件"
    if errors:
        raise ValidationError(errors)


def _store_file(material: Material, upload: UploadedFile) -> None:
    name = PurePath(upload.name or "file").name[:200]
    material.file_name = name
    material.size = upload.size or 0
    upload.seek(0)
    data = upload.read()
    material.preview_text = docx_text(data) if name.lower().endswith(".docx") else ""
    upload.seek(0)
    material.file.save(name, upload, save=False)


def _default_departments(indicator: Indicator | None) -> list[Department]:
    """个性 material goes to the departments that lead or answer for its indicator."""
    if indicator is None:
        return []
    departments = list(indicator.responsible_departments.all())
    if indicator.lead_department is not None:
        departments.insert(0, indicator.lead_department)
    return departments


_MATERIAL_FIELDS = ["title", "kind", "topic", "indicator", "audience", "file_name", "link_url"]


def create_material(
    *,
    actor: Actor,
    title: str,
    kind: str,
    topic: str = "",
    indicator: Indicator | None = None,
    audience: str = Audience.COMMON,
    departments: Iterable[Department] = (),
    description: str = "",
    upload: UploadedFile | None = None,
    link_url: str = "",
    minutes: int = 10,
    sort_order: int = 0,
) -> Material:
    """Add a learning material (上传学习资料). 个性 material without chosen departments goes to
    the indicator's lead and responsible departments."""
    _manage(actor, "维护学习资料")
    _check_material(kind, title, upload, link_url, has_file=False)
    chosen = list(departments)
    if audience == Audience.SPECIFIC and not chosen:
        chosen = _default_departments(indicator)
        if not chosen:
            raise ValidationError({"departments": "个性资料请选择适用部门或关联指标"})
    with transaction.atomic():
        material = Material(
            title=title.strip(),
            kind=kind,
            topic=topic.strip(),
            indicator=indicator,
            audience=audience,
            description=description.strip(),
            link_url=link_url.strip() if kind == MaterialKind.LINK else "",
            minutes=minutes,
            sort_order=sort_order,
            created_by=acting_user(actor),
        )
        if upload is not None and kind != MaterialKind.LINK:
            _store_file(material, upload)
        material.save()
        material.departments.set(chosen if audience == Audience.SPECIFIC else [])
        record_event(
            "training.material_create",
            actor=actor,
            obj=material,
            after={**snapshot(material, _MATERIAL_FIELDS), "departments": [d.pk for d in chosen]},
        )
    return material


def update_material(
    material: Material,
    *,
    actor: Actor,
    upload: UploadedFile | None = None,
    departments: Iterable[Department] | None = None,
    **fields: Any,
) -> Material:
    """Change a material's description, placement or file (修改学习资料)."""
    _manage(actor, "维护学习资料")
    allowed = {
        "title",
        "topic",
        "indicator",
        "audience",
        "description",
        "link_url",
        "minutes",
        "sort_order",
        "is_active",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)}")
    _check_material(
        material.kind,
        fields.get("title", material.title),
        upload,
        fields.get("link_url", material.link_url),
        has_file=bool(material.file_name),
    )
    with transaction.atomic():
        locked = Material.objects.select_for_update().get(pk=material.pk)
        before = snapshot(locked, [*_MATERIAL_FIELDS, "is_active"])
        for name, value in fields.items():
            setattr(locked, name, value.strip() if isinstance(value, str) else value)
        if upload is not None:
            _store_file(locked, upload)
        locked.save()
        if departments is not None:
            chosen = list(departments)
            if locked.audience == Audience.SPECIFIC and not chosen:
                chosen = _default_departments(locked.indicator)
            locked.departments.set(chosen if locked.audience == Audience.SPECIFIC else [])
        after = snapshot(locked, [*_MATERIAL_FIELDS, "is_active"])
        record_event(
            "training.material_update", actor=actor, obj=locked, before=before, after=after
        )
    material.refresh_from_db()
    return material


PROGRESS_EVENTS = ("opened", "watched", "finished")


def record_progress(material: Material, *, actor: Actor, event: str) -> MaterialProgress:
    """Record that the person opened a material, watched its video to the end (the player's
    ``ended`` event; it also finishes the material) or finished it (我已学完). Only a step
    forward is written and audited; repeating one changes nothing."""
    person = _learner(actor)
    if event not in PROGRESS_EVENTS:
        raise TrainingError("未知的学习进度")
    if event == "watched" and material.kind != MaterialKind.VIDEO:
        raise TrainingError("只有视频资料可以记录“已看完”")
    now = timezone.now()
    with transaction.atomic():
        progress, created = MaterialProgress.objects.select_for_update().get_or_create(
            material=material, user_id=person, defaults={"opened_at": now}
        )
        changed = ["opened_at"] if created else []
        if event == "watched" and progress.watched_at is None:
            progress.watched_at = now
            changed.append("watched_at")
        if event in ("watched", "finished") and progress.finished_at is None:
            progress.finished_at = now
            changed.append("finished_at")
        if changed:
            progress.save()
            record_event(
                "training.progress",
                actor=actor,
                obj=material,
                after={"event": event, "fields": changed},
            )
    return progress


def progress_status(progress: MaterialProgress | None) -> str:
    if progress is None:
        return LearningStatus.NOT_STARTED
    if progress.finished_at is not None:
        return LearningStatus.FINISHED
    if progress.watched_at is not None:
        return LearningStatus.WATCHED
    return LearningStatus.OPENED


# --- courses ----------------------------------------------------------------------------------


def create_course(
    *, actor: Actor, title: str, description: str = "", materials: Sequence[Material]
) -> Course:
    """Put materials in order into a course (新建培训课程)."""
    _manage(actor, "维护培训课程")
    if not title.strip():
        raise ValidationError({"title": "请填写课程名称"})
    if not materials:
        raise ValidationError({"materials": "请至少选择一份学习资料"})
    with transaction.atomic():
        course = Course.objects.create(
            title=title.strip(), description=description.strip(), created_by=acting_user(actor)
        )
        CourseMaterial.objects.bulk_create(
            CourseMaterial(course=course, material=material, position=position)
            for position, material in enumerate(materials, start=1)
        )
        record_event(
            "training.course_create",
            actor=actor,
            obj=course,
            after={"title": course.title, "materials": [m.pk for m in materials]},
        )
    return course


def assign_course(
    course: Course,
    *,
    actor: Actor,
    deadline: dt.date,
    departments: Iterable[Department] = (),
    regions: Iterable[Region] = (),
) -> list[CourseAssignment]:
    """Assign a course to departments and districts with a deadline (指派课程); a unit that
    has the course already gets the new deadline."""
    _manage(actor, "指派培训课程")
    department_list, region_list = list(departments), list(regions)
    if not department_list and not region_list:
        raise ValidationError({"departments": "请选择至少一个部门或县市区"})
    if deadline < timezone.localdate():
        raise ValidationError({"deadline": "完成期限不能早于今天"})
    label = actor_fields(actor)["actor_label"]
    with transaction.atomic():
        assignments = []
        defaults = {"deadline": deadline, "assigned_by_label": label}
        for department in department_list:
            assignment, _ = CourseAssignment.objects.update_or_create(
                course=course, department=department, defaults=defaults
            )
            assignments.append(assignment)
        for region in region_list:
            assignment, _ = CourseAssignment.objects.update_or_create(
                course=course, region=region, defaults=defaults
            )
            assignments.append(assignment)
        # Who acts for the units hears of it: a district's officers, a department's people.
        notify_after_commit(
            unit_users(
                department_ids=[d.pk for d in department_list],
                region_ids=[r.pk for r in region_list],
            ),
            subject=f"培训课程待学习：{course.title}",
            body=f"请于 {deadline:%Y-%m-%d} 前学完课程中的 {course.items.count()} 份资料。",
            link=reverse("training:course_detail", args=[course.pk]),
            category="training",
        )
        record_event(
            "training.course_assign",
            actor=actor,
            obj=course,
            after={
                "departments": [d.pk for d in department_list],
                "regions": [r.pk for r in region_list],
                "deadline": deadline,
            },
        )
    return assignments


# --- question bank ----------------------------------------------------------------------------


def normalise_tags(text: str) -> str:
    """Tags as stored: "，a，b，" (separators 、,，; and spaces), so one tag is one LIKE."""
    import re

    tags = [t for t in re.split(r"[、,，;；\s]+", text or "") if t]
    unique = list(dict.fromkeys(tags))
    return f"，{'，'.join(unique)}，" if unique else ""


def clean_question(
    *,
    kind: str,
    stem: str,
    options: Sequence[str],
    answer: str,
    explanation: str = "",
    difficulty: str = Difficulty.MEDIUM,
    tags: str = "",
) -> tuple[dict[str, Any], dict[str, str]]:
    """A question's fields as stored, and the reasons it is wrong (field → Chinese message).
    ``answer``: the letters ("B", "ACD"; for true/false also 正确/错误/对/错/√/×) or, for a
    fill-in question, the accepted answers separated by "|"."""
    errors: dict[str, str] = {}
    kind = (kind or "").strip()
    if kind not in QuestionKind.values:
        errors["kind"] = "题型应为 单选题、多选题、判断题、填空题 之一"
    stem = (stem or "").strip()
    if not stem:
        errors["stem"] = "请填写题干"
    elif len(stem) > 1000:
        errors["stem"] = "题干最多 1000 字"
    given = [str(o).strip() for o in options]
    while given and not given[-1]:
        given.pop()
    answer = (answer or "").strip()
    stored_options: list[str] = []
    stored_answer: list[str] = []
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        if len(given) < 2 or any(not o for o in given):
            errors["options"] = "选择题至少需要两个选项，且选项之间不能留空"
        stored_options = given
        letters = sorted({c for c in answer.upper() if c.strip() and c not in "、,， "})
        if not letters or any(c not in OPTION_LETTERS[: len(given)] for c in letters):
            errors["answer"] = f"答案应为选项字母（A–{OPTION_LETTERS[max(len(given), 1) - 1]}）"
        elif kind == QuestionKind.SINGLE and len(letters) != 1:
            errors["answer"] = "单选题只能有一个答案"
        elif kind == QuestionKind.MULTIPLE and len(letters) < 2:
            errors["answer"] = "多选题至少有两个正确选项"
        stored_answer = letters
    elif kind == QuestionKind.TRUE_FALSE:
        stored_options = list(TRUE_FALSE_OPTIONS)
        truth = {"A": "A", "正确": "A", "对": "A", "√": "A", "是": "A", "TRUE": "A", "T": "A"}
        falsity = {"B": "B", "错误": "B", "错": "B", "×": "B", "否": "B", "FALSE": "B", "F": "B"}
        letter = truth.get(answer.upper()) or falsity.get(answer.upper())
        if letter is None:
            errors["answer"] = "判断题的答案应为“正确”或“错误”"
        else:
            stored_answer = [letter]
    elif kind == QuestionKind.FILL:
        stored_answer = [a.strip() for a in answer.split("|") if a.strip()]
        if not stored_answer:
            errors["answer"] = "请填写填空题的答案（多个可接受的答案用 | 分隔）"
    if difficulty not in Difficulty.values:
        errors["difficulty"] = "难度应为 容易、中等、困难 之一"
    fields = {
        "kind": kind,
        "stem": stem,
        "options": stored_options,
        "answer": stored_answer,
        "explanation": (explanation or "").strip(),
        "difficulty": difficulty,
        "tags": normalise_tags(tags),
    }
    return fields, errors


_QUESTION_FIELDS = ["kind", "stem", "options", "answer", "difficulty", "tags", "indicator"]


def create_question(*, actor: Actor, indicator: Indicator | None = None, **fields: Any) -> Question:
    """Add a question to the bank (新增试题)."""
    _manage(actor, "维护题库")
    cleaned, errors = clean_question(**fields)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        question = Question.objects.create(
            **cleaned, indicator=indicator, created_by=acting_user(actor)
        )
        record_event(
            "training.question_create",
            actor=actor,
            obj=question,
            after=snapshot(question, _QUESTION_FIELDS),
        )
    return question


def update_question(
    question: Question,
    *,
    actor: Actor,
    indicator: Indicator | None = None,
    is_active: bool = True,
    **fields: Any,
) -> Question:
    """Edit a question (修改试题). Attempts keep the copy they were given."""
    _manage(actor, "维护题库")
    cleaned, errors = clean_question(**fields)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = Question.objects.select_for_update().get(pk=question.pk)
        before = snapshot(locked, [*_QUESTION_FIELDS, "is_active"])
        for name, value in cleaned.items():
            setattr(locked, name, value)
        locked.indicator = indicator
        locked.is_active = is_active
        locked.updated_at = timezone.now()
        locked.save()
        record_event(
            "training.question_update",
            actor=actor,
            obj=locked,
            before=before,
            after=snapshot(locked, [*_QUESTION_FIELDS, "is_active"]),
        )
    question.refresh_from_db()
    return question


# --- exams ------------------------------------------------------------------------------------


def create_exam(
    *,
    actor: Actor,
    title: str,
    rules: list[dict[str, Any]],
    duration_minutes: int,
    max_attempts: int = 1,
    pass_mark: int = 60,
    description: str = "",
    for_everyone: bool = True,
    departments: Iterable[Department] = (),
    regions: Iterable[Region] = (),
    closes_at: dt.datetime | None = None,
) -> Exam:
    """Draft an exam (新建考试); it is taken once published."""
    _manage(actor, "组织考试")
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = "请填写考试名称"
    problems = validate_rules(rules)
    if not rules:
        problems.append("请至少设置一条抽题规则")
    if problems:
        errors["rules"] = "；".join(problems)
    if not 1 <= duration_minutes <= 600:
        errors["duration_minutes"] = "考试时长应为 1–600 分钟"
    if not 1 <= max_attempts <= 20:
        errors["max_attempts"] = "可考次数应为 1–20"
    if not 0 <= pass_mark <= 100:
        errors["pass_mark"] = "及格分数应为 0–100"  # noqa: S105 - a field name, not a secret
    department_list, region_list = list(departments), list(regions)
    if not for_everyone and not department_list and not region_list:
        errors["departments"] = "请选择参加考试的部门或县市区，或选择全体工作人员参加"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        exam = Exam.objects.create(
            title=title.strip(),
            description=description.strip(),
            rules=[{k: v for k, v in rule.items() if v not in ("", None)} for rule in rules],
            duration_minutes=duration_minutes,
            max_attempts=max_attempts,
            pass_mark=pass_mark,
            for_everyone=for_everyone,
            closes_at=closes_at,
            created_by=acting_user(actor),
        )
        exam.departments.set(department_list)
        exam.regions.set(region_list)
        record_event(
            "training.exam_create",
            actor=actor,
            obj=exam,
            after=snapshot(
                exam, ["title", "rules", "duration_minutes", "max_attempts", "pass_mark"]
            ),
        )
    return exam


def transition_exam(exam: Exam, action: str, *, actor: Actor) -> Exam:
    """Publish (发布) or close (结束) an exam."""
    try:
        return execute_transition(exam, action, actor=actor)
    except WorkflowError as exc:
        raise TrainingError(exc.message) from exc


def in_audience(exam: Exam, actor: Actor) -> bool:
    """Whether the person is among those who take the exam: everyone, or their department,
    or a region their scope lies in."""
    if role_of(actor) not in STAFF_ROLES:
        return False
    if exam.for_everyone:
        return True
    department_id = getattr(actor, "department_id", None)
    if department_id is not None and exam.departments.filter(pk=department_id).exists():
        return True
    path = getattr(actor, "scope_path", None) or ""
    codes = [code for code in path.split("/") if code]
    return bool(codes) and exam.regions.filter(code__in=codes).exists()


def start_attempt(exam: Exam, *, actor: Actor) -> Attempt:
    """Start (or resume) an attempt (开始答题): the questions are drawn by the rules and the
    deadline is fixed now, on the server."""
    person = _learner(actor)
    expire_due_attempts(user_id=person)
    with transaction.atomic():
        locked = Exam.objects.select_for_update().get(pk=exam.pk)
        if locked.status != PUBLISHED:
            raise TrainingError("考试未发布或已结束")
        now = timezone.now()
        if locked.closes_at is not None and now >= locked.closes_at:
            raise TrainingError("考试已截止")
        if not in_audience(locked, actor):
            raise TrainingError("您不在本次考试的参加范围内")
        mine = Attempt.objects.filter(exam=locked, user_id=person)
        current = mine.filter(status=IN_PROGRESS).first()
        if current is not None:
            return current
        taken = mine.count()
        if taken >= locked.max_attempts:
            raise TrainingError(f"本次考试最多可考 {locked.max_attempts} 次，您已用完")
        number = taken + 1
        drawn = draw(locked.rules, seed=f"{locked.pk}:{person}:{number}")
        if not drawn:
            raise TrainingError("题库中没有符合抽题规则的题目")
        deadline = now + dt.timedelta(minutes=locked.duration_minutes)
        if locked.closes_at is not None:
            deadline = min(deadline, locked.closes_at)
        try:
            attempt = Attempt.objects.create(
                exam=locked,
                user_id=person,
                number=number,
                started_at=now,
                deadline=deadline,
                max_score=sum(Decimal(points) for _, points in drawn),
            )
        except IntegrityError as exc:  # pragma: no cover - the exam row lock serialises starts
            raise TrainingError("答卷已在另一窗口开始，请刷新") from exc
        AttemptAnswer.objects.bulk_create(
            AttemptAnswer(
                attempt=attempt,
                question=question,
                position=position,
                points=Decimal(points),
                snapshot=snapshot_of(question),
            )
            for position, (question, points) in enumerate(drawn, start=1)
        )
        record_event(
            "training.attempt_start",
            actor=actor,
            obj=attempt,
            after={"number": number, "deadline": deadline, "count": len(drawn)},
        )
    return attempt


def _locked_attempt(attempt: Attempt) -> Attempt:
    return Attempt.objects.select_for_update().get(pk=attempt.pk)


def save_answer(
    attempt: Attempt, *, actor: Actor, position: int, values: Sequence[Any]
) -> AttemptAnswer:
    """Save one answer as the person goes (自动保存). Refused after the deadline: the attempt
    is then scored as it stood (超时交卷)."""
    _learner(actor)
    with transaction.atomic():
        locked = _locked_attempt(attempt)
        if locked.user_id != actor.pk:
            raise TrainingError("只有答题人本人可以作答")
        if locked.status != IN_PROGRESS:
            raise TrainingError("答卷已交卷，不能再修改")
        now = timezone.now()
        if now >= locked.deadline:
            expired = True
        else:
            expired = False
            answer = locked.answers.select_for_update().filter(position=position).first()
            if answer is None:
                raise TrainingError("没有该题")
            kind = answer.snapshot.get("kind", "")
            answer.response = clean_response(kind, values, len(answer.snapshot.get("options", [])))
            answer.saved_at = now
            answer.save(update_fields=["response", "saved_at"])
            record_event(
                "training.answer_save",
                actor=actor,
                obj=locked,
                after={"position": position, "response": answer.response},
            )
    if expired:
        expire_attempt(attempt)
        raise TrainingError("考试时间已到，答卷已自动交卷，本次作答未保存")
    assert answer is not None
    return answer


def _score(attempt: Attempt) -> dict[str, Any]:
    """Score every answer of a locked attempt and collect the wrong ones into the person's
    wrong-answer book; the attempt's own fields are returned for its transition."""
    total = Decimal(0)
    wrong: list[AttemptAnswer] = []
    answers = list(attempt.answers.order_by("position"))
    for answer in answers:
        snap = answer.snapshot
        answer.correct = is_correct(snap.get("kind", ""), snap.get("answer", []), answer.response)
        answer.awarded = answer.points if answer.correct else Decimal(0)
        total += answer.awarded
        if not answer.correct:
            wrong.append(answer)
    AttemptAnswer.objects.bulk_update(answers, ["correct", "awarded"])
    now = timezone.now()
    # Unanswered questions count as wrong: the book holds what the person did not get right.
    book = {
        entry.question_id: entry
        for entry in WrongAnswer.objects.select_for_update().filter(
            user_id=attempt.user_id, question_id__in=[a.question_id for a in wrong]
        )
    }
    new_entries, seen = [], []
    for answer in wrong:
        entry = book.get(answer.question_id)
        if entry is None:
            new_entries.append(
                WrongAnswer(
                    user_id=attempt.user_id,
                    question_id=answer.question_id,
                    last_response=answer.response,
                    first_wrong_at=now,
                    last_wrong_at=now,
                )
            )
            continue
        entry.wrong_count += 1
        entry.last_response = answer.response
        entry.last_wrong_at = now
        entry.right_streak = 0
        entry.mastered_at = None
        seen.append(entry)
    WrongAnswer.objects.bulk_create(new_entries)
    WrongAnswer.objects.bulk_update(
        seen, ["wrong_count", "last_response", "last_wrong_at", "right_streak", "mastered_at"]
    )
    maximum = attempt.max_score
    percent = percent_of(total, maximum)
    return {
        "score": total,
        "percent": percent,
        "passed": percent >= attempt.exam.pass_mark,
        "finished_at": now,
    }


def submit_attempt(
    attempt: Attempt, *, actor: Actor, answers: Mapping[int, Sequence[Any]] | None = None
) -> Attempt:
    """Hand in (交卷): the answers sent with the form are saved first (a page without scripts
    loses nothing), then the attempt is scored. After the deadline, the attempt is scored as
    it stood when time ran out."""
    _learner(actor)
    if attempt.user_id != actor.pk:
        raise TrainingError("只有答题人本人可以交卷")
    if attempt.status != IN_PROGRESS:
        raise TrainingError("答卷已交卷")
    if timezone.now() >= attempt.deadline:
        expire_attempt(attempt)
        raise TrainingError("考试时间已到，答卷已按到时的作答自动交卷")
    with transaction.atomic():
        locked = _locked_attempt(attempt)
        given = answers or {}
        changed = []
        for answer in locked.answers.filter(position__in=list(given)):
            response = clean_response(
                answer.snapshot.get("kind", ""),
                given[answer.position],
                len(answer.snapshot.get("options", [])),
            )
            if response != answer.response:
                answer.response = response
                answer.saved_at = timezone.now()
                changed.append(answer)
        AttemptAnswer.objects.bulk_update(changed, ["response", "saved_at"])
        try:
            execute_transition(locked, "submit", actor=actor, changes=_score(locked))
        except WorkflowError as exc:
            raise TrainingError(exc.message) from exc
    attempt.refresh_from_db()
    return attempt


def expire_attempt(attempt: Attempt) -> bool:
    """Score an attempt whose deadline passed (超时交卷), by the system; False when it was not
    due or someone finished it first."""
    with transaction.atomic():
        locked = _locked_attempt(attempt)
        if locked.status != IN_PROGRESS or timezone.now() < locked.deadline:
            return False
        changes = _score(locked)
        changes["finished_at"] = locked.deadline
        execute_transition(locked, "expire", actor=None, changes=changes)
    attempt.refresh_from_db()
    return True


def expire_due_attempts(*, user_id: int | None = None) -> int:
    """Score every open attempt past its deadline (the periodic job, and each page of the
    person's own attempts)."""
    due = Attempt.objects.filter(status=IN_PROGRESS, deadline__lte=timezone.now())
    if user_id is not None:
        due = due.filter(user_id=user_id)
    count = 0
    for attempt in due.order_by("pk"):
        try:
            count += expire_attempt(attempt)
        except WorkflowError:
            continue
    return count


# --- wrong-answer book ------------------------------------------------------------------------


def practise(
    entry: WrongAnswer, *, actor: Actor, values: Sequence[Any]
) -> tuple[bool, WrongAnswer]:
    """Answer a question of one's wrong-answer book again (错题练习): right twice in a row and
    it is mastered (已掌握); a wrong answer starts the count again."""
    _learner(actor)
    with transaction.atomic():
        locked = WrongAnswer.objects.select_for_update().select_related("question").get(pk=entry.pk)
        if locked.user_id != actor.pk:
            raise TrainingError("只能练习本人的错题")
        question = locked.question
        response = clean_response(question.kind, values, len(question.options))
        if not response:
            raise ValidationError({"answer": "请作答后再提交"})
        right = is_correct(question.kind, question.answer, response)
        locked.practice_count += 1
        if right:
            locked.right_streak += 1
            if locked.right_streak >= MASTERY_STREAK and locked.mastered_at is None:
                locked.mastered_at = timezone.now()
        else:
            locked.right_streak = 0
            locked.wrong_count += 1
            locked.last_response = response
            locked.last_wrong_at = timezone.now()
            locked.mastered_at = None
        locked.save()
        record_event(
            "training.practice",
            actor=actor,
            obj=locked,
            after={"correct": right, "right_streak": locked.right_streak},
        )
    entry.refresh_from_db()
    return right, entry


__all__ = [
    "MASTERY_STREAK",
    "TrainingError",
    "assign_course",
    "clean_question",
    "create_course",
    "create_exam",
    "create_material",
    "create_question",
    "expire_attempt",
    "expire_due_attempts",
    "in_audience",
    "practise",
    "record_progress",
    "save_answer",
    "start_attempt",
    "submit_attempt",
    "transition_exam",
    "update_material",
    "update_question",
]
