"""pyxform's English messages in Chinese, with their row."""

from __future__ import annotations

import re
from collections.abc import Mapping

_ROW = re.compile(r"^\[row\s*:\s*(\d+)\]\s*")

_SHEETS = {"survey": "survey（题目）", "choices": "choices（选项）", "settings": "settings（设置）"}
_COLUMNS = {
    "name": "name（名称）",
    "label": "label（标题）",
    "type": "type（题型）",
    "relevant": "relevant（显示条件）",
    "constraint": "constraint（校验条件）",
    "required": "required（必答）",
    "choice_filter": "choice_filter（选项筛选）",
    "parameters": "parameters（参数）",
    "list_name": "list_name（列表名）",
}

#: (pattern on pyxform's message, Chinese template); groups fill the template.
_TRANSLATIONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE | re.DOTALL), template)
    for pattern, template in (
        (r"Unknown question type '([^']*)'", "未知的题型“{0}”"),
        (r"List name not in choices sheet: (\S+)", "选项工作表 choices 中没有名为“{0}”的选项列表"),
        (
            r"There should be a choices sheet",
            "缺少选项工作表 choices（须有 list_name、name、label 三列）",
        ),
        (
            r"the 'name' value '([^']*)' is invalid\. Questions, groups, and repeats must be unique",
            "名称“{0}”重复：同一组内的题目和分组名称必须唯一",
        ),
        (
            r"The survey element named '([^']*)' has no label or hint",
            "题目“{0}”缺少标题（label）",
        ),
        (
            r"the 'name' value is invalid\. Names must begin with a letter",
            "名称无效：须以字母或下划线开头，之后只能包含字母、数字、下划线、连字符或点",
        ),
        (
            r"On the '(\w+)' sheet, the '(\w+)' value is invalid\. Reference variables must contain a name from the 'survey' sheet\. Could not find the name '([^']*)'",
            "{1}列引用了不存在的题目 ${{{2}}}",
        ),
        (r"Unmatched 'begin_(group|repeat)'.*?name '([^']*)'", "begin_{0}“{1}”没有对应的 end_{0}"),
        (r"Unmatched 'end_(group|repeat)'", "end_{0} 没有对应的 begin_{0}"),
        (
            r"On the 'choices' sheet, the 'name' value is invalid\. Choice names must be unique",
            "选项名称重复：同一选项列表内的选项名称必须唯一",
        ),
        (
            r"On the 'choices' sheet, the 'name' value is invalid",
            "选项缺少名称（name）或名称无效",
        ),
        (
            r"On the 'choices' sheet, the 'label' value is invalid",
            "选项缺少标题（label）",
        ),
        (r"not recognized as a supported type", "文件不是有效的 XLSForm 工作簿（应为 .xlsx）"),
        (r"must have a sheet named 'survey'", "缺少题目工作表 survey"),
        (r"Question or group with no name", "题目或分组缺少名称（name）"),
        (r"Missing calculation", "计算题（calculate）缺少 calculation 列（本平台暂不支持计算题）"),
        (r"the 'parameters' value is invalid\.\s*(.*)", "参数（parameters）无效：{0}"),
        (r"On the '(\w+)' sheet, the '(\w+)' value is invalid", "{0}工作表的{1}列取值无效"),
    )
)


def _zh(value: str) -> str:
    return _SHEETS.get(value, _COLUMNS.get(value, value))


def translate_error(message: str, rows: Mapping[str, int] | None = None) -> str:
    """pyxform's English message in Chinese, with its row (``第 N 行：…``). A message without a
    row gets the row of the name or type it quotes, when ``rows`` knows it."""
    text = " ".join(str(message).split())
    row = None
    match = _ROW.match(text)
    if match:
        row = int(match.group(1))
        text = text[match.end() :]
    translated = None
    for pattern, template in _TRANSLATIONS:
        found = pattern.search(text)
        if found:
            translated = template.format(*(_zh(g or "") for g in found.groups()))
            if row is None and rows:
                for quoted in found.groups():
                    if quoted and quoted in rows:
                        row = rows[quoted]
                        break
            break
    if translated is None:
        translated = f"XLSForm 表单有误（{text[:300]}）"
    return f"第 {row} 行：{translated}" if row else translated
