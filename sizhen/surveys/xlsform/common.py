"""Limits and the error of XLSForm imports."""

from __future__ import annotations

from sizhen.core.errors import ServiceError

MAX_BYTES = 5 * 1024 * 1024
MAX_QUESTIONS = 500
LANGUAGE = "Chinese (zh)"


class XLSFormError(ServiceError):
    """A workbook that cannot become a questionnaire; ``problems`` are Chinese, one per row."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        head = problems[0] if len(problems) == 1 else f"XLSForm 表单有 {len(problems)} 处错误"
        super().__init__(
            head, error_list=[{"field": "xlsform", "message": problem} for problem in problems]
        )
