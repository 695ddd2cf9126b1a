"""The one service error: its message, code and API status, the page helper that shows it, and
the API handler that answers it."""

from __future__ import annotations

import json

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from sizhen.core.errors import ServiceError
from sizhen.core.views import run_service
from sizhen.core.workflow import TransitionConflict, TransitionNotAllowed, WorkflowError


def _request():
    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def _shown(request) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(request)]


def test_service_error_carries_message_code_and_status():
    refused = ServiceError("只有营商办可以下发任务")
    assert (refused.message, str(refused), refused.code, refused.status_code) == (
        "只有营商办可以下发任务",
        "只有营商办可以下发任务",
        "refused",
        400,
    )
    assert ServiceError("x", code="invalid_unit").code == "invalid_unit"
    conflict = TransitionConflict("该记录已被他人处理，请刷新后重试")
    assert (conflict.code, conflict.status_code) == ("conflict", 409)
    assert isinstance(TransitionNotAllowed("不能办理"), WorkflowError)
    assert TransitionNotAllowed("不能办理").status_code == 400


def test_app_errors_are_service_errors():
    from sizhen.enterprise_requests.report import ReportError
    from sizhen.enterprise_requests.services import RequestError
    from sizhen.indicators.catalogue.defaults import CatalogueError
    from sizhen.indicators.filling.services import FillingError
    from sizhen.indicators.ingestion.fetching import PullError
    from sizhen.rectification.services import RectificationError
    from sizhen.work_tasks.services import TaskError

    for error in (ReportError, RequestError, CatalogueError, FillingError, PullError, TaskError):
        assert issubclass(error, ServiceError), error
        assert error("原因").status_code == 400
    # Rectification steps refused by the item's state answer 409 (docs/api.md).
    assert RectificationError("没有整改佐证材料，不能销号").status_code == 409
    # Callers that read these as ValueError still do.
    assert issubclass(ReportError, ValueError) and issubclass(CatalogueError, ValueError)


def test_run_service_shows_the_refusal_and_skips_the_rest():
    request = _request()
    reached = []
    with run_service(request) as outcome:
        raise TransitionConflict("该任务已被他人处理，请刷新后重试")
        reached.append("after")  # pragma: no cover
    assert outcome.ok is False
    assert reached == []
    assert _shown(request) == [("error", "该任务已被他人处理，请刷新后重试")]


def test_run_service_shows_validation_messages_by_field_and_plain():
    request = _request()
    with run_service(request) as outcome:
        raise ValidationError(
            {"note": "请填写进展说明", "percent": ["完成进度应为 0–100 之间的整数"]}
        )
    assert outcome.ok is False
    with run_service(request) as plain:
        raise ValidationError(["文件类型不允许", "文件过大"])
    assert plain.ok is False
    assert _shown(request) == [
        ("error", "请填写进展说明"),
        ("error", "完成进度应为 0–100 之间的整数"),
        ("error", "文件类型不允许"),
        ("error", "文件过大"),
    ]


def test_run_service_lets_the_block_finish_and_other_errors_through():
    request = _request()
    with run_service(request) as outcome:
        value = 1 + 1
    assert (outcome.ok, value, _shown(request)) == (True, 2, [])
    with pytest.raises(KeyError), run_service(request):
        raise KeyError("a bug is not a refusal")
    assert _shown(request) == []


def test_api_handler_answers_detail_and_status():
    from config.api import api, service_error

    response = service_error(RequestFactory().get("/api/v1/x"), TransitionConflict("已被他人处理"))
    assert response.status_code == 409
    assert json.loads(response.content) == {"detail": "已被他人处理"}
    assert api._exception_handlers[ServiceError] is service_error
