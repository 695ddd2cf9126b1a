"""Helpers for the enterprise requests tests."""

from __future__ import annotations

from typing import Any

from sizhen.enterprise_requests import services
from sizhen.enterprise_requests.choices import Channel
from sizhen.enterprise_requests.models import EnterpriseRequest, RequestCategory


def category(code: str = "0101") -> RequestCategory:
    return RequestCategory.objects.get(code=code)


def portal_request(
    actor: Any, text: str = "企业开办时刻章环节需要跑三次，请协调解决", **kw: Any
) -> EnterpriseRequest:
    request, created = services.submit_request(
        actor=actor,
        channel=Channel.PORTAL,
        text=text,
        # Not ``kw.pop("category", category())``: the default would be looked up (and fail
        # once a transactional test has flushed the migrated taxonomy) even when one is given.
        category=kw.pop("category", None) or category(),
        **kw,
    )
    assert created
    return request


def dispatched(personas: dict[str, Any], city: dict[str, Any], **kw: Any) -> EnterpriseRequest:
    """A request of enterprise A dispatched to the district market bureau (a_dept)."""
    request = portal_request(personas["enterprise"], **kw)
    return services.dispatch_request(
        request, actor=personas["coordinator"], department=city["a_dept"]
    )
