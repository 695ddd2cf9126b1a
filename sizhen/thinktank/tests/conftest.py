"""Fixtures of the policy library tests: policies registered through the services by the
coordinator of the shared test city (conftest.py at the root)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sizhen.thinktank import services
from sizhen.thinktank.services import PolicyData


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def make_policy(personas: dict[str, Any]) -> Any:
    """make_policy(title, body, publish=True, **fields) -> Policy, by the coordinator."""

    def make(title: str, body: str = "", *, publish: bool = True, **fields: Any) -> Any:
        fields.setdefault("issuer", "示范市人民政府")
        fields.setdefault("level", "city")
        fields.setdefault("published_on", dt.date(2025, 3, 1))
        fields.setdefault("effective_on", fields["published_on"])
        data = PolicyData(title=title, body=body, **fields)
        return services.create_policy(data, actor=personas["coordinator"], publish=publish)

    return make
