"""``insert_rows``: the bulk INSERT of the recompute's hot path stores what the ORM would."""

import datetime as dt

import pytest
from django.utils import timezone

from sizhen.core.models import CalendarDay, CalendarDayKind, Job, JobStatus
from sizhen.core.sql import insert_rows

pytestmark = pytest.mark.django_db


def test_rows_read_back_as_the_orm_stores_them():
    before = timezone.now()
    count = insert_rows(
        Job,
        [
            {
                "name": "demo.a",
                "kwargs": {"区": "南湾区", "n": [1, 2]},
                "status": JobStatus.SUCCEEDED,
            },
            {"name": "demo.b", "key": "k-1", "progress_total": 7},
        ],
    )
    assert count == 2
    a, b = Job.objects.order_by("name")
    assert (a.name, a.kwargs, a.status, a.key) == (
        "demo.a",
        {"区": "南湾区", "n": [1, 2]},
        JobStatus.SUCCEEDED,
        None,
    )
    # Left out: the model's defaults, as Job(...).save() gives them.
    assert (b.kwargs, b.status, b.key, b.progress_total, b.max_attempts) == (
        {},
        Job._meta.get_field("status").get_default(),
        "k-1",
        7,
        3,
    )
    assert a.run_after >= before and b.created_at >= before


def test_dates_repeat_and_auto_now_is_the_calls_instant():
    before = timezone.now()
    day = dt.date(2026, 10, 1)
    insert_rows(
        CalendarDay,
        [
            {"date": day, "kind": CalendarDayKind.choices[0][0], "name": "国庆节"},
            {"date": day + dt.timedelta(days=1), "kind": CalendarDayKind.choices[0][0]},
            # A value given for auto_now is overwritten as save() would.
            {
                "date": day + dt.timedelta(days=2),
                "kind": CalendarDayKind.choices[0][0],
                "updated_at": before - dt.timedelta(days=30),
            },
        ],
    )
    rows = list(CalendarDay.objects.filter(date__gte=day).order_by("date"))
    assert [r.date for r in rows] == [day, day + dt.timedelta(days=1), day + dt.timedelta(days=2)]
    assert [r.name for r in rows] == ["国庆节", "", ""]
    assert len({r.updated_at for r in rows}) == 1 and rows[0].updated_at >= before


def test_an_unknown_field_is_refused_and_nothing_is_stored():
    with pytest.raises(TypeError, match="no field colour"):
        insert_rows(Job, [{"name": "demo.a"}, {"name": "demo.b", "colour": "red"}])
    assert not Job.objects.filter(name__startswith="demo.").exists()


def test_no_rows_is_no_statement(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert insert_rows(Job, []) == 0
