"""The reminder letter's transition table: a draft is sent once, or discarded (作废) with a
reason; both are final."""

from sizhen.core.permissions import capability_roles
from sizhen.core.workflow import Transition, Workflow

LETTER_WORKFLOW = Workflow(
    name="reminder_letter",
    states={"draft": "草稿", "sent": "已发送", "discarded": "已作废"},
    initial="draft",
    terminal=frozenset({"sent", "discarded"}),
    transitions=[
        Transition("send", ("draft",), "sent", "发送", roles=capability_roles("letter.write")),
        Transition(
            "discard",
            ("draft",),
            "discarded",
            "作废",
            roles=capability_roles("letter.write"),
            note_required=True,
        ),
    ],
)
