"""Per-process caches of reference rows looked up by a natural key on hot paths (a request
category or a region by its code, on every machine-submitted request).

Like Django's own ContentType cache, but bounded in time: an entry lives
``SIZHEN_REFERENCE_CACHE_SECONDS`` (60 by default) and is dropped at once in the process that
saves or deletes a row of the model (signals). Another process may therefore use a row as it
was for up to that long after an edit (a category deactivated a minute ago may still be
accepted by the intake API): reference data, edited rarely, where that is acceptable; never
permissions or tokens. Misses are not cached (a code created a moment ago is found at once).
Tests clear every cache before each test (conftest.py). See
docs/decisions/0008-single-statement-intake.md."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import models
from django.db.models.signals import post_delete, post_save

M = TypeVar("M", bound=models.Model)

_CACHES: list[ReferenceCache[Any]] = []


class ReferenceCache(Generic[M]):
    """``get(key)`` answers ``load(key)`` (a row or None), remembering rows for a while."""

    def __init__(self, model: type[M], load: Callable[[str], M | None], *, name: str):
        self.model = model
        self.load = load
        self.name = name
        self._entries: dict[str, tuple[float, M]] = {}
        self._lock = threading.Lock()
        # weak=False: the receiver is a bound method of a module-level cache that lives as
        # long as the process; dispatch_uid keeps a re-imported module from connecting twice.
        for signal in (post_save, post_delete):
            signal.connect(self._changed, sender=model, weak=False, dispatch_uid=f"refcache:{name}")
        _CACHES.append(self)

    @staticmethod
    def seconds() -> float:
        return float(getattr(settings, "SIZHEN_REFERENCE_CACHE_SECONDS", 60))

    def get(self, key: str) -> M | None:
        ttl = self.seconds()
        now = time.monotonic()
        if ttl > 0:
            entry = self._entries.get(key)
            if entry is not None and now - entry[0] < ttl:
                return entry[1]
        row = self.load(key)
        if row is not None and ttl > 0:
            with self._lock:
                self._entries[key] = (now, row)
        return row

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def _changed(self, **kwargs: Any) -> None:
        self.clear()


def clear_all() -> None:
    """Forget every cached row (tests do this before each test)."""
    for cache in _CACHES:
        cache.clear()
