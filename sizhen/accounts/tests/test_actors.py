"""The two kinds of actor: a person (``User``) and an API token's machine client
(``TokenActor``); which of them a foreign key records, and which one holds token scopes."""

from __future__ import annotations

import pytest

from sizhen.accounts import services
from sizhen.accounts.models import ApiTokenScope, TokenActor, acting_user
from sizhen.core.access import is_machine
from sizhen.core.jobs import enqueue

pytestmark = pytest.mark.django_db

PEOPLE = [
    "leader",
    "coordinator",
    "lead_department",
    "responsible_department",
    "district_a",
    "enterprise",
    "sysadmin",
]


def _machine(personas, city) -> TokenActor:  # type: ignore[no-untyped-def]
    token, _secret = services.create_api_token(
        actor=personas["sysadmin"],
        name="办件推送",
        department=city["a_dept"],
        scopes=[ApiTokenScope.RECORDS_WRITE],
    )
    return TokenActor(token)


def test_a_person_is_recorded_as_the_user_a_token_and_the_system_as_nobody(personas, city):
    for name in PEOPLE:
        assert acting_user(personas[name]) is personas[name]
    assert acting_user(_machine(personas, city)) is None
    assert acting_user(None) is None


def test_only_a_token_is_a_machine_with_scopes(personas, city):
    machine = _machine(personas, city)
    assert is_machine(machine) is True
    assert machine.has_scope(ApiTokenScope.RECORDS_WRITE) is True
    assert machine.has_scope(ApiTokenScope.READ) is False
    for name in PEOPLE:
        assert is_machine(personas[name]) is False
    assert is_machine(None) is False


def test_a_job_queued_by_a_token_records_no_user(personas, city):
    by_token = enqueue("core.deliver_notifications", created_by=_machine(personas, city))
    by_person = enqueue("core.deliver_notifications", key="b", created_by=personas["coordinator"])
    by_token.refresh_from_db()
    by_person.refresh_from_db()
    assert by_token.created_by_id is None
    assert by_person.created_by_id == personas["coordinator"].pk
