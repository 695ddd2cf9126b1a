from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sizhen.accounts.models import User
from sizhen.core.models import AuditEvent


@pytest.mark.django_db
def test_create_admin_prints_a_one_time_password_that_logs_in(city, client):
    out = StringIO()
    call_command("create_admin", "root1", department="SZ-YSB", full_name="管理员", stdout=out)
    password = out.getvalue().strip().splitlines()[-1].split("：", 1)[1]
    user = User.objects.get(username="root1")
    assert (user.role, user.must_change_password, user.department.code) == (
        "sysadmin",
        True,
        "SZ-YSB",
    )
    assert user.check_password(password)
    assert AuditEvent.objects.filter(action="user.create", object_id=str(user.pk)).count() == 1
    assert password not in str(list(AuditEvent.objects.values_list("after", flat=True)))


@pytest.mark.django_db
def test_create_admin_refuses_unknown_department_and_duplicates(city):
    with pytest.raises(CommandError, match="未找到部门编码"):
        call_command("create_admin", "root2", department="NOPE")
    call_command("create_admin", "root3", department="SZ-YSB", stdout=StringIO())
    with pytest.raises(CommandError, match="已存在"):
        call_command("create_admin", "ROOT3", department="SZ-YSB")
    assert User.objects.filter(username__iexact="root3").count() == 1
