"""The one service error (业务校验未通过): a service refuses with a message in Chinese, shown as
is to the person (``core.views.run_service`` on pages) or to the client (the API's handler for
``ServiceError`` in ``config/api.py``: ``{"detail": message}`` with ``status_code``, and
``errors`` when the refusal lists several reasons).

Apps subclass it only to be caught apart (``TaskError``, ``FillingError`` …); the workflow
engine's ``WorkflowError`` is one too, and a stale intent (``TransitionConflict``) answers 409.
"""

from __future__ import annotations


class ServiceError(Exception):
    """A refused service call. ``message``: Chinese, for the user; ``code``: a stable
    machine-readable reason ("refused", "conflict", …); ``status_code``: what the API answers."""

    code = "refused"
    status_code = 400

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        error_list: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        #: Itemised reasons (each with at least ``field`` and ``message``), answered by the API
        #: beside ``detail`` as a 422's ``errors`` are (docs/api.md, "Errors").
        self.error_list = list(error_list or [])

    def __str__(self) -> str:
        return self.message


__all__ = ["ServiceError"]
