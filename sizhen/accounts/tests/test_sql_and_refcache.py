"""The building blocks of composed statements (sizhen/core/sql.py) and the per-process
reference caches (sizhen/core/refcache.py), tested here on the token and region models they
serve (core itself imports no domain app)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sizhen.accounts.models import ApiToken
from sizhen.accounts.services import create_api_token, hash_token
from sizhen.core import refcache
from sizhen.core.models import AuditEvent, Job
from sizhen.core.sql import row_document, row_values, select_one_with_chain
from sizhen.organisations.models import Region
from sizhen.organisations.selectors import REGIONS_BY_CODE, region_by_code


@pytest.mark.django_db
def test_select_one_with_chain_gives_what_select_related_gives(personas, city):
    token, secret = create_api_token(
        actor=personas["sysadmin"],
        name="12345热线",
        department=city["office"],
        scopes=["requests:write", "requests:read"],
    )
    ApiToken.objects.filter(pk=token.pk).update(
        last_used_at=timezone.now() - dt.timedelta(hours=1), last_used_address="10.1.2.3"
    )
    expected = ApiToken.objects.select_related("department__region").get(pk=token.pk)
    with CaptureQueriesContext(connection) as queries:
        found = select_one_with_chain(
            ApiToken, ("department", "region"), "key_hash", hash_token(secret)
        )
        assert found is not None
        # The whole chain came in the one statement: reading it costs no query.
        assert found.department.region.path == city["office"].region.path
    assert len(queries) == 1
    for field in ApiToken._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    assert sorted(found.scopes) == ["requests:read", "requests:write"]  # decoded, not text
    assert found.department == expected.department
    assert found.department.name == expected.department.name
    assert found.department.region == expected.department.region
    assert found._state.adding is False
    assert select_one_with_chain(ApiToken, ("department",), "key_hash", "0" * 64) is None


@pytest.mark.django_db
def test_select_one_with_chain_leaves_a_missing_link_empty(personas):
    user = personas["enterprise"]
    assert user.department_id is None
    found = select_one_with_chain(get_user_model(), ("department", "region"), "id", user.pk)
    assert found is not None and found.pk == user.pk
    with CaptureQueriesContext(connection) as queries:
        assert found.department is None
    assert len(queries) == 0


@pytest.mark.django_db
def test_row_values_are_what_save_would_write(personas):
    event = AuditEvent(
        action="x.test", actor_label="系统", after={"a": [1, "二"]}, client_address="10.0.0.1"
    )
    values = row_values(event)
    assert "id" not in values
    assert values["action"] == "x.test"
    assert values["after"] == {"a": [1, "二"]}  # JSON columns keep their value
    # The model default (not the database's), prepared for this database.
    assert values["at"] == AuditEvent._meta.get_field("at").get_db_prep_save(event.at, connection)
    document = json.loads(row_document(event))
    assert document["at"] in (event.at.isoformat(), values["at"])
    assert document["client_address"] == "10.0.0.1"
    assert document["before"] is None


def test_row_values_refuse_an_expression():
    job = Job(name="x", progress_done=F("progress_done") + 1)
    with pytest.raises(TypeError, match="progress_done"):
        row_values(job)


@pytest.mark.django_db
def test_reference_cache_serves_repeats_from_memory_and_forgets_on_save(city, settings):
    settings.SIZHEN_REFERENCE_CACHE_SECONDS = 60
    with CaptureQueriesContext(connection) as queries:
        first = region_by_code("449901")
        again = region_by_code("449901")
    assert first is again and first is not None
    assert len(queries) == 1
    # A save in this process drops the cache at once.
    first.name = "东湖新区"
    first.save()
    with CaptureQueriesContext(connection) as queries:
        assert region_by_code("449901").name == "东湖新区"
    assert len(queries) == 1
    # Misses are not cached: a code created a moment later is found.
    assert region_by_code("449977") is None
    Region.objects.create(code="449977", name="新设区", level="district", parent=city["root"])
    assert region_by_code("449977") is not None


@pytest.mark.django_db
def test_reference_cache_entries_expire(city, settings, monkeypatch):
    settings.SIZHEN_REFERENCE_CACHE_SECONDS = 60
    clock = {"now": 1000.0}
    monkeypatch.setattr(refcache.time, "monotonic", lambda: clock["now"])
    assert region_by_code("449902") is not None
    # Another process renames the region (no signal here): seen once the entry expires.
    Region.objects.filter(code="449902").update(name="西山新区")
    clock["now"] += 59
    assert region_by_code("449902").name == "西山区"
    clock["now"] += 2
    assert region_by_code("449902").name == "西山新区"


@pytest.mark.django_db
def test_reference_cache_off(city, settings):
    settings.SIZHEN_REFERENCE_CACHE_SECONDS = 0
    region_by_code("449901")
    assert REGIONS_BY_CODE._entries == {}
    with CaptureQueriesContext(connection) as queries:
        region_by_code("449901")
    assert len(queries) == 1
