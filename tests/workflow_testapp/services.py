"""Writes for the test-only Ticket, written the way every domain app writes its services."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from sizhen.core.audit import changed, record_event, snapshot
from tests.workflow_testapp.models import Ticket


def create_ticket(*, actor: Any, title: str) -> Ticket:
    with transaction.atomic():
        ticket = Ticket.objects.create(title=title)
        record_event("ticket.create", actor=actor, obj=ticket, after=snapshot(ticket))
    return ticket


def answer_ticket(ticket: Ticket, *, actor: Any, answer: str) -> Ticket:
    with transaction.atomic():
        locked = Ticket.objects.select_for_update().get(pk=ticket.pk)
        before = snapshot(locked, ["answer"])
        locked.answer = answer
        locked.save(update_fields=["answer"])
        old, new = changed(before, snapshot(locked, ["answer"]))
        record_event("ticket.answer", actor=actor, obj=locked, before=old, after=new)
    ticket.refresh_from_db()
    return ticket
