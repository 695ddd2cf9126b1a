"""Versioned caches of derived figures (派生数据缓存): per process, keyed on the newest committed
change of the data they derive from.

A writer of that data records the change in its own transaction (``changed(name)``: one
inserted ``DataChange`` row). A reader asks for the current version (one indexed ``MAX(id)``
query) and looks its entry up under it; a change committed by any process is seen by every
other process on its next request, and old entries are never read again (they age out of the
bounded LRU). A reader that read the version before a writer committed may build its entry from
the newer data and file it under the older version: harmless, the entry is newer than its key.

Entries also expire after ``SIZHEN_VERSIONED_CACHE_SECONDS`` (600 by default), so a change
recorded nowhere (an ad-hoc SQL fix in the database) shows within that time, and are keyed by
the day, as some figures depend on today's date (the grace days of a complete period).
``SIZHEN_VERSIONED_CACHE_ENTRIES`` (1000 by default) bounds each cache (0 turns caching off). Entries are shared
between the threads of a process: callers treat them as read-only.

Unlike ``core/refcache.py`` (reference rows, dropped only in the process that saved them), the
version lives in the database, so the figures never lag behind a change in another process.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import connection
from django.utils import timezone

from sizhen.core.models import DataChange

T = TypeVar("T")

_CACHES: list[VersionedCache[Any]] = []


#: Every this many changes, the older rows of a name are deleted (only the newest is read).
PRUNE_EVERY = 500


def changed(name: str) -> None:
    """Record a change of the data ``name``; call it in the writer's transaction."""
    change = DataChange.objects.create(name=name)
    if change.pk % PRUNE_EVERY == 0:
        DataChange.objects.filter(name=name, pk__lt=change.pk).delete()


def version(name: str) -> int:
    """The newest committed change of ``name`` (0 when none was recorded)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT MAX(id) FROM {DataChange._meta.db_table} WHERE name = %s",  # noqa: S608 - the table name is the model's own
            [name],
        )
        row = cursor.fetchone()
    return int(row[0] or 0) if row else 0


class VersionedCache(Generic[T]):
    """``get(key, build)`` answers ``build()``, remembered under the current version of the
    data named ``depends_on``."""

    def __init__(self, name: str, *, depends_on: str):
        self.name = name
        self.depends_on = depends_on
        self._entries: OrderedDict[Hashable, tuple[float, T]] = OrderedDict()
        self._lock = threading.Lock()
        _CACHES.append(self)

    @staticmethod
    def limit() -> int:
        return int(getattr(settings, "SIZHEN_VERSIONED_CACHE_ENTRIES", 1000))

    @staticmethod
    def seconds() -> float:
        return float(getattr(settings, "SIZHEN_VERSIONED_CACHE_SECONDS", 600))

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        limit = self.limit()
        if limit <= 0:
            return build()
        full = (version(self.depends_on), timezone.localdate(), key)
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(full)
            if entry is not None and now - entry[0] < self.seconds():
                self._entries.move_to_end(full)
                return entry[1]
        value = build()
        with self._lock:
            self._entries[full] = (now, value)
            self._entries.move_to_end(full)
            while len(self._entries) > limit:
                self._entries.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def clear_all() -> None:
    """Forget every entry of every versioned cache (tests do this before each test)."""
    for cache in _CACHES:
        cache.clear()
