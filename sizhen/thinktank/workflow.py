"""The life of a policy (政策): a draft (草稿) is published in force (现行有效); a later version
that amends it (修订) leaves it amended (已修订), one that replaces it or a repeal decision leaves
it repealed (已废止). Repealed is terminal; the links between versions are the policy's history
(政策沿革). Expiry (失效日期) is a date, not a state: an in-force policy past its expiry date no
longer applies to anyone and says so."""

from __future__ import annotations

from sizhen.core.permissions import capability_roles
from sizhen.core.workflow import Transition, Workflow

DRAFT = "draft"
IN_FORCE = "in_force"
AMENDED = "amended"
REPEALED = "repealed"

STATES = {
    DRAFT: "草稿",
    IN_FORCE: "现行有效",
    AMENDED: "已修订",
    REPEALED: "已废止",
}
#: What the public may read: every state but the draft (a repealed policy stays readable, marked).
PUBLISHED_STATES = frozenset({IN_FORCE, AMENDED, REPEALED})

_MANAGERS = capability_roles("policy.manage")

POLICY_WORKFLOW = Workflow(
    name="policy",
    states=STATES,
    initial=DRAFT,
    terminal=frozenset({REPEALED}),
    transitions=[
        Transition("publish", (DRAFT,), IN_FORCE, "发布", roles=_MANAGERS),
        Transition("amend", (IN_FORCE,), AMENDED, "标记为已修订", roles=_MANAGERS),
        Transition(
            "repeal", (IN_FORCE, AMENDED), REPEALED, "废止", roles=_MANAGERS, note_required=True
        ),
    ],
)
