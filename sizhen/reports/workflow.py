"""The reminder letter's transition table: a draft is sent once."""

from sizhen.core.roles import Role
from sizhen.core.workflow import Transition, Workflow

LETTER_WORKFLOW = Workflow(
    name="reminder_letter",
    states={"draft": "草稿", "sent": "已发送"},
    initial="draft",
    terminal=frozenset({"sent"}),
    transitions=[
        Transition(
            "send", ("draft",), "sent", "发送", roles=frozenset({Role.COORDINATOR, Role.SYSADMIN})
        ),
    ],
)
