"""The audit log: written in the service's transaction, append-only, with the client address."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import override_settings

from sizhen.core import context
from sizhen.core.audit import actor_fields, changed, jsonable, record_event, snapshot
from sizhen.core.models import AppendOnlyError, AuditEvent, CalendarDay
from tests.workflow_testapp.models import Ticket
from tests.workflow_testapp.services import answer_ticket, create_ticket

pytestmark = pytest.mark.django_db


class Boom(RuntimeError):
    pass


def create_ticket_then_fail(*, actor: Any, title: str) -> None:
    """A service that fails after writing its audit event, still inside its transaction."""
    with transaction.atomic():
        ticket = Ticket.objects.create(title=title)
        record_event("ticket.create", actor=actor, obj=ticket, after=snapshot(ticket))
        raise Boom("下游校验失败")


def test_failed_service_leaves_no_event_and_no_change(personas: dict[str, Any]) -> None:
    with pytest.raises(Boom):
        create_ticket_then_fail(actor=personas["coordinator"], title="失败的工单")
    assert Ticket.objects.count() == 0
    assert AuditEvent.objects.filter(action="ticket.create").count() == 0


def test_successful_service_leaves_exactly_one_event(personas: dict[str, Any]) -> None:
    actor = personas["coordinator"]
    ticket = create_ticket(actor=actor, title="营业执照办理咨询")
    events = list(AuditEvent.objects.filter(action="ticket.create"))
    assert len(events) == 1
    event = events[0]
    assert event.actor_id == actor.pk
    assert event.actor_label == "coordinator（coordinator）"
    assert event.actor_role == "coordinator"
    assert (event.object_type, event.object_id, event.object_repr) == (
        "workflow_testapp.ticket",
        str(ticket.pk),
        "营业执照办理咨询",
    )
    assert event.after == {
        "id": ticket.pk,
        "title": "营业执照办理咨询",
        "status": "new",
        "answer": "",
        "version": 0,
    }
    assert event.before is None
    # Outside a request there is no client address.
    assert (event.client_address, event.request_id) == (None, "")


def test_before_and_after_hold_only_what_changed(personas: dict[str, Any]) -> None:
    ticket = create_ticket(actor=personas["coordinator"], title="工单")
    answer_ticket(ticket, actor=personas["coordinator"], answer="已答复")
    event = AuditEvent.objects.get(action="ticket.answer")
    assert (event.before, event.after) == ({"answer": ""}, {"answer": "已答复"})


def test_system_and_anonymous_actors() -> None:
    assert actor_fields(None) == {"actor": None, "actor_label": "系统", "actor_role": ""}
    from django.contrib.auth.models import AnonymousUser

    assert actor_fields(AnonymousUser()) == {"actor": None, "actor_label": "匿名", "actor_role": ""}
    event = record_event("system.tick", actor=None, message="定时任务")
    assert (event.actor_id, event.actor_label) == (None, "系统")


def test_jsonable_and_changed() -> None:
    value = jsonable(
        {
            "when": dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
            "day": dt.date(2025, 1, 2),
            "amount": decimal.Decimal("1.50"),
            "tags": ("a", "b"),
            1: None,
        }
    )
    assert value == {
        "when": "2025-01-02T03:04:05+00:00",
        "day": "2025-01-02",
        "amount": "1.50",
        "tags": ["a", "b"],
        "1": None,
    }
    assert changed({"a": 1, "b": 2}, {"a": 1, "b": 3, "c": 4}) == (
        {"b": 2, "c": None},
        {"b": 3, "c": 4},
    )


def test_snapshot_never_holds_a_password(personas: dict[str, Any]) -> None:
    data = snapshot(personas["sysadmin"])
    assert "password" not in data
    assert data["username"] == "sysadmin"


class TestAppendOnly:
    def test_orm_refuses_update_and_delete(self) -> None:
        event = record_event("test.event", actor=None, message="原文")
        event.message = "篡改"
        with pytest.raises(AppendOnlyError):
            event.save()
        with pytest.raises(AppendOnlyError):
            event.delete()
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.filter(pk=event.pk).update(message="篡改")
        with pytest.raises(AppendOnlyError):
            AuditEvent.objects.filter(pk=event.pk).delete()
        # bulk_update runs in a transaction without a savepoint; give it one of its own.
        with pytest.raises(AppendOnlyError), transaction.atomic():
            AuditEvent.objects.bulk_update([event], ["message"])
        assert list(AuditEvent.objects.values_list("message", flat=True)) == ["原文"]

    def test_database_refuses_raw_update(self) -> None:
        event = record_event("test.event", actor=None, message="原文")
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "UPDATE core_auditevent SET message = %s WHERE id = %s", ["篡改", event.pk]
            )
        assert AuditEvent.objects.get(pk=event.pk).message == "原文"

    def test_database_refuses_raw_delete_on_postgresql(self) -> None:
        if connection.vendor != "postgresql":
            pytest.skip("SQLite has no DELETE trigger: the test runner's flush deletes rows")
        event = record_event("test.event", actor=None, message="原文")
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [event.pk])
        assert AuditEvent.objects.filter(pk=event.pk).count() == 1


class TestClientAddress:
    def post_calendar_day(self, client: Any, **headers: Any) -> AuditEvent:
        response = client.post(
            "/system/calendar/day/",
            {"date": "2025-10-09", "kind": "holiday", "name": "", "note": ""},
            **headers,
        )
        assert response.status_code == 302
        assert CalendarDay.objects.filter(date="2025-10-09").count() == 1
        return AuditEvent.objects.get(action="calendar.set_day")

    def test_remote_addr_is_recorded(self, client_for: Any) -> None:
        event = self.post_calendar_day(client_for("sysadmin"), REMOTE_ADDR="198.51.100.23")
        assert event.client_address == "198.51.100.23"
        assert len(event.request_id) == 16

    @override_settings(SIZHEN_TRUSTED_PROXIES=[])
    def test_forwarded_for_is_ignored_without_a_trusted_proxy(self, client_for: Any) -> None:
        event = self.post_calendar_day(
            client_for("sysadmin"),
            REMOTE_ADDR="198.51.100.23",
            HTTP_X_FORWARDED_FOR="203.0.113.9",
        )
        assert event.client_address == "198.51.100.23"

    @override_settings(SIZHEN_TRUSTED_PROXIES=["10.0.0.5"])
    def test_forwarded_for_from_an_untrusted_peer_is_ignored(self, client_for: Any) -> None:
        event = self.post_calendar_day(
            client_for("sysadmin"),
            REMOTE_ADDR="198.51.100.23",
            HTTP_X_FORWARDED_FOR="203.0.113.9",
        )
        assert event.client_address == "198.51.100.23"

    @override_settings(SIZHEN_TRUSTED_PROXIES=["10.0.0.5", "10.0.0.6"])
    def test_forwarded_for_through_trusted_proxies(self, client_for: Any) -> None:
        # The client may forge the left part of the header; the right-most address that is
        # not one of our proxies is the one our proxy saw.
        event = self.post_calendar_day(
            client_for("sysadmin"),
            REMOTE_ADDR="10.0.0.5",
            HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9, 10.0.0.6",
        )
        assert event.client_address == "203.0.113.9"

    def test_an_invalid_address_is_dropped_not_fatal(self) -> None:
        token = context.bind("unknown")
        try:
            event = record_event("test.event", actor=None)
        finally:
            context.reset(token)
        assert event.client_address is None
        token = context.bind("2001:db8::1")
        try:
            event = record_event("test.event", actor=None)
        finally:
            context.reset(token)
        assert event.client_address == "2001:db8::1"
