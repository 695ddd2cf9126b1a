"""Double submits (two threads, two connections, released together): one response is stored;
the same client key gets the first response back, another key is told the enterprise has
answered, and a one-time link is used once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from sizhen.core.models import AuditEvent
from sizhen.surveys import services
from sizhen.surveys.choices import Channel
from sizhen.surveys.models import Answer, Invitation, Response
from sizhen.surveys.tests.support import good_answers

pytestmark = pytest.mark.django_db(transaction=True)


def _race(*calls: Callable[[], Any]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes[index] = call()
        except Exception as exc:  # surfaced by the assertions
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _submit(city_round: Any, enterprise: Any, actor: Any, key: str | None, score: int) -> Any:
    return lambda: services.submit_response(
        city_round,
        actor=actor,
        enterprise=enterprise,
        answers=good_answers(score=score),
        channel=Channel.PAPER,
        client_key=key,
    )


def test_same_client_key_twice_at_once_stores_one(
    city_round: Any, city: dict[str, Any], personas: dict[str, Any]
) -> None:
    actor = personas["coordinator"]
    first, second = _race(
        _submit(city_round, city["enterprise_a"], actor, "k1", 4),
        _submit(city_round, city["enterprise_a"], actor, "k1", 2),
    )
    assert isinstance(first, tuple) and isinstance(second, tuple), (first, second)
    assert first[0].pk == second[0].pk
    assert sorted([first[1], second[1]]) == [False, True]
    assert Response.objects.count() == 1
    assert Answer.objects.filter(question__name="score").count() == 1
    assert AuditEvent.objects.filter(action="survey.response_submit").count() == 1


def test_two_keys_for_one_enterprise_at_once_store_one(
    city_round: Any, city: dict[str, Any], personas: dict[str, Any]
) -> None:
    actor = personas["coordinator"]
    outcomes = _race(
        _submit(city_round, city["enterprise_a"], actor, "a", 4),
        _submit(city_round, city["enterprise_a"], actor, "b", 2),
    )
    stored = [o for o in outcomes if isinstance(o, tuple)]
    refused = [o for o in outcomes if isinstance(o, services.SurveyConflict)]
    assert (len(stored), len(refused)) == (1, 1), outcomes
    assert refused[0].message == "该企业已提交过本轮问卷，不能重复提交"
    assert Response.objects.count() == 1
    assert AuditEvent.objects.filter(action="survey.response_submit").count() == 1


def test_one_link_submitted_twice_at_once(
    city_round: Any, city: dict[str, Any], personas: dict[str, Any]
) -> None:
    invitation = Invitation.objects.get(enterprise=city["enterprise_b"])
    [(invitation, _token)] = services.issue_links(
        city_round, actor=personas["coordinator"], invitations=[invitation]
    )

    def submit() -> Any:
        mine = Invitation.objects.select_related("round", "enterprise__region").get(
            pk=invitation.pk
        )
        return services.submit_response(
            mine.round,
            actor=None,
            enterprise=mine.enterprise,
            answers=good_answers(),
            channel=Channel.LINK,
            invitation=mine,
            strict=False,
        )

    outcomes = _race(submit, submit)
    stored = [o for o in outcomes if isinstance(o, tuple)]
    refused = [o for o in outcomes if isinstance(o, services.SurveyConflict)]
    assert (len(stored), len(refused)) == (1, 1), outcomes
    assert Response.objects.count() == 1
    invitation.refresh_from_db()
    assert invitation.token_used_at is not None
