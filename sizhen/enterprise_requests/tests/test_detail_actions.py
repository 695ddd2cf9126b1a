"""The detail page offers the workflow's steps: for every state and every persona, each button
that takes a workflow step is one the workflow allows that viewer now, and the viewer's own
steps are all offered."""

from __future__ import annotations

import re

import pytest

from sizhen.enterprise_requests.models import EnterpriseRequest
from sizhen.enterprise_requests.tests.factories import dispatched
from sizhen.enterprise_requests.workflow import REQUEST_WORKFLOW, STATES

pytestmark = pytest.mark.django_db

#: Page actions that take more than one workflow step (the service or the form picks which).
PAGE_STEPS = {
    "reply": {"reply", "reply_for_review"},
    "revisit": {"revisit_satisfied", "revisit_unsatisfied"},
    "rate": {"revisit_satisfied", "revisit_unsatisfied"},
}
#: Page actions outside the state machine (their services check who may take them).
NOT_WORKFLOW_STEPS = {
    "message",
    "supervise",
    "decide_extension",
    "publish",
    "urge",
    "extension",
    "contact",
}
#: The office's page leaves the unit's and the enterprise's steps to them.
UNIT_AND_ENTERPRISE_STEPS = {"accept", "return", "reply", "reply_for_review", "withdraw"}
VIEWERS = [
    "coordinator",
    "sysadmin",
    "leader",
    "responsible_department",
    "lead_department",
    "district_a",
    "enterprise",
    "enterprise_b",
]
ACTION_URL = re.compile(r'/act/([a-z_]+)/"')


def _offered_steps(offered: set[str]) -> set[str]:
    steps: set[str] = set()
    for action in offered - NOT_WORKFLOW_STEPS:
        steps |= PAGE_STEPS.get(action, {action})
    return steps


def test_page_offers_exactly_the_steps_the_workflow_allows(client_for, personas, city):
    # The lead unit is a_dept (responsible_department); the market bureau co-handles.
    req = dispatched(personas, city)
    req.co_departments.add(city["market"])
    workflow_steps = set(REQUEST_WORKFLOW.actions())
    clients = {name: client_for(name) for name in VIEWERS}
    problems: list[str] = []
    checked = 0
    for state in STATES:
        EnterpriseRequest.objects.filter(pk=req.pk).update(status=state)
        req.refresh_from_db()
        for name in VIEWERS:
            response = clients[name].get(f"/requests/{req.pk}/")
            if response.status_code == 404:
                continue
            assert response.status_code == 200
            offered = set(ACTION_URL.findall(response.content.decode()))
            unknown = offered - NOT_WORKFLOW_STEPS - set(PAGE_STEPS) - workflow_steps
            assert unknown == set(), f"{state}/{name}: unclassified page actions {unknown}"
            viewer = personas[name]
            allowed = {
                t.action
                for t in REQUEST_WORKFLOW.available(req, viewer, {"department": city["market"]})
            }
            steps = _offered_steps(offered)
            for action in sorted(offered - NOT_WORKFLOW_STEPS):
                if not PAGE_STEPS.get(action, {action}) & allowed:
                    problems.append(f"{state}/{name}: offers {action}, workflow allows {allowed}")
            expected = allowed - (
                UNIT_AND_ENTERPRISE_STEPS if name in ("coordinator", "sysadmin") else set()
            )
            if expected - steps:
                problems.append(f"{state}/{name}: misses {sorted(expected - steps)}")
            checked += 1
    assert problems == []
    # Every state was seen by the office, the lead unit and the enterprise at least.
    assert checked >= 3 * len(STATES)


def test_referral_is_offered_only_after_second_assignment(client_for, personas, city):
    req = dispatched(personas, city)
    EnterpriseRequest.objects.filter(pk=req.pk).update(status="unsatisfied")
    coordinator = client_for("coordinator")
    page = coordinator.get(f"/requests/{req.pk}/").content.decode()
    assert 'data-testid="do-second_assignment"' in page
    assert 'data-testid="do-refer_discipline"' not in page
    EnterpriseRequest.objects.filter(pk=req.pk).update(second_assignment=True)
    page = coordinator.get(f"/requests/{req.pk}/").content.decode()
    assert 'data-testid="do-refer_discipline"' in page
