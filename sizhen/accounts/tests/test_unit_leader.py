"""The head of a unit (单位负责人): a flag on a department's officer, whom a request the unit
leaves without progress is escalated to first (sizhen/enterprise_requests, 升级督办)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from sizhen.accounts import services
from sizhen.accounts.models import User
from sizhen.accounts.tests.conftest import events
from sizhen.core.notifications import unit_leaders

pytestmark = pytest.mark.django_db


def test_an_administrator_flags_a_department_officer_as_its_head(personas, city, client_for):
    admin = client_for("sysadmin")
    target = personas["responsible_department"]
    response = admin.post(
        f"/accounts/users/{target.pk}/edit/",
        {
            "full_name": "刘局长",
            "role": "responsible_department",
            "department": city["a_dept"].pk,
            "unit_leader": "on",
        },
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.unit_leader is True
    [event] = events("user.update")
    assert (event.before, event.after) == (
        {"full_name": "resp_dept", "unit_leader": False},
        {"full_name": "刘局长", "unit_leader": True},
    )
    page = admin.get(f"/accounts/users/{target.pk}/").content.decode()
    assert "<dd>东湖区市场监督管理局（单位负责人）</dd>" in page
    assert admin.get(f"/accounts/users/{target.pk}/edit/").context["form"].initial["unit_leader"]


def test_only_department_officers_are_heads(personas, city, client_for):
    # The form drops the flag for a role that has no unit.
    response = client_for("sysadmin").post(
        "/accounts/users/new/",
        {"username": "zhao", "full_name": "赵", "role": "leader", "unit_leader": "on"},
    )
    assert response.status_code == 200
    assert User.objects.get(username="zhao").unit_leader is False
    # The service refuses it outright, and changes nothing.
    leader = personas["leader"]
    with pytest.raises(ValidationError) as refused:
        services.update_user(leader, actor=personas["sysadmin"], unit_leader=True)
    assert refused.value.message_dict == {"unit_leader": ["只有部门用户可以设为单位负责人"]}
    leader.refresh_from_db()
    assert leader.unit_leader is False
    assert events("user.update") == []


def test_heads_of_a_unit_else_all_its_officers(personas, city):
    officer = personas["responsible_department"]
    # No head flagged: every active officer of the unit stands in.
    assert unit_leaders([city["a_dept"].pk]) == [officer]
    head = User.objects.create(
        username="a_head", role="responsible_department", department=city["a_dept"]
    )
    User.objects.filter(pk=head.pk).update(unit_leader=True)
    assert unit_leaders([city["a_dept"].pk]) == [head]
    # Per unit: the market bureau has no head, so its officer answers for it.
    assert unit_leaders([city["a_dept"].pk, city["market"].pk, None]) == [
        personas["lead_department"],
        head,
    ]
    User.objects.filter(pk=head.pk).update(is_active=False)
    assert unit_leaders([city["a_dept"].pk]) == [officer]
    assert unit_leaders([None]) == []
