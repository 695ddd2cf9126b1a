"""Property-based fuzzing of /api/v1 from its own OpenAPI schema (schemathesis): whatever a
client sends, valid or not, the API never answers 5xx, and every error has the documented
shape (docs/api.md, "Errors"): a JSON object whose ``detail`` is a Chinese sentence.

Bounded: a few examples per operation, generation mode and caller, so it runs in the normal
suite; raise FUZZ_EXAMPLES locally for a longer hunt."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from sizhen.accounts.models import ApiTokenScope
from sizhen.accounts.services import create_api_token

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def wsgi_app() -> Iterator[WSGIHandler]:
    # As in django.test.Client: a request must not close the test's connection mid-transaction.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


@pytest.fixture
def callers(personas: dict[str, Any], city: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Request extras of a city-wide machine token with every scope and of the coordinator's
    browser session (with its CSRF token)."""
    _, secret = create_api_token(
        actor=personas["sysadmin"],
        name="模糊测试",
        department=city["office"],
        scopes=list(ApiTokenScope.values),
    )
    browser = Client()
    browser.force_login(personas["coordinator"])
    csrf = _get_new_csrf_string()
    return {
        "token": {"headers": {"Authorization": f"Bearer {secret}"}},
        "session": {
            "headers": {"X-CSRFToken": csrf},
            "cookies": {"sessionid": browser.cookies["sessionid"].value, "csrftoken": csrf},
        },
    }


def problem(response: Any) -> str | None:
    """What is wrong with this answer, or None."""
    if response.status_code >= 500:
        return "server error"
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return "error body is not JSON"
    if not isinstance(body, dict):
        return "error body is not an object"
    if "detail" not in body and body.get("status") == "rejected" and response.status_code == 422:
        return None  # a rejected records push answers its batch (docs/api.md)
    detail = body.get("detail")
    if not isinstance(detail, str) or not CHINESE.search(detail):
        return "detail is not a Chinese sentence"
    if response.status_code == 422 and not all(
        {"field", "message"} <= set(e) for e in body.get("errors", [])
    ):
        return "422 errors without field and message"
    return None


@pytest.mark.parametrize("caller", ["token", "session"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors_and_every_error_in_the_documented_shape(
    wsgi_app: WSGIHandler, callers: dict[str, dict[str, Any]], caller: str, mode: GenerationMode
) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi_app)
    found: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            response = case.call(**callers[caller])
            wrong = problem(response)
            if wrong:
                found.append(
                    f"{wrong}: {case.method} {case.formatted_path} query={case.query} "
                    f"body={str(case.body)[:200]} -> {response.status_code} {response.text[:300]}"
                )

        check()
    assert found == []
