"""Document numbers from the shared counter: per scheme and year, continuing after numbers
already in use, given back by a rollback, and distinct when taken at once on two connections."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from sizhen.core.models import DocumentCounter
from sizhen.core.numbering import next_number


@pytest.mark.django_db
def test_numbers_count_per_scheme_and_year_from_what_is_in_use() -> None:
    assert [next_number("a", 2026) for _ in range(3)] == [1, 2, 3]
    assert next_number("a", 2027) == 1
    assert next_number("b", 2026, start_after=lambda: 41) == 42
    # Once the row exists the highest number in use is not asked again.
    assert next_number("b", 2026, start_after=lambda: 1000) == 43
    with pytest.raises(RuntimeError), transaction.atomic():
        assert next_number("a", 2026) == 4
        raise RuntimeError("the document was not written")
    assert next_number("a", 2026) == 4
    assert sorted(DocumentCounter.objects.values_list("scheme", "year", "last_number")) == [
        ("a", 2026, 4),
        ("a", 2027, 1),
        ("b", 2026, 43),
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("counter_exists", [False, True])
def test_numbers_taken_at_once_are_distinct(counter_exists: bool) -> None:
    if counter_exists:
        next_number("race", 2026)
    first = 2 if counter_exists else 1
    barrier = threading.Barrier(4)
    taken: list[int] = []
    failures: list[str] = []

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            for _ in range(3):
                with transaction.atomic():
                    taken.append(next_number("race", 2026))
        except Exception as exc:  # surfaced by the assertion below
            failures.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert sorted(taken) == list(range(first, first + 12))
    assert DocumentCounter.objects.get(scheme="race", year=2026).last_number == first + 11
