"""The errors of the survey services, and small helpers they share."""

from __future__ import annotations

from sizhen.core.errors import ServiceError
from sizhen.surveys.validation import AnswerError


class SurveyError(ServiceError):
    """A refused survey write; the message is shown to the user (Chinese)."""


class SurveyConflict(SurveyError):
    """The state refuses the write: no open round, already answered, link used (409)."""

    code = "conflict"
    status_code = 409


class AnswersRejected(SurveyError):
    """Answers that do not pass the questionnaire: every error, itemised (422)."""

    code = "invalid_answers"
    status_code = 422

    def __init__(self, errors: list[AnswerError]) -> None:
        self.answer_errors = errors
        first = "；".join(f"{e.question}：{e.message}" for e in errors[:3])
        more = f" 等 {len(errors)} 处" if len(errors) > 3 else ""
        super().__init__(f"答卷有误：{first}{more}", error_list=[e.as_dict() for e in errors])
