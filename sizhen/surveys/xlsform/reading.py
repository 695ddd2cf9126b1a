"""Reading an XLSForm workbook: pyxform converts it, the walker turns its JSON form into
sections and questions and collects every refusal with its row."""

from __future__ import annotations

import io
import logging
import re
from pathlib import PurePath
from typing import Any

from sizhen.surveys.choices import QuestionType as T
from sizhen.surveys.expressions import ExpressionError, check
from sizhen.surveys.models import NAME_PATTERN
from sizhen.surveys.structure import ChoiceData, FormData, QuestionData, SectionData
from sizhen.surveys.xlsform.common import MAX_BYTES, MAX_QUESTIONS, XLSFormError
from sizhen.surveys.xlsform.messages import translate_error

logger = logging.getLogger(__name__)

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,59}$")
_NAME = re.compile(NAME_PATTERN)
_TRUE = {"yes", "true", "true()", "1"}
#: XLSForm metadata types: recorded by ODK clients, nothing to ask here.
_METADATA = {
    "start",
    "end",
    "today",
    "deviceid",
    "phonenumber",
    "username",
    "email",
    "audit",
    "simserial",
    "subscriberid",
    "start-geopoint",
}
_TYPES = {
    "select one": T.SINGLE,
    "select all that apply": T.MULTIPLE,
    "integer": T.INTEGER,
    "decimal": T.DECIMAL,
    "text": T.TEXT,
    "date": T.DATE,
    "range": T.RATING,
    "note": T.NOTE,
}
_TYPE_NAMES = {
    "calculate": "计算题（calculate）",
    "geopoint": "位置（geopoint）",
    "geotrace": "轨迹（geotrace）",
    "geoshape": "区域（geoshape）",
    "image": "图片（image）",
    "audio": "录音（audio）",
    "video": "视频（video）",
    "file": "文件（file）",
    "barcode": "条码（barcode）",
    "time": "时间（time）",
    "dateTime": "日期时间（dateTime）",
    "acknowledge": "确认（acknowledge）",
    "hidden": "隐藏字段（hidden）",
    "rank": "排序题（rank）",
}
_CHOICE_KEYS = {"name", "label", "media", "image", "audio", "video", "list_name"}


def _text(value: Any) -> str:
    """A label, hint or message in Chinese when the form has several languages."""
    if value is None:
        return ""
    if isinstance(value, dict):
        for key in value:
            if any(mark in str(key) for mark in ("Chinese", "zh", "中文")):
                return str(value[key]).strip()
        if "default" in value:
            return str(value["default"]).strip()
        return str(next(iter(value.values()), "")).strip()
    return str(value).strip()


def _sheet_rows(content: bytes) -> tuple[dict[str, int], dict[str, int], dict[str, Any]]:
    """Row numbers of the survey sheet by name and by type, and the settings row."""
    from pyxform.xls2json_backends import get_xlsform

    workbook = get_xlsform(xlsform=io.BytesIO(content))
    by_name: dict[str, int] = {}
    by_type: dict[str, int] = {}
    for index, row in enumerate(workbook.survey or []):
        number = index + 2  # row 1 holds the headers
        name = str(row.get("name") or "").strip()
        if name and name not in by_name:
            by_name[name] = number
        kind = str(row.get("type") or "").strip()
        if kind:
            by_type.setdefault(kind, number)
            by_type.setdefault(kind.split(" ")[0], number)
    settings = dict((workbook.settings or [{}])[0]) if workbook.settings else {}
    return by_name, by_type, settings


def read_xlsform(content: bytes, file_name: str = "") -> FormData:
    """The questionnaire an XLSForm workbook describes, or ``XLSFormError``."""
    if not content:
        raise XLSFormError(["文件为空"])
    if len(content) > MAX_BYTES:
        raise XLSFormError([f"文件超过 {MAX_BYTES // 1024 // 1024} MB"])
    suffix = PurePath(file_name).suffix.lower() if file_name else ".xlsx"
    if suffix not in (".xlsx", ".xls"):
        raise XLSFormError(["文件应为 XLSForm 工作簿（.xlsx 或 .xls）"])
    from pyxform.xls2xform import convert

    try:
        rows, types, settings = _sheet_rows(content)
    except Exception as exc:
        raise XLSFormError([translate_error(str(exc))]) from exc
    try:
        converted = convert(xlsform=io.BytesIO(content), file_type=suffix, form_name="data")
    except Exception as exc:
        # pyxform refuses with PyXFormError; a damaged workbook can surface as anything else.
        logger.info("pyxform refused %s: %s", file_name, exc)
        raise XLSFormError([translate_error(str(exc), {**types, **rows})]) from exc
    form_json = converted._pyxform or {}
    return _Walker(rows, types, settings, PurePath(file_name).stem).form(form_json)


def _all_of(conditions: list[str]) -> str:
    """One condition from a group's and a question's own (all must hold)."""
    present = [c for c in conditions if c.strip()]
    if len(present) == 1:
        return present[0]
    return " and ".join(f"({c})" for c in present)


class _Walker:
    """Turns pyxform's JSON form into sections and questions, collecting every refusal."""

    def __init__(
        self, rows: dict[str, int], types: dict[str, int], settings: dict[str, Any], stem: str
    ) -> None:
        self.rows = rows
        self.types = types
        self.settings = settings
        self.stem = stem
        self.problems: list[str] = []
        self.seen: dict[str, int | None] = {}
        #: matrix row name -> its matrix: rows are answer keys, not questions of their own.
        self.matrix_rows: dict[str, str] = {}

    def refuse(self, row: int | None, message: str) -> None:
        self.problems.append(f"第 {row} 行：{message}" if row else message)

    def form(self, data: dict[str, Any]) -> FormData:
        code = str(self.settings.get("form_id") or "").strip() or self.stem
        if not _CODE.match(code):
            self.refuse(
                None,
                "settings 工作表的 form_id（问卷编码）应为 1–60 个字母、数字、_ 或 -，以字母或数字开头",
            )
        title = _text(data.get("title")) or str(self.settings.get("form_title") or code)
        form = FormData(
            code=code,
            title=title[:200],
            settings={
                key: str(self.settings[key])
                for key in ("form_title", "form_id", "version", "default_language", "style")
                if self.settings.get(key)
            },
        )
        loose = SectionData()
        for child in data.get("children", []):
            if child.get("type") == "group" and not self._is_matrix(child):
                if child.get("name") == "meta":
                    continue
                if loose.questions:
                    form.sections.append(loose)
                    loose = SectionData()
                section = SectionData(
                    name=child.get("name", ""),
                    label=_text(child.get("label"))[:200],
                    relevant=(child.get("bind") or {}).get("relevant", ""),
                )
                self._children(child.get("children", []), section, [])
                form.sections.append(section)
            else:
                self._child(child, loose, [])
        if loose.questions:
            form.sections.append(loose)
        questions = form.questions()
        if not any(q.type != T.NOTE for q in questions):
            self.refuse(None, "问卷没有需要作答的题目")
        if len(questions) > MAX_QUESTIONS:
            self.refuse(None, f"题目不能超过 {MAX_QUESTIONS} 道")
        self._check_expressions(form)
        if self.problems:
            raise XLSFormError(self.problems)
        return form

    def _children(
        self, children: list[dict[str, Any]], section: SectionData, conditions: list[str]
    ) -> None:
        for child in children:
            self._child(child, section, conditions)

    def _child(self, child: dict[str, Any], section: SectionData, conditions: list[str]) -> None:
        kind = child.get("type", "")
        name = child.get("name", "")
        row = self.rows.get(name)
        if kind == "group":
            if self._is_matrix(child):
                self._matrix(child, section, conditions)
                return
            if name == "meta":
                return
            # A group inside a section: its questions join the section, its condition theirs.
            relevant = (child.get("bind") or {}).get("relevant", "")
            self._children(
                child.get("children", []),
                section,
                [*conditions, relevant] if relevant else conditions,
            )
            return
        if kind == "repeat":
            self.refuse(row, f"不支持重复组（begin_repeat）“{name}”")
            return
        if kind in _METADATA:
            return
        question_type = _TYPES.get(kind)
        if question_type is None:
            label = _TYPE_NAMES.get(kind, kind)
            self.refuse(row or self.types.get(kind), f"暂不支持题型“{label}”")
            return
        question = self._question(child, question_type, conditions)
        if question is not None:
            section.questions.append(question)

    def _question(
        self, child: dict[str, Any], question_type: str, conditions: list[str]
    ) -> QuestionData | None:
        name = child.get("name", "")
        row = self.rows.get(name)
        if not self._claim(name, row):
            return None
        bind = child.get("bind") or {}
        relevant = _all_of([*conditions, bind.get("relevant", "")])
        question = QuestionData(
            name=name,
            type=question_type,
            label=_text(child.get("label"))[:500] or name,
            hint=_text(child.get("hint"))[:500],
            required=str(bind.get("required", "")).strip().lower() in _TRUE,
            relevant=relevant,
            constraint=str(bind.get("constraint", "")),
            constraint_message=_text(bind.get("jr:constraintMsg"))[:300],
            choice_filter=str(child.get("choice_filter", "") or ""),
            list_name=str(child.get("list_name") or child.get("itemset") or "")[:60],
            bank_code=str(child.get("bank", "") or "").strip(),
            row=row,
        )
        question.weight = self._weight(child, row)
        if question_type in (T.SINGLE, T.MULTIPLE):
            question.choices = self._choices(child, row)
        if question_type == T.RATING:
            question.parameters = self._scale(child, row)
        for label, text in (("显示条件", question.relevant), ("校验条件", question.constraint)):
            if len(text) > 1000:
                self.refuse(row, f"{label}不能超过 1000 个字符")
        return question

    def _claim(self, name: str, row: int | None) -> bool:
        if not _NAME.match(name or "") or len(name) > 60:
            self.refuse(row, f"名称“{name}”无效：须以字母或下划线开头，最多 60 个字符")
            return False
        if name in self.seen:
            earlier = self.seen[name]
            where = f"与第 {earlier} 行" if earlier else "与前面的题目"
            self.refuse(row, f"名称“{name}”{where}重复：本平台要求整份问卷内题目名称唯一")
            return False
        self.seen[name] = row
        return True

    def _weight(self, child: dict[str, Any], row: int | None) -> float:
        raw = str(child.get("weight", "") or "").strip()
        if not raw:
            return 0.0
        try:
            weight = float(raw)
        except ValueError:
            weight = -1.0
        if not 0 <= weight <= 1000:
            self.refuse(row, f"weight（满意度指数权重）应为 0–1000 之间的数字，实为“{raw}”")
            return 0.0
        return weight

    def _choices(self, child: dict[str, Any], row: int | None) -> list[ChoiceData]:
        choices = []
        for choice in child.get("choices") or []:
            name = str(choice.get("name", "")).strip()
            if not name or len(name) > 60 or " " in name:
                self.refuse(row, f"选项“{name}”无效：选项名称不能为空或含空格，最多 60 个字符")
                continue
            filters = {
                str(k): str(v) for k, v in choice.items() if k not in _CHOICE_KEYS and v is not None
            }
            choices.append(ChoiceData(name, _text(choice.get("label"))[:300] or name, filters))
        if not choices:
            self.refuse(row, "选择题没有选项（或使用了外部选项文件，暂不支持）")
        return choices

    def _scale(self, child: dict[str, Any], row: int | None) -> dict[str, int]:
        parameters = child.get("parameters") or {}
        try:
            start = int(str(parameters.get("start", "1")))
            end = int(str(parameters.get("end", "10")))
            step = int(str(parameters.get("step", "1")))
        except ValueError:
            self.refuse(row, "评分题（range）的 start、end、step 应为整数")
            return {}
        if step < 1 or end <= start or (end - start) // step > 20:
            self.refuse(row, "评分题（range）应从 start 到 end 递增，步长至少为 1，最多 21 档")
            return {}
        return {"start": start, "end": end, "step": step}

    @staticmethod
    def _is_matrix(group: dict[str, Any]) -> bool:
        # pyxform expands appearance "table-list" into a field-list with a label row.
        return any(
            str(c.get("name", "")).startswith("reserved_name_for_field_list_labels_")
            for c in group.get("children", [])
        )

    def _matrix(self, group: dict[str, Any], section: SectionData, conditions: list[str]) -> None:
        name = group.get("name", "")
        row = self.rows.get(name)
        if not self._claim(name, row):
            return
        label = _text(group.get("label"))
        rows: list[dict[str, str]] = []
        lists: set[str] = set()
        required = False
        choices: list[ChoiceData] = []
        for child in group.get("children", []):
            child_name = str(child.get("name", ""))
            if child_name.startswith("generated_table_list_label_"):
                label = label or _text(child.get("label"))
                continue
            if child_name.startswith("reserved_name_for_field_list_labels_"):
                continue
            child_row = self.rows.get(child_name)
            bind = child.get("bind") or {}
            if child.get("type") != "select one":
                self.refuse(child_row, "矩阵题（table-list）的每一行都应为同一选项列表的单选题")
                continue
            if bind.get("relevant") or bind.get("constraint"):
                self.refuse(child_row, "矩阵题的行不能单独设置显示条件或校验条件")
            if not self._claim(child_name, child_row):
                continue
            rows.append({"name": child_name, "label": _text(child.get("label"))[:300]})
            lists.add(str(child.get("list_name") or child.get("itemset") or ""))
            required = required or str(bind.get("required", "")).lower() in _TRUE
            if not choices:
                choices = self._choices(child, child_row)
        if len(lists) > 1:
            self.refuse(row, "矩阵题的各行应使用同一个选项列表")
        if not rows:
            self.refuse(row, "矩阵题没有行")
            return
        bind = group.get("bind") or {}
        section.questions.append(
            QuestionData(
                name=name,
                type=T.MATRIX,
                label=(label or name)[:500],
                hint=_text(group.get("hint"))[:500],
                required=required,
                relevant=_all_of([*conditions, bind.get("relevant", "")]),
                rows=rows,
                list_name=next(iter(lists), "")[:60],
                choices=choices,
                weight=self._weight(group, row),
                row=row,
            )
        )
        self.matrix_rows.update({r["name"]: name for r in rows})

    def _check_expressions(self, form: FormData) -> None:
        questions = form.questions()
        names = {q.name for q in questions}
        refused = {row: f"不能引用矩阵题的行 ${{{row}}}" for row in self.matrix_rows}
        refused.update(
            {
                q.name: f"不能引用{'说明' if q.type == T.NOTE else '矩阵题'} ${{{q.name}}}"
                for q in questions
                if q.type in (T.NOTE, T.MATRIX)
            }
        )
        for section in form.sections:
            if section.relevant:
                self._check(
                    self.rows.get(section.name), "relevant（显示条件）", section.relevant,
                    names, refused, dot=False, bare=False,
                )  # fmt: skip
        for q in questions:
            for column, text, dot, bare in (
                ("relevant（显示条件）", q.relevant, False, False),
                ("constraint（校验条件）", q.constraint, True, False),
                ("choice_filter（选项筛选）", q.choice_filter, False, True),
            ):
                if text.strip():
                    self._check(q.row, column, text, names, refused, dot=dot, bare=bare)

    def _check(
        self,
        row: int | None,
        column: str,
        text: str,
        names: set[str],
        refused: dict[str, str],
        *,
        dot: bool,
        bare: bool,
    ) -> None:
        try:
            check(text, names=names, allow_dot=dot, bare_names=bare, refused=refused)
        except ExpressionError as problem:
            self.refuse(row, f"{column}“{text[:80]}”不受支持：{problem.message}")
