"""Versioned caches (sizhen/core/versions.py): an entry is built once per version of its data,
a change recorded by any writer makes the next read build again, the cache stays bounded, and
entries expire."""

from __future__ import annotations

import pytest
from django.db import transaction

from sizhen.core import versions
from sizhen.core.models import DataChange


@pytest.fixture
def cache() -> versions.VersionedCache[list[int]]:
    made = versions.VersionedCache[list[int]]("test", depends_on="test_data")
    yield made
    versions._CACHES.remove(made)


def builder(calls: list[str], name: str):
    def build() -> list[int]:
        calls.append(name)
        return [len(calls)]

    return build


@pytest.mark.django_db
def test_an_entry_is_built_once_per_version(cache):
    calls: list[str] = []
    assert versions.version("test_data") == 0
    first = cache.get("a", builder(calls, "a"))
    assert cache.get("a", builder(calls, "a")) is first
    cache.get("b", builder(calls, "b"))
    assert calls == ["a", "b"]

    versions.changed("test_data")
    versions.changed("other_data")  # another kind of data: its own version
    assert versions.version("test_data") > 0
    assert cache.get("a", builder(calls, "a")) == [3]
    assert calls == ["a", "b", "a"]


@pytest.mark.django_db(transaction=True)
def test_a_change_rolled_back_is_no_change(cache):
    calls: list[str] = []
    cache.get("a", builder(calls, "a"))
    with pytest.raises(RuntimeError), transaction.atomic():
        versions.changed("test_data")
        raise RuntimeError("the writer failed")
    cache.get("a", builder(calls, "a"))
    assert calls == ["a"]
    assert versions.version("test_data") == 0


@pytest.mark.django_db
def test_bounded_and_expiring_and_off(cache, settings, monkeypatch):
    calls: list[str] = []
    settings.SIZHEN_VERSIONED_CACHE_ENTRIES = 2
    for key in ("a", "b", "c"):
        cache.get(key, builder(calls, key))
    assert len(cache) == 2
    cache.get("a", builder(calls, "a"))  # "a" was the least recently used: dropped
    assert calls == ["a", "b", "c", "a"]

    clock = [1000.0]
    monkeypatch.setattr(versions.time, "monotonic", lambda: clock[0])
    settings.SIZHEN_VERSIONED_CACHE_SECONDS = 60
    cache.get("d", builder(calls, "d"))
    clock[0] += 59
    cache.get("d", builder(calls, "d"))
    clock[0] += 2  # a change recorded nowhere shows after the expiry
    cache.get("d", builder(calls, "d"))
    assert calls[-2:] == ["d", "d"] and calls.count("d") == 2

    settings.SIZHEN_VERSIONED_CACHE_ENTRIES = 0
    cache.get("e", builder(calls, "e"))
    cache.get("e", builder(calls, "e"))
    assert calls.count("e") == 2


@pytest.mark.django_db
def test_old_changes_are_pruned_and_the_newest_kept(monkeypatch):
    monkeypatch.setattr(versions, "PRUNE_EVERY", 3)
    for _ in range(7):
        versions.changed("test_data")
    newest = versions.version("test_data")
    remaining = list(DataChange.objects.filter(name="test_data").values_list("pk", flat=True))
    assert newest == max(remaining)
    assert len(remaining) < 7
