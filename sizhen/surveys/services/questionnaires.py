"""Questionnaire writes: XLSForm imports, publishing, copy-on-write edits of published versions,
the question bank (题库)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from sizhen.accounts.models import acting_user
from sizhen.core.access import Actor
from sizhen.core.audit import record_event, snapshot
from sizhen.core.permissions import ensure_capability
from sizhen.core.workflow import execute_transition
from sizhen.surveys.choices import VersionSource
from sizhen.surveys.models import BankItem, Question, Questionnaire, QuestionnaireVersion
from sizhen.surveys.services.common import SurveyError
from sizhen.surveys.structure import (
    COPIED_FIELDS,
    ChoiceData,
    FormData,
    QuestionData,
    SectionData,
    structure_of,
    write_structure,
)
from sizhen.surveys.validation import expression_problems, form_of
from sizhen.surveys.workflow import DRAFT
from sizhen.surveys.xlsform import XLSFormError, read_xlsform


def _bank_ids(form: FormData) -> dict[str, int]:
    codes = {q.bank_code for q in form.questions() if q.bank_code}
    found = dict(BankItem.objects.filter(code__in=codes).values_list("code", "pk"))
    missing = [q for q in form.questions() if q.bank_code and q.bank_code not in found]
    if missing:
        raise XLSFormError(
            [
                (f"第 {q.row} 行：" if q.row else "")
                + f"题库中没有编码为“{q.bank_code}”的题目（bank 列）"
                for q in missing
            ]
        )
    return found


def _new_version(
    questionnaire: Questionnaire,
    form: FormData,
    *,
    actor: Actor | None,
    source: str,
    source_name: str = "",
    based_on: QuestionnaireVersion | None = None,
) -> QuestionnaireVersion:
    """A new draft version of the questionnaire holding ``form`` (the caller's transaction)."""
    number = (questionnaire.versions.aggregate(top=Max("number"))["top"] or 0) + 1
    version = QuestionnaireVersion.objects.create(
        questionnaire=questionnaire,
        number=number,
        source=source,
        source_name=source_name[:200],
        form_settings=form.settings,
        based_on=based_on,
        created_by=acting_user(actor),
    )
    write_structure(version, form, _bank_ids(form))
    return version


def import_xlsform(
    content: bytes, *, actor: Actor | None, file_name: str = "", publish: bool = False
) -> QuestionnaireVersion:
    """Import an XLSForm workbook (导入问卷): a new questionnaire, or a new version of the one
    with the same code. Nothing is stored when the workbook is refused (``XLSFormError``)."""
    if actor is not None:
        ensure_capability(actor, "survey.design", SurveyError("只有营商办可以导入问卷"))
    form = read_xlsform(content, file_name or "form.xlsx")
    with transaction.atomic():
        questionnaire = Questionnaire.objects.select_for_update().filter(code=form.code).first()
        created = questionnaire is None
        if questionnaire is None:
            questionnaire = Questionnaire.objects.create(
                code=form.code, title=form.title, created_by=acting_user(actor)
            )
        version = _new_version(
            questionnaire, form, actor=actor, source=VersionSource.XLSFORM, source_name=file_name
        )
        record_event(
            "survey.import",
            actor=actor,
            obj=questionnaire,
            after={
                "code": form.code,
                "version": version.number,
                "questions": form.answerable_count,
                "file": file_name,
                "created": created,
            },
            message=f"导入 XLSForm：{file_name}",
        )
        if publish:
            publish_version(version, actor=actor)
    return version


def publish_version(version: QuestionnaireVersion, *, actor: Actor | None) -> QuestionnaireVersion:
    """Publish a draft version (发布): from now on it is never changed. Without an actor (the
    import command) the system publishes."""
    execute_transition(
        version,
        "publish",
        actor=actor,
        changes={"published_at": timezone.now()},
        context={"system": actor is None},
    )
    return version


def editable_version(questionnaire: Questionnaire, *, actor: Actor) -> QuestionnaireVersion:
    """The draft to edit: the latest version if it is a draft, else a new draft copied from
    it (a published version is never changed)."""
    ensure_capability(actor, "survey.design", SurveyError("只有营商办可以修改问卷"))
    with transaction.atomic():
        Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
        latest = questionnaire.latest_version()
        if latest is not None and latest.status == DRAFT:
            return latest
        form = structure_of(latest) if latest else FormData(questionnaire.code, questionnaire.title)
        version = _new_version(
            questionnaire, form, actor=actor, source=VersionSource.COPY, based_on=latest
        )
        record_event(
            "survey.new_version",
            actor=actor,
            obj=questionnaire,
            after={"version": version.number, "based_on": latest.number if latest else None},
            message=f"修改已发布的问卷，新建第 {version.number} 版草稿",
        )
    return version


#: What an edit may change: the copied fields but the identity of the question and its list.
_EDITABLE_FIELDS = set(COPIED_FIELDS) - {"name", "type", "list_name"}


def edit_question(question: Question, *, actor: Actor, **fields: Any) -> Question:
    """Change a question. In a published version the change goes to a new draft (copied once),
    and the question returned is the draft's."""
    unknown = set(fields) - _EDITABLE_FIELDS
    if unknown:
        raise SurveyError(f"不能修改：{'、'.join(sorted(unknown))}")
    with transaction.atomic():
        version = editable_version(question.version.questionnaire, actor=actor)
        target = Question.objects.select_for_update().get(version=version, name=question.name)
        before = snapshot(target, sorted(fields))
        for name, value in fields.items():
            setattr(target, name, value)
        target.full_clean(exclude=["version", "section", "bank_item"])
        target.save(update_fields=sorted(fields))
        _refuse_bad_expressions(version)
        record_event(
            "survey.edit_question",
            actor=actor,
            obj=target,
            before=before,
            after=snapshot(target, sorted(fields)),
        )
    return target


def _refuse_bad_expressions(version: QuestionnaireVersion) -> None:

    problems = expression_problems(form_of(version))
    if problems:
        name, reason = problems[0]
        raise SurveyError(f"题目 {name} 的{reason}")


def add_question(
    questionnaire: Questionnaire,
    *,
    actor: Actor,
    data: QuestionData | None = None,
    bank_item: BankItem | None = None,
    name: str = "",
    section_index: int = -1,
) -> Question:
    """Add a question (or a bank item, 从题库选题) to the end of a section of the draft."""
    if data is None:
        if bank_item is None:
            raise SurveyError("请给出题目或选择题库题目")
        data = QuestionData(
            name=name or bank_item.code,
            type=bank_item.type,
            label=bank_item.label,
            hint=bank_item.hint,
            parameters=dict(bank_item.parameters),
            rows=list(bank_item.rows),
            weight=bank_item.weight,
            bank_code=bank_item.code,
        )
        data.choices = [
            _choice(c) for c in (bank_item.choices or []) if isinstance(c, dict) and c.get("name")
        ]
    with transaction.atomic():
        version = editable_version(questionnaire, actor=actor)
        form = structure_of(version)
        if data.name in {q.name for q in form.questions()}:
            raise SurveyError(f"题目名称“{data.name}”已存在")
        if not form.sections:
            form.sections.append(SectionData())
        form.sections[section_index].questions.append(data)
        _rewrite(version, form)
        question = Question.objects.get(version=version, name=data.name)
        question.full_clean(exclude=["version", "section", "bank_item"])
        _refuse_bad_expressions(version)
        record_event(
            "survey.add_question",
            actor=actor,
            obj=question,
            after={"version": version.number, "name": data.name, "type": data.type},
        )
    return question


def remove_question(question: Question, *, actor: Actor) -> QuestionnaireVersion:
    """Remove a question from the draft (a published version keeps it)."""
    with transaction.atomic():
        version = editable_version(question.version.questionnaire, actor=actor)
        form = structure_of(version)
        for section in form.sections:
            section.questions = [q for q in section.questions if q.name != question.name]
        _rewrite(version, form)
        _refuse_bad_expressions(version)
        record_event(
            "survey.remove_question",
            actor=actor,
            obj=version,
            before={"name": question.name},
        )
    return version


def _choice(raw: Mapping[str, Any]) -> ChoiceData:
    return ChoiceData(str(raw["name"]), str(raw.get("label") or raw["name"]))


def _rewrite(version: QuestionnaireVersion, form: FormData) -> None:
    """Replace a draft's sections and questions (drafts have no answers)."""
    if version.status != DRAFT or version.responses.exists():
        raise SurveyError("已发布或已有答卷的版本不能修改")
    version.sections.all().delete()
    write_structure(version, form, _bank_ids(form))


def create_bank_item(*, actor: Actor, **fields: Any) -> BankItem:
    """Add a question to the question bank (题库)."""
    ensure_capability(actor, "survey.design", SurveyError("只有营商办可以维护题库"))
    with transaction.atomic():
        item = BankItem(**fields)
        item.full_clean()
        item.save()
        record_event("survey.bank_create", actor=actor, obj=item, after=snapshot(item))
    return item
