"""Per-request context (client address, request id) that services read for the audit log."""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    client_address: str | None = None
    request_id: str = ""


# RequestContext is a frozen dataclass, so sharing the default instance is safe.
_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "sizhen_request_context",
    default=RequestContext(),  # noqa: B039
)


def current() -> RequestContext:
    return _current.get()


def bind(client_address: str | None) -> contextvars.Token[RequestContext]:
    return _current.set(RequestContext(client_address, uuid.uuid4().hex[:16]))


def reset(token: contextvars.Token[RequestContext]) -> None:
    _current.reset(token)
