"""Two people act on one assignment at the same moment (two threads, two database connections,
released together by a barrier): exactly one step happens, the other gets a conflict, and the
history, the audit trail and the row agree with the winner."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from sizhen.core.models import AuditEvent, TransitionHistory
from sizhen.core.roles import Role
from sizhen.core.workflow import TransitionConflict
from sizhen.work_tasks import services
from sizhen.work_tasks.models import TaskAssignment
from sizhen.work_tasks.tests.support import NATIONAL_DAY_ISSUE, assignment_for, issue

pytestmark = pytest.mark.django_db(transaction=True)


def race(pk: int, steps: dict[str, Callable[[TaskAssignment], Any]]) -> dict[str, Any]:
    """Run each step in its own thread on its own copy of the row, released together."""
    barrier = threading.Barrier(len(steps))
    outcomes: dict[str, Any] = {}

    def run(name: str, step: Callable[[TaskAssignment], Any]) -> None:
        try:
            mine = TaskAssignment.objects.get(pk=pk)
            barrier.wait(timeout=30)
            step(mine)
            outcomes[name] = "ok"
        except TransitionConflict as exc:
            outcomes[name] = exc
        except Exception as exc:  # surfaced by the assertions of the test
            outcomes[name] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in steps.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def winners_and_losers(outcomes: dict[str, Any]) -> tuple[list[str], list[str]]:
    winners = [name for name, outcome in outcomes.items() if outcome == "ok"]
    losers = [name for name, outcome in outcomes.items() if isinstance(outcome, TransitionConflict)]
    return winners, losers


def test_approve_and_return_at_once_one_wins(city: Any, personas: Any, clock: Any) -> None:
    clock(NATIONAL_DAY_ISSUE)
    market = assignment_for(issue(personas, [city["market"]]), city["market"])
    lead = personas["lead_department"]
    services.receive_assignment(market, actor=lead)
    services.submit_assignment(market, actor=lead)

    outcomes = race(
        market.pk,
        {
            "approve": lambda a: services.approve_assignment(a, actor=personas["coordinator"]),
            "return": lambda a: services.return_assignment(
                a, actor=personas["sysadmin"], reason="材料不全"
            ),
        },
    )

    winners, losers = winners_and_losers(outcomes)
    assert len(winners) == 1, outcomes
    assert len(losers) == 1, outcomes
    fresh = TaskAssignment.objects.get(pk=market.pk)
    expected = {
        "approve": ("approved", "early", ""),
        "return": ("returned", "", "材料不全"),
    }[winners[0]]
    assert (fresh.status, fresh.timeliness, fresh.return_reason) == expected
    assert fresh.version == 4  # receive, submit, and the one decision
    decisions = TransitionHistory.objects.filter(
        workflow="work_task", object_id=str(market.pk), action__in=["approve", "return"]
    )
    assert list(decisions.values_list("action", flat=True)) == winners
    assert (
        AuditEvent.objects.filter(action__in=["work_task.approve", "work_task.return"]).count() == 1
    )


def test_two_clerks_receive_at_once_one_wins(city: Any, personas: Any, clock: Any) -> None:
    from sizhen.accounts.models import User

    clock(NATIONAL_DAY_ISSUE)
    market = assignment_for(issue(personas, [city["market"]]), city["market"])
    colleague = User.objects.create(
        username="market_clerk",
        role=Role.RESPONSIBLE_DEPARTMENT,
        department=city["market"],
        full_name="市场监管局办事员",
    )

    outcomes = race(
        market.pk,
        {
            "lead": lambda a: services.receive_assignment(a, actor=personas["lead_department"]),
            "colleague": lambda a: services.receive_assignment(a, actor=colleague),
        },
    )

    winners, losers = winners_and_losers(outcomes)
    assert (len(winners), len(losers)) == (1, 1), outcomes
    fresh = TaskAssignment.objects.get(pk=market.pk)
    assert (fresh.status, fresh.version) == ("received", 2)
    steps = TransitionHistory.objects.filter(workflow="work_task", object_id=str(market.pk))
    winner = {"lead": personas["lead_department"], "colleague": colleague}[winners[0]]
    assert list(steps.values_list("action", "actor_id")) == [("receive", winner.pk)]


def test_two_coordinators_issue_at_once_get_distinct_numbers(
    city: Any, personas: Any, clock: Any
) -> None:
    clock(NATIONAL_DAY_ISSUE)
    issue(personas, [city["market"]], title="已有任务")  # the year's counter exists
    barrier = threading.Barrier(3)
    numbers: dict[str, Any] = {}

    def run(name: str) -> None:
        try:
            barrier.wait(timeout=30)
            numbers[name] = issue(personas, [city["tax"]], title=f"同时下发{name}").number
        except Exception as exc:  # surfaced by the assertion below
            numbers[name] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(name,)) for name in "abc"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(numbers.values()) == ["RW2025-0002", "RW2025-0003", "RW2025-0004"], numbers
