"""The workflow engine, proven on the test-only Ticket (tests/workflow_testapp)."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

import pytest
from django.db import connection

from sizhen.core.access import get_visible_or_404
from sizhen.core.models import AuditEvent, TransitionHistory
from sizhen.core.workflow import (
    Transition,
    TransitionConflict,
    TransitionNotAllowed,
    Workflow,
    execute_transition,
    execute_transitions,
    history_of,
    workflow_of,
)
from tests.workflow_testapp.models import TICKET_WORKFLOW, Ticket
from tests.workflow_testapp.services import answer_ticket, create_ticket


def transition_events() -> list[tuple[str, Any, Any]]:
    return list(
        AuditEvent.objects.filter(action__startswith="ticket.")
        .exclude(action__in=["ticket.create", "ticket.answer"])
        .order_by("id")
        .values_list("action", "before", "after")
    )


@pytest.mark.django_db
class TestExecuteTransition:
    def test_each_transition_writes_one_history_row_and_one_event(
        self, personas: dict[str, Any]
    ) -> None:
        coordinator = personas["coordinator"]
        ticket = create_ticket(actor=coordinator, title="工单")
        execute_transition(ticket, "accept", actor=coordinator, note="已接收")
        assert (ticket.status, ticket.version) == ("accepted", 1)
        answer_ticket(ticket, actor=coordinator, answer="已答复")
        execute_transition(ticket, "finish", actor=personas["responsible_department"])
        assert (ticket.status, ticket.version) == ("done", 2)

        rows = list(
            history_of(ticket).values_list(
                "workflow", "action", "action_label", "from_state", "to_state", "actor_id", "note"
            )
        )
        assert rows == [
            ("ticket", "accept", "受理", "new", "accepted", coordinator.pk, "已接收"),
            (
                "ticket",
                "finish",
                "办结",
                "accepted",
                "done",
                personas["responsible_department"].pk,
                "",
            ),
        ]
        assert transition_events() == [
            ("ticket.accept", {"status": "new"}, {"status": "accepted"}),
            ("ticket.finish", {"status": "accepted"}, {"status": "done"}),
        ]
        assert TransitionHistory.objects.count() == 2

    def test_role_guard(self, personas: dict[str, Any]) -> None:
        ticket = create_ticket(actor=personas["coordinator"], title="工单")
        for name in ("district_a", "enterprise", "sysadmin"):
            with pytest.raises(TransitionNotAllowed, match="您的角色无权执行“受理”"):
                execute_transition(ticket, "accept", actor=personas[name])
        with pytest.raises(TransitionNotAllowed, match="您的角色无权执行“受理”"):
            execute_transition(ticket, "accept", actor=None)
        self.assert_unchanged(ticket, "new")

    def test_guard_function_message(self, personas: dict[str, Any]) -> None:
        ticket = create_ticket(actor=personas["coordinator"], title="工单")
        execute_transition(ticket, "accept", actor=personas["coordinator"])
        with pytest.raises(TransitionNotAllowed, match=r"^办结前须填写答复$"):
            execute_transition(ticket, "finish", actor=personas["coordinator"])
        self.assert_unchanged(ticket, "accepted", history=1)

    def test_note_required(self, personas: dict[str, Any]) -> None:
        ticket = create_ticket(actor=personas["coordinator"], title="工单")
        with pytest.raises(TransitionNotAllowed, match="“撤销”需要填写理由"):
            execute_transition(ticket, "cancel", actor=personas["coordinator"], note="   ")
        self.assert_unchanged(ticket, "new")
        execute_transition(ticket, "cancel", actor=personas["coordinator"], note="企业撤回")
        assert ticket.status == "cancelled"
        assert history_of(ticket).get().note == "企业撤回"
        assert AuditEvent.objects.get(action="ticket.cancel").message == "企业撤回"

    def test_terminal_state_is_refused(self, personas: dict[str, Any]) -> None:
        ticket = create_ticket(actor=personas["coordinator"], title="工单")
        execute_transition(ticket, "cancel", actor=personas["coordinator"], note="重复")
        for action in ("accept", "cancel", "finish"):
            with pytest.raises(TransitionNotAllowed, match="“已撤销”是终结状态，不能再办理"):
                execute_transition(ticket, action, actor=personas["coordinator"], note="再试")
        self.assert_unchanged(ticket, "cancelled", history=1)

    def test_action_not_available_in_this_state(self, personas: dict[str, Any]) -> None:
        ticket = create_ticket(actor=personas["coordinator"], title="工单")
        with pytest.raises(TransitionNotAllowed, match="当前状态“新建”下不能执行该操作（finish）"):
            execute_transition(ticket, "finish", actor=personas["coordinator"])
        with pytest.raises(TransitionNotAllowed, match="（fly）"):
            execute_transition(ticket, "fly", actor=personas["coordinator"])
        self.assert_unchanged(ticket, "new")

    def test_stale_state_is_a_conflict(self, personas: dict[str, Any]) -> None:
        coordinator = personas["coordinator"]
        ticket = create_ticket(actor=coordinator, title="工单")
        stale = Ticket.objects.get(pk=ticket.pk)
        execute_transition(ticket, "accept", actor=coordinator)
        # The stale copy still says "new": acting on it would cancel work already accepted.
        with pytest.raises(TransitionConflict, match="当前状态为“已受理”，请刷新后重试"):
            execute_transition(stale, "cancel", actor=coordinator, note="撤销")
        self.assert_unchanged(ticket, "accepted", history=1)

    def test_changes_may_not_set_the_state(self, personas: dict[str, Any]) -> None:
        ticket = create_ticket(actor=personas["coordinator"], title="工单")
        with pytest.raises(ValueError):
            execute_transition(
                ticket, "accept", actor=personas["coordinator"], changes={"status": "done"}
            )
        self.assert_unchanged(ticket, "new")

    def test_changes_and_history_data_are_recorded(self, personas: dict[str, Any]) -> None:
        import datetime as dt

        ticket = create_ticket(actor=personas["coordinator"], title="工单")
        execute_transition(
            ticket,
            "accept",
            actor=personas["coordinator"],
            changes={"answer": "受理即答复"},
            context={"history_data": {"due": dt.date(2025, 10, 11)}},
        )
        assert (ticket.status, ticket.answer) == ("accepted", "受理即答复")
        assert history_of(ticket).get().data == {"due": "2025-10-11"}
        assert AuditEvent.objects.get(action="ticket.accept").after == {
            "status": "accepted",
            "answer": "受理即答复",
        }

    def test_available_lists_what_the_actor_may_do(self, personas: dict[str, Any]) -> None:
        ticket = create_ticket(actor=personas["coordinator"], title="工单")
        actions = [t.action for t in TICKET_WORKFLOW.available(ticket, personas["coordinator"])]
        assert actions == ["accept", "cancel"]
        actions = [t.action for t in TICKET_WORKFLOW.available(ticket, personas["district_a"])]
        assert actions == ["cancel"]
        execute_transition(ticket, "accept", actor=personas["coordinator"])
        # finish is held back by its guard until there is an answer.
        assert [t.action for t in TICKET_WORKFLOW.available(ticket, personas["coordinator"])] == [
            "cancel"
        ]

    @staticmethod
    def assert_unchanged(ticket: Ticket, status: str, history: int = 0) -> None:
        fresh = Ticket.objects.get(pk=ticket.pk)
        assert fresh.status == status
        assert fresh.version == history
        assert history_of(ticket).count() == history
        assert len(transition_events()) == history


class TestWorkflowDefinition:
    states: ClassVar[dict[str, str]] = {"a": "甲", "b": "乙", "z": "终"}

    def make(self, *transitions: Transition, **kwargs: Any) -> Workflow:
        return Workflow(
            name=kwargs.get("name", "demo"),
            states=kwargs.get("states", self.states),
            initial=kwargs.get("initial", "a"),
            terminal=kwargs.get("terminal", frozenset({"z"})),
            transitions=list(transitions),
        )

    def test_a_valid_table(self) -> None:
        wf = self.make(
            Transition("go", ("a",), "b", "前进"), Transition("end", ("b",), "z", "结束")
        )
        assert wf.find("go", "a") is not None
        assert wf.find("go", "b") is None
        assert wf.state_label("b") == "乙"

    def test_unknown_states_are_rejected(self) -> None:
        with pytest.raises(ValueError, match=r"demo\.go: unknown states \['q'\]"):
            self.make(Transition("go", ("a",), "q", "前进"))
        with pytest.raises(ValueError, match=r"unknown states \['p'\]"):
            self.make(Transition("go", ("p",), "b", "前进"))
        with pytest.raises(ValueError, match="unknown initial state"):
            self.make(initial="q")
        with pytest.raises(ValueError, match="unknown terminal states"):
            self.make(terminal=frozenset({"q"}))

    def test_transitions_out_of_a_terminal_state_are_rejected(self) -> None:
        with pytest.raises(ValueError, match=r"demo\.reopen: leaves a terminal state"):
            self.make(Transition("reopen", ("z",), "a", "重开"))

    def test_ambiguous_transitions_are_rejected(self) -> None:
        with pytest.raises(ValueError, match="ambiguous"):
            self.make(
                Transition("go", ("a",), "b", "前进"), Transition("go", ("a", "b"), "z", "前进")
            )

    def test_same_action_from_different_states_is_allowed(self) -> None:
        wf = self.make(Transition("go", ("a",), "b", "前进"), Transition("go", ("b",), "z", "前进"))
        assert [wf.find("go", s).target for s in ("a", "b")] == ["b", "z"]  # type: ignore[union-attr]


@pytest.mark.django_db(transaction=True)
def test_concurrent_transitions_one_wins(personas: dict[str, Any]) -> None:
    """Two requests act on one ticket at the same moment: exactly one transition happens."""
    ticket = create_ticket(actor=personas["coordinator"], title="并发工单")
    barrier = threading.Barrier(2)
    outcomes: dict[str, Any] = {}

    def act(name: str, action: str, note: str) -> None:
        try:
            mine = Ticket.objects.get(pk=ticket.pk)
            barrier.wait(timeout=30)
            execute_transition(mine, action, actor=personas["coordinator"], note=note)
            outcomes[name] = "ok"
        except TransitionConflict as exc:
            outcomes[name] = exc
        except Exception as exc:  # surfaced by the assertions below
            outcomes[name] = repr(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=("accept", "accept", "")),
        threading.Thread(target=act, args=("cancel", "cancel", "企业撤回")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    winners = [name for name, outcome in outcomes.items() if outcome == "ok"]
    losers = [name for name, outcome in outcomes.items() if isinstance(outcome, TransitionConflict)]
    assert len(winners) == 1, outcomes
    assert len(losers) == 1, outcomes
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert fresh.status == {"accept": "accepted", "cancel": "cancelled"}[winners[0]]
    assert fresh.version == 1
    assert list(history_of(fresh).values_list("action", flat=True)) == [winners[0]]
    assert AuditEvent.objects.filter(action__in=["ticket.accept", "ticket.cancel"]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_same_action_one_wins(personas: dict[str, Any]) -> None:
    ticket = create_ticket(actor=personas["coordinator"], title="并发工单")
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []

    def act() -> None:
        try:
            mine = Ticket.objects.get(pk=ticket.pk)
            barrier.wait(timeout=30)
            execute_transition(mine, "accept", actor=personas["coordinator"])
            outcomes.append("ok")
        except Exception as exc:
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=act) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.count("ok") == 1, outcomes
    assert [type(o) for o in outcomes if o != "ok"] == [TransitionConflict]
    assert history_of(ticket).count() == 1
    assert Ticket.objects.get(pk=ticket.pk).version == 1


@pytest.mark.django_db
class TestExecuteTransitions:
    """The batch form: each object checked as one transition is, all or nothing."""

    def test_each_object_gets_its_change_history_row_and_event(
        self, personas: dict[str, Any]
    ) -> None:
        coordinator = personas["coordinator"]
        tickets = [create_ticket(actor=coordinator, title=f"工单{i}") for i in range(3)]

        done = execute_transitions(
            tickets,
            "accept",
            actor=coordinator,
            note="批量受理",
            changes=lambda t: {"answer": f"{t.title}已受理"},
            context=lambda t: {"history_data": {"title": t.title}},
        )

        assert done == tickets
        assert [(t.status, t.version, t.answer) for t in tickets] == [
            ("accepted", 1, f"工单{i}已受理") for i in range(3)
        ]
        stored = Ticket.objects.order_by("pk").values_list("status", "version", "answer")
        assert list(stored) == [("accepted", 1, f"工单{i}已受理") for i in range(3)]
        for ticket in tickets:
            assert list(
                history_of(ticket).values_list(
                    "action", "from_state", "to_state", "actor_id", "note", "data"
                )
            ) == [
                ("accept", "new", "accepted", coordinator.pk, "批量受理", {"title": ticket.title})
            ]
        assert transition_events() == [
            ("ticket.accept", {"status": "new"}, {"status": "accepted", "answer": f"工单{i}已受理"})
            for i in range(3)
        ]

    def test_one_refusal_refuses_the_whole_batch(self, personas: dict[str, Any]) -> None:
        coordinator = personas["coordinator"]
        first = create_ticket(actor=coordinator, title="工单一")
        second = create_ticket(actor=coordinator, title="工单二")
        execute_transition(first, "accept", actor=coordinator)
        answer_ticket(first, actor=coordinator, answer="已答复")
        execute_transition(second, "accept", actor=coordinator)

        # The second has no answer: its guard refuses, so the first is not finished either.
        with pytest.raises(TransitionNotAllowed, match=r"^办结前须填写答复$"):
            execute_transitions([first, second], "finish", actor=coordinator)

        assert list(Ticket.objects.order_by("pk").values_list("status", flat=True)) == [
            "accepted",
            "accepted",
        ]
        assert not TransitionHistory.objects.filter(action="finish").exists()
        assert not AuditEvent.objects.filter(action="ticket.finish").exists()

    def test_stale_state_role_and_changes_are_checked(self, personas: dict[str, Any]) -> None:
        coordinator = personas["coordinator"]
        ticket = create_ticket(actor=coordinator, title="工单")
        stale = Ticket.objects.get(pk=ticket.pk)
        execute_transition(ticket, "accept", actor=coordinator)

        with pytest.raises(TransitionConflict, match="当前状态为“已受理”，请刷新后重试"):
            execute_transitions([stale], "cancel", actor=coordinator, note="撤销")
        other = create_ticket(actor=coordinator, title="另一工单")
        with pytest.raises(TransitionNotAllowed, match="您的角色无权执行“受理”"):
            execute_transitions([other], "accept", actor=personas["district_a"])
        with pytest.raises(ValueError):
            execute_transitions(
                [other], "accept", actor=coordinator, changes=lambda t: {"status": "done"}
            )

        assert Ticket.objects.get(pk=ticket.pk).status == "accepted"
        assert Ticket.objects.get(pk=other.pk).status == "new"
        assert TransitionHistory.objects.count() == 1


@pytest.mark.django_db
def test_a_model_without_a_workflow_is_refused_before_anything_is_written(
    personas: dict[str, Any],
) -> None:
    coordinator = personas["coordinator"]
    ticket = create_ticket(actor=coordinator, title="工单")
    assert workflow_of(Ticket) is TICKET_WORKFLOW
    row = TransitionHistory.objects.create(
        object_type="x", object_id="1", workflow="x", action="a", from_state="s", to_state="t"
    )
    before = AuditEvent.objects.count()

    with pytest.raises(TypeError, match=r"^TransitionHistory declares no workflow$"):
        execute_transition(row, "accept", actor=coordinator)
    with pytest.raises(TypeError, match=r"^TransitionHistory declares no workflow$"):
        execute_transitions([row], "accept", actor=coordinator)

    assert AuditEvent.objects.count() == before
    assert TransitionHistory.objects.count() == 1
    assert Ticket.objects.get(pk=ticket.pk).status == "new"


@pytest.mark.django_db
def test_a_model_without_a_scoped_manager_cannot_be_fetched_by_scope(
    personas: dict[str, Any],
) -> None:
    ticket = create_ticket(actor=personas["coordinator"], title="工单")
    before = AuditEvent.objects.count()
    with pytest.raises(TypeError, match=r"^Ticket has no ScopedManager"):
        get_visible_or_404(Ticket, personas["sysadmin"], pk=ticket.pk)
    assert AuditEvent.objects.count() == before
