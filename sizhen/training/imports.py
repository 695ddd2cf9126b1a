"""Question bank import from XLSX (试题导入): columns by English name or Chinese label, every row
validated first, nothing stored unless the whole file is clean (``core.imports.run_import``:
one transaction, one audit event), a row-level report."""

from __future__ import annotations

from typing import Any

from sizhen.core.access import Actor
from sizhen.core.imports import run_import
from sizhen.core.permissions import has_capability
from sizhen.core.xlsx import Column, ImportReport, ImportSpec, template_workbook
from sizhen.indicators.catalogue.models import Indicator
from sizhen.training.choices import OPTION_LETTERS, Difficulty, QuestionKind
from sizhen.training.models import Question
from sizhen.training.services import clean_question

_EXAMPLE_STEM = "示例：企业开办全流程办理时间的计量单位是？"

COLUMNS: tuple[Column, ...] = (
    Column(
        "kind",
        "题型",
        required=True,
        help="单选题、多选题、判断题、填空题 之一",
        aliases=("type",),
    ),
    Column("stem", "题干", required=True, help="最多 1000 字", aliases=("question",), width=48),
    *(
        Column(f"option_{letter.lower()}", f"选项{letter}", help="选择题的选项；判断题不填")
        for letter in OPTION_LETTERS
    ),
    Column(
        "answer",
        "答案",
        required=True,
        help="选择题填选项字母（如 B 或 ACD）；判断题填 正确 或 错误；填空题填答案，"
        "多个可接受的答案用 | 分隔",
    ),
    Column("explanation", "解析", help="答错后在错题本中显示", width=40),
    Column("indicator", "关联指标", help="指标编码或名称，如 BE01 或 开办企业"),
    Column("difficulty", "难度", help="容易、中等、困难 之一；不填为中等"),
    Column("tags", "标签", help="多个标签用顿号或逗号分隔"),
)

NOTES = (
    "第一行为列名，请勿修改（也可使用英文列名 kind、stem、option_a…option_f、answer、"
    "explanation、indicator、difficulty、tags）；第二行为示例，导入前请删除。"
    "任何一行有错误时整个文件都不会导入，请按错误报告修改后重新上传。"
)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "正确" if value else "错误"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _choice(text: str, choices: Any) -> str | None:
    return next((c.value for c in choices if text in (c.label, c.value)), None)


def _validate(
    number: int, record: dict[str, Any], report: ImportReport, ctx: dict[str, Any]
) -> dict[str, Any] | None:
    labels = {c.key: c.label for c in COLUMNS}
    failed = False

    def error(key: str, code: str, message: str) -> None:
        nonlocal failed
        failed = True
        report.add(number, labels.get(key, key), code, message)

    kind_text = _text(record.get("kind"))
    kind = _choice(kind_text, QuestionKind) or kind_text
    difficulty_text = _text(record.get("difficulty"))
    difficulty = (
        _choice(difficulty_text, Difficulty) or difficulty_text
        if difficulty_text
        else Difficulty.MEDIUM
    )
    stem = _text(record.get("stem"))
    if stem == _EXAMPLE_STEM:
        error("stem", "example_row", "这是模板中的示例行，请删除后再导入")
    fields, errors = clean_question(
        kind=kind,
        stem=stem,
        options=[_text(record.get(f"option_{letter.lower()}")) for letter in OPTION_LETTERS],
        answer=_text(record.get("answer")),
        explanation=_text(record.get("explanation")),
        difficulty=difficulty,
        tags=_text(record.get("tags")),
    )
    column_of = {"options": "option_a"}
    for field, message in errors.items():
        error(column_of.get(field, field), f"invalid_{field}", message)
    indicator = None
    indicator_text = _text(record.get("indicator"))
    if indicator_text:
        indicator = ctx["indicators"].get(indicator_text)
        if indicator is None:
            error("indicator", "unknown_indicator", f"指标 {indicator_text} 不存在")
    if failed:
        return None
    return {**fields, "indicator": indicator}


def _save(rows: list[dict[str, Any]], report: ImportReport, actor: Any) -> None:
    from sizhen.accounts.models import acting_user

    user = acting_user(actor)
    Question.objects.bulk_create(Question(**row, created_by=user) for row in rows)
    report.created = len(rows)


SPEC = ImportSpec(
    columns=COLUMNS,
    validate=_validate,
    save=_save,
    unique_key=lambda row: row["stem"],
    unique_label="题干",
)


def import_questions(data: bytes, *, actor: Actor, dry_run: bool = False) -> ImportReport:
    """Import questions from an XLSX file (all or nothing)."""
    if not has_capability(actor, "training.manage"):
        report = ImportReport()
        report.fatal = "只有营商办可以导入试题"
        return report
    indicators: dict[str, Indicator] = {}
    for indicator in Indicator.objects.all():
        indicators[indicator.code] = indicator
        indicators.setdefault(indicator.name, indicator)
    report = run_import(
        SPEC,
        data,
        actor=actor,
        action="training.question_import",
        dry_run=dry_run,
        context={"indicators": indicators},
    )
    if dry_run and report.ok:
        report.created = report.total
    return report


def import_template() -> bytes:
    example = [
        QuestionKind.SINGLE.label,
        _EXAMPLE_STEM,
        "个",
        "工作日",
        "小时",
        "",
        "",
        "",
        "B",
        "开办时间按工作日历计算的工作日计。",
        Indicator.objects.filter(level=1).values_list("code", flat=True).first() or "",
        Difficulty.EASY.label,
        "开办企业、时限",
    ]
    return template_workbook(COLUMNS, example, NOTES)
