"""The workflows take their transition roles from the capability registry, so the
transition table, the pages and the services agree on who may act."""

from __future__ import annotations

from sizhen.core.permissions import CAPABILITIES, capability_roles
from sizhen.enterprise_requests.workflow import REQUEST_WORKFLOW
from sizhen.monitoring.workflow import ALERT_WORKFLOW
from sizhen.rectification.workflow import RECTIFICATION_WORKFLOW
from sizhen.surveys.workflow import ROUND_WORKFLOW, VERSION_WORKFLOW
from sizhen.work_tasks.workflow import ASSIGNMENT_WORKFLOW


def test_workflow_role_sets_come_from_the_registry():
    registered = {c.roles for c in CAPABILITIES}
    workflows = (
        REQUEST_WORKFLOW,
        ALERT_WORKFLOW,
        RECTIFICATION_WORKFLOW,
        ASSIGNMENT_WORKFLOW,
        ROUND_WORKFLOW,
        VERSION_WORKFLOW,
    )
    for workflow in workflows:
        for transition in workflow.transitions:
            assert transition.roles is None or transition.roles in registered, (
                f"{workflow.name}.{transition.action}"
            )
    register = REQUEST_WORKFLOW.find("register", "submitted")
    assert register is not None
    assert register.roles == capability_roles("request.manage")
    cancel = ASSIGNMENT_WORKFLOW.find("cancel", "issued")
    assert cancel is not None
    assert cancel.roles == capability_roles("task.issue")
    open_round = ROUND_WORKFLOW.find("open", "draft")
    assert open_round is not None
    assert open_round.roles == capability_roles("survey.distribute")
