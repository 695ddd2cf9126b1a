"""Two people decide on one item at the same moment (two threads, two connections, released
together): exactly one decision is taken, the other gets a conflict, and the history and the
audit trail hold the winner only."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection

from sizhen.core.models import AuditEvent
from sizhen.core.workflow import TransitionConflict, history_of
from sizhen.rectification import services
from sizhen.rectification.choices import Judgement
from sizhen.rectification.models import RectificationItem
from sizhen.rectification.tests.conftest import BY_EVIDENCE, pdf

pytestmark = pytest.mark.django_db(transaction=True)


def test_close_and_return_at_once_one_wins(item: Any, personas: dict[str, Any]) -> None:
    lead, coordinator = personas["lead_department"], personas["coordinator"]
    services.transition_item(item, "accept", actor=lead)
    services.add_evidence(item, actor=lead, upload=pdf())
    services.transition_item(item, "submit", actor=lead)
    services.verify_effect(
        item, actor=coordinator, judgement=Judgement.EFFECTIVE, comment=BY_EVIDENCE
    )

    barrier = threading.Barrier(2)
    outcomes: dict[str, Any] = {}

    def act(action: str, actor: Any, note: str) -> None:
        try:
            mine = RectificationItem.objects.select_related("region").get(pk=item.pk)
            barrier.wait(timeout=30)
            services.transition_item(mine, action, actor=actor, note=note)
            outcomes[action] = "ok"
        except TransitionConflict as exc:
            outcomes[action] = exc
        except Exception as exc:  # surfaced by the assertions below
            outcomes[action] = repr(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=("close", coordinator, "效果明显")),
        threading.Thread(target=act, args=("return", personas["sysadmin"], "佐证不足")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    winners = [name for name, outcome in outcomes.items() if outcome == "ok"]
    losers = [name for name, outcome in outcomes.items() if isinstance(outcome, TransitionConflict)]
    assert (len(winners), len(losers)) == (1, 1), outcomes
    fresh = RectificationItem.objects.get(pk=item.pk)
    assert fresh.status == {"close": "closed", "return": "in_progress"}[winners[0]]
    assert (fresh.closed_at is not None) == (winners[0] == "close")
    assert [h.action for h in history_of(fresh)] == ["accept", "submit", winners[0]]
    assert (
        AuditEvent.objects.filter(
            action__in=["rectification.close", "rectification.return"]
        ).count()
        == 1
    )
