"""Fixtures of the work-task tests: a settable 'today', uploads under a temporary MEDIA_ROOT."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from sizhen.work_tasks import services


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[dt.date], None]:
    """clock(date) makes the services see that date as today."""

    def set_today(day: dt.date) -> None:
        monkeypatch.setattr(services, "today", lambda: day)

    return set_today
