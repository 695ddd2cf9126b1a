"""The demo city gets its work tasks in varied states, consistent with the workflow rules."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from sizhen.core.models import TransitionHistory
from sizhen.work_tasks.models import TaskAssignment, WorkTask
from sizhen.work_tasks.services import classify

pytestmark = pytest.mark.django_db


def test_demo_load_builds_fifty_tasks_in_varied_states() -> None:
    call_command("demo", stdout=io.StringIO())
    assert WorkTask.objects.count() == 50
    assert TaskAssignment.objects.count() == 50
    states = set(TaskAssignment.objects.values_list("status", flat=True))
    assert {"approved", "received", "submitted"} <= states
    numbers = list(WorkTask.objects.values_list("number", flat=True))
    assert len(set(numbers)) == 50
    today = timezone.localdate()
    for a in TaskAssignment.objects.filter(status="approved"):
        assert a.finished_on is not None and a.finished_on <= today
        assert (a.timeliness, a.delay_working_days) == classify(a.finished_on, a.deadline)
        steps = TransitionHistory.objects.filter(object_id=str(a.pk), workflow="work_task")
        assert list(steps.values_list("action", flat=True)) == ["receive", "submit", "approve"]
    call_command("demo", "--reset", stdout=io.StringIO())
    assert WorkTask.objects.count() == 50
