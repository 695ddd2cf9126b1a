"""The demo requests show the first-contact clock (首次联系) and every escalation tier (升级督办)
a new user should see, seeded as the rule would have left them."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import call_command
from django.utils import timezone

from sizhen.accounts.models import User
from sizhen.demo.requests_clocks import CONTACT_OVERDUE, PER_TIER
from sizhen.enterprise_requests import services
from sizhen.enterprise_requests.choices import FirstContact, MessageKind
from sizhen.enterprise_requests.models import EnterpriseRequest
from sizhen.enterprise_requests.selectors import escalation_steps


@pytest.mark.django_db
def test_demo_requests_show_first_contact_and_each_escalation_tier(
    django_capture_on_commit_callbacks,
) -> None:
    call_command("demo", stdout=io.StringIO())

    demo = list(EnterpriseRequest.objects.filter(source_key="demo").select_related("category"))
    tiers = Counter(r.escalation_tier for r in demo)
    # A handful at each tier, not the ledger.
    assert min(tiers[1], tiers[2], tiers[3]) >= PER_TIER
    assert tiers[1] + tiers[2] + tiers[3] <= 5 * PER_TIER + CONTACT_OVERDUE
    now = timezone.now()
    states = Counter(r.first_contact_state(now) for r in demo)
    assert states[FirstContact.OVERDUE] >= CONTACT_OVERDUE
    assert states[FirstContact.LATE] >= 1
    assert states[FirstContact.MET] > 10 * states[FirstContact.LATE]
    dispatched = [r for r in demo if r.dispatched_at is not None]
    assert all(r.first_contact_due is not None for r in dispatched)
    for r in demo:
        steps = escalation_steps(r)
        assert len(steps) == r.escalation_tier
        if steps:
            assert steps[-1][1] == r.escalated_at
        assert r.supervised or r.escalation_tier < 3
        contacts = r.messages.filter(kind=MessageKind.CONTACT).order_by("created_at").first()
        if r.first_contacted_at is not None:
            assert contacts is not None and contacts.created_at == r.first_contacted_at
    # The seeds follow the rule: the job, run now, finds nothing to escalate.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.escalate_idle_requests() == {"unit_leader": 0, "city_team": 0, "listed": 0}
    # The market regulator's account is its head: the first tier reaches it.
    assert User.objects.get(username="lead_dept").unit_leader is True
