"""A minimal stateful model, installed only under test settings, that proves the engine."""

from django.db import models

from sizhen.core.roles import Role
from sizhen.core.workflow import Transition, Workflow

TICKET_WORKFLOW = Workflow(
    name="ticket",
    states={"new": "新建", "accepted": "已受理", "done": "已办结", "cancelled": "已撤销"},
    initial="new",
    terminal=frozenset({"done", "cancelled"}),
    transitions=[
        Transition("accept", ("new",), "accepted", "受理", roles=frozenset({Role.COORDINATOR})),
        Transition(
            "finish",
            ("accepted",),
            "done",
            "办结",
            guard=lambda obj, actor, ctx: None if obj.answer else "办结前须填写答复",
        ),
        Transition("cancel", ("new", "accepted"), "cancelled", "撤销", note_required=True),
    ],
)


class Ticket(models.Model):
    title = models.CharField(max_length=100)
    status = models.CharField(max_length=20, default="new")
    answer = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=0)

    workflow = TICKET_WORKFLOW

    def __str__(self) -> str:
        return self.title
