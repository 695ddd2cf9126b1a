"""User administration pages (用户管理): list, create, edit, disable/enable, reset password."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from conftest import PASSWORD
from sizhen.accounts import services
from sizhen.accounts.models import PasswordHistory, User
from sizhen.accounts.tests.conftest import events, post_login
from sizhen.core.models import AuditEvent
from sizhen.core.roles import Role


def _usernames(response: Any) -> list[str]:
    return [row[0][0] for row in response.context["rows"]]


def _user_state() -> list[tuple[Any, ...]]:
    return list(
        User.objects.order_by("pk").values_list(
            "username",
            "full_name",
            "role",
            "department_id",
            "region_id",
            "enterprise_id",
            "phone",
            "email",
            "is_active",
            "password",
            "must_change_password",
        )
    )


# --- list ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_list_shows_every_user_with_masked_phone(personas, client_for):
    User.objects.filter(username="district_a").update(phone="13812345678")
    response = client_for("sysadmin").get("/accounts/users/")
    assert response.status_code == 200
    assert _usernames(response) == [
        "coordinator",
        "district_a",
        "district_b",
        "ent_a",
        "ent_b",
        "lead_dept",
        "leader",
        "resp_dept",
        "sysadmin",
    ]
    body = response.content.decode()
    assert "138****5678" in body
    assert "13812345678" not in body
    assert 'href="/accounts/users/new/"' in body


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["coordinator", "leader"])
def test_coordinator_and_leader_read_the_list_without_write_actions(personas, client_for, persona):
    response = client_for(persona).get("/accounts/users/")
    assert response.status_code == 200
    assert len(_usernames(response)) == 9
    assert response.context["actions"] == []
    detail = client_for(persona).get(f"/accounts/users/{personas['district_a'].pk}/")
    assert detail.status_code == 200
    body = detail.content.decode()
    for action in ("/edit/", "/disable/", "/reset-password/"):
        assert action not in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("role=district_officer", ["district_a", "district_b"]),
        ("role=enterprise", ["ent_a", "ent_b"]),
        ("department={office}", ["coordinator", "leader", "sysadmin"]),
        ("region={district_a}", ["district_a", "ent_a", "resp_dept"]),
        ("region={district_b}", ["district_b", "ent_b"]),
        ("active=0", ["lead_dept"]),
        ("active=1&role=lead_department", []),
        ("q=DISTRICT", ["district_a", "district_b"]),
        ("q=王", ["leader"]),
        ("role=district_officer&region={district_b}", ["district_b"]),
    ],
)
def test_list_filters_and_search(personas, city, client_for, query, expected):
    User.objects.filter(username="lead_dept").update(is_active=False)
    User.objects.filter(username="leader").update(full_name="王市长")
    url = "/accounts/users/?" + query.format(
        office=city["office"].pk, district_a=city["district_a"].pk, district_b=city["district_b"].pk
    )
    response = client_for("sysadmin").get(url)
    assert response.status_code == 200
    assert _usernames(response) == expected


@pytest.mark.django_db
def test_invalid_filter_shows_nothing(personas, client_for):
    response = client_for("sysadmin").get("/accounts/users/?role=machine")
    assert response.status_code == 200
    assert _usernames(response) == []


@pytest.mark.django_db
def test_export_masks_phones_and_is_audited(personas, client_for):
    User.objects.filter(username="district_a").update(phone="13812345678")
    response = client_for("coordinator").get("/accounts/users/?export=xlsx&role=district_officer")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("用户名", "姓名", "角色", "数据范围", "手机号")
    assert [r[0] for r in rows[1:]] == ["district_a", "district_b"]
    assert rows[1][4] == "138****5678"
    [event] = events("export.xlsx")
    assert event.actor_id == personas["coordinator"].pk
    assert event.object_type == "accounts.user"


# --- create ----------------------------------------------------------------------------------


CREATE_CASES = [
    (
        {"role": "lead_department", "department": "market"},
        {"department": "market", "region": None, "enterprise": None},
    ),
    (
        {"role": "district_officer", "region": "park"},
        {"department": None, "region": "park", "enterprise": None},
    ),
    (
        {"role": "enterprise", "enterprise_uscc": "enterprise_b", "department": "office"},
        {"department": None, "region": None, "enterprise": "enterprise_b"},
    ),
    (
        {"role": "coordinator", "department": "office", "region": "district_a"},
        {"department": "office", "region": None, "enterprise": None},
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("posted", "bound"), CREATE_CASES)
def test_create_binds_what_the_role_needs_and_shows_the_password_once(
    personas, city, client_for, posted, bound
):
    admin = client_for("sysadmin")
    data = {"username": "li.lei", "full_name": "李雷", "phone": "13912345678"}
    for key, value in posted.items():
        if key == "enterprise_uscc":
            data[key] = city[value].uscc.lower()
        elif key in ("department", "region"):
            data[key] = city[value].pk
        else:
            data[key] = value
    response = admin.post("/accounts/users/new/", data)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    user = User.objects.get(username="li.lei")
    initial = response.context["password"]
    assert user.check_password(initial)
    assert f'data-testid="secret">{initial}<' in response.content.decode()
    assert user.role == posted["role"]
    assert user.must_change_password is True
    for field, key in bound.items():
        assert getattr(user, f"{field}_id") == (city[key].pk if key else None)
    [event] = events("user.create")
    assert event.actor_id == personas["sysadmin"].pk
    assert event.after["username"] == "li.lei"
    assert "password" not in event.after
    # The password is never shown again, nor written anywhere but its hash.
    for url in (f"/accounts/users/{user.pk}/", "/accounts/users/", "/system/audit/"):
        page = admin.get(url)
        assert page.status_code == 200
        assert initial not in page.content.decode()
    assert initial not in str(list(AuditEvent.objects.values()))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"role": "lead_department"},
            {"department": ["部门用户须选择所属部门"]},
        ),
        (
            {"role": "district_officer"},
            {"region": ["县市区/园区用户须选择管辖区划"]},
        ),
        (
            {"role": "enterprise"},
            {"enterprise_uscc": ["企业用户须选择所属企业"]},
        ),
        (
            {"role": "enterprise", "enterprise_uscc": "91449901MA00000999"},
            {"enterprise_uscc": ["未找到该统一社会信用代码对应的企业"]},
        ),
        (
            {"role": "machine", "department": "office"},
            {"role": ["角色无效"]},
        ),
        (
            {"role": "leader", "username": "LEADER"},
            {"username": ["该用户名已被使用"]},
        ),
        (
            {"role": "leader", "username": "bad name!"},
            {"username": ["用户名只能包含字母、数字和 @ . + - _ 字符"]},
        ),
        (
            {"role": "leader", "phone": "12345"},
            {"phone": ["电话号码格式不正确（手机 11 位，或区号-号码）"]},
        ),
        (
            {"role": "leader", "full_name": ""},
            {"full_name": ["请填写姓名"]},
        ),
    ],
)
def test_create_refuses_bad_input_and_changes_nothing(personas, city, client_for, data, errors):
    before = _user_state()
    posted = {"username": "li.lei", "full_name": "李雷", **data}
    if posted.get("department") == "office":
        posted["department"] = city["office"].pk
    response = client_for("sysadmin").post("/accounts/users/new/", posted)
    assert response.status_code == 400
    assert response.context["form"].errors == errors
    assert "password" not in response.context
    assert _user_state() == before
    assert events("user.create") == []


# --- edit ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_edit_changes_role_and_binding_and_audits_the_difference(personas, city, client_for):
    target = personas["responsible_department"]
    response = client_for("sysadmin").post(
        f"/accounts/users/{target.pk}/edit/",
        {
            "full_name": "赵区长",
            "role": "district_officer",
            "region": city["district_b"].pk,
            "department": city["b_dept"].pk,
            "phone": "",
            "email": "zhao@example.cn",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/users/{target.pk}/"
    target.refresh_from_db()
    assert (target.role, target.region_id, target.department_id, target.full_name) == (
        "district_officer",
        city["district_b"].pk,
        city["b_dept"].pk,
        "赵区长",
    )
    [event] = events("user.update")
    assert event.before == {
        "full_name": "resp_dept",
        "role": "responsible_department",
        "department_id": city["a_dept"].pk,
        "region_id": None,
        "email": "",
    }
    assert event.after == {
        "full_name": "赵区长",
        "role": "district_officer",
        "department_id": city["b_dept"].pk,
        "region_id": city["district_b"].pk,
        "email": "zhao@example.cn",
    }
    # The username is not editable.
    assert target.username == "resp_dept"


@pytest.mark.django_db
def test_edit_form_is_prefilled(personas, city, client_for):
    response = client_for("sysadmin").get(f"/accounts/users/{personas['enterprise'].pk}/edit/")
    assert response.status_code == 200
    form = response.context["form"]
    assert "username" not in form.fields
    assert form.initial["role"] == "enterprise"
    assert form.initial["enterprise_uscc"] == city["enterprise_a"].uscc


@pytest.mark.django_db
def test_edit_refuses_a_role_without_its_binding(personas, client_for):
    target = personas["enterprise"]
    before = _user_state()
    response = client_for("sysadmin").post(
        f"/accounts/users/{target.pk}/edit/", {"full_name": "x", "role": "district_officer"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {"region": ["县市区/园区用户须选择管辖区划"]}
    assert _user_state() == before
    assert events("user.update") == []


@pytest.mark.django_db
def test_admin_cannot_change_their_own_role(personas, client_for):
    admin = personas["sysadmin"]
    before = _user_state()
    response = client_for("sysadmin").post(
        f"/accounts/users/{admin.pk}/edit/", {"full_name": "管理员", "role": "leader"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {"role": ["不能修改自己的角色"]}
    assert _user_state() == before


# --- disable / enable --------------------------------------------------------------------------


@pytest.mark.django_db
def test_disable_asks_first_then_ends_the_users_sessions(personas, client_for):
    target = personas["district_b"]
    victim_session = client_for("district_b")
    assert victim_session.get("/").status_code == 200
    admin = client_for("sysadmin")
    confirm = admin.get(f"/accounts/users/{target.pk}/disable/")
    assert confirm.status_code == 200
    assert "确定停用用户“district_b（district_b）”吗？" in confirm.content.decode()
    target.refresh_from_db()
    assert target.is_active is True

    response = admin.post(f"/accounts/users/{target.pk}/disable/")
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.is_active is False
    [event] = events("user.disable")
    assert (event.before, event.after) == ({"is_active": True}, {"is_active": False})
    # The open session of the disabled user stops working at once; logging in is refused.
    assert victim_session.get("/").status_code == 302
    assert post_login(Client(), "district_b").status_code == 400

    admin.post(f"/accounts/users/{target.pk}/enable/")
    target.refresh_from_db()
    assert target.is_active is True
    assert len(events("user.enable")) == 1
    assert post_login(Client(), "district_b").status_code == 302


@pytest.mark.django_db
def test_disabling_twice_or_oneself_is_refused(personas, client_for):
    admin = client_for("sysadmin")
    me = personas["sysadmin"]
    response = admin.post(f"/accounts/users/{me.pk}/disable/", follow=True)
    assert "不能停用或启用自己的账号" in response.content.decode()
    me.refresh_from_db()
    assert me.is_active is True
    admin.post(f"/accounts/users/{personas['leader'].pk}/disable/")
    again = admin.post(f"/accounts/users/{personas['leader'].pk}/disable/", follow=True)
    assert "该用户已停用" in again.content.decode()
    assert len(events("user.disable")) == 1


# --- reset password --------------------------------------------------------------------------


@pytest.mark.django_db
def test_reset_password_shows_the_new_one_once_and_forces_a_change(personas, client_for):
    target = personas["lead_department"]
    target_session = client_for("lead_department")
    admin = client_for("sysadmin")
    confirm = admin.get(f"/accounts/users/{target.pk}/reset-password/")
    assert confirm.status_code == 200
    target.refresh_from_db()
    assert target.check_password(PASSWORD)

    response = admin.post(f"/accounts/users/{target.pk}/reset-password/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    new_password = response.context["password"]
    target.refresh_from_db()
    assert target.check_password(new_password)
    assert not target.check_password(PASSWORD)
    assert target.must_change_password is True
    assert PasswordHistory.objects.filter(user=target).count() == 1
    [event] = events("user.password_reset")
    assert (event.actor_id, event.object_id) == (personas["sysadmin"].pk, str(target.pk))
    assert new_password not in str(list(AuditEvent.objects.values()))
    assert new_password not in admin.get(f"/accounts/users/{target.pk}/").content.decode()
    # The user's existing session ended with the old password.
    assert target_session.get("/").status_code == 302

    client = Client()
    assert post_login(client, "lead_dept", new_password)["Location"] == "/accounts/password/"


@pytest.mark.django_db
def test_admin_cannot_reset_their_own_password_here(personas, client_for):
    me = personas["sysadmin"]
    response = client_for("sysadmin").post(f"/accounts/users/{me.pk}/reset-password/", follow=True)
    assert "不能重置自己的密码，请使用“修改密码”" in response.content.decode()
    me.refresh_from_db()
    assert me.check_password(PASSWORD)
    assert events("user.password_reset") == []


@pytest.mark.django_db
def test_unknown_user_is_404(personas, client_for):
    admin = client_for("sysadmin")
    for url in ("/accounts/users/999999/", "/accounts/users/999999/edit/"):
        assert admin.get(url).status_code == 404
    assert admin.post("/accounts/users/999999/disable/").status_code == 404


@pytest.mark.django_db
def test_services_refuse_fields_that_have_their_own_service(personas):
    with pytest.raises(TypeError):
        services.update_user(personas["leader"], actor=personas["sysadmin"], is_active=False)
    with pytest.raises(TypeError):
        services.create_user(
            actor=personas["sysadmin"], username="x1", role=Role.LEADER, is_superuser=True
        )
    assert User.objects.get(username="leader").is_active is True
    assert not User.objects.filter(username="x1").exists()
