"""Open311 against a running server, read by an independent client: the PyPI ``georeport``
package (it has no POST, so POSTs are form-encoded with ``requests``, as a 311 system would)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import xmltodict
from django.core.management import call_command
from georeport import GeoReport

from sizhen.accounts.services import create_api_token
from sizhen.enterprise_requests.models import EnterpriseRequest
from sizhen.enterprise_requests.tests.factories import dispatched, portal_request

# The live server runs in a thread with its own connection, so rows must be committed.
# pytest-django runs transactional tests after the others, so the flush that ends each one
# cannot take the migrated taxonomy from a later non-transactional test; ``root`` reloads it.
pytestmark = pytest.mark.django_db(transaction=True)

FORM = {
    "service_code": "0402",
    "description": "来电企业反映：稳岗补贴至今未到账，联系人王五 13911112222",
    "attribute[uscc]": "",
    "phone": "13911112222",
    "last_name": "王",
    "first_name": "五",
}


@pytest.fixture
def root(live_server: Any, city: Any) -> str:
    # A flush by an earlier transactional test would have removed the migrated taxonomy.
    call_command("load_request_taxonomy", verbosity=0)
    return f"{live_server.url}/open311/v2"


def _key(personas: Any, department: Any, scopes: list[str]) -> str:
    _row, secret = create_api_token(
        actor=personas["sysadmin"], name="12345 热线", department=department, scopes=scopes
    )
    return secret


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_lists_services_and_reads_definitions(root, fmt):
    client = GeoReport(root, output_format=fmt)
    listed = client.get_service_list()
    assert len(listed) == 30
    first = next(s for s in listed if s["service_code"] == "0101")
    assert first["service_name"] == "企业开办"
    assert first["group"] == "市场准入"
    assert str(first["metadata"]).lower() == "true"
    definition = client.get_service_definition("0402")
    assert definition["service_code"] == "0402"
    attributes = definition["attributes"]
    if fmt == "xml":
        attributes = attributes["attribute"]
    assert [a["code"] for a in attributes][:2] == ["uscc", "region"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_then_georeport_reads_it_back(root, personas, city, fmt):
    write = _key(personas, city["office"], ["requests:write"])
    body = {**FORM, "attribute[uscc]": city["enterprise_a"].uscc, "api_key": write}
    response = requests.post(f"{root}/requests.{fmt}", data=body, timeout=10)
    assert response.status_code == 201, response.text
    assert response.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    stored = EnterpriseRequest.objects.get()
    assert stored.channel == "open311"
    assert stored.enterprise == city["enterprise_a"]
    assert stored.source_token is not None
    # The pushing department's token reads its own request in full (georeport sends no key
    # on GETs, so this read is made directly).
    one = requests.get(f"{root}/requests/{stored.number}.{fmt}", {"api_key": write}, timeout=10)
    assert one.status_code == 200
    row = one.json()[0] if fmt == "json" else xmltodict.parse(one.content)["service_requests"]
    if fmt == "xml":
        row = row["request"]
    assert row["service_request_id"] == stored.number
    assert row["description"] == FORM["description"]
    anonymous = GeoReport(root, output_format=fmt)
    # Not publishable: anonymous clients do not see it at all.
    with pytest.raises(requests.HTTPError):
        anonymous.get_service_request(stored.number)


def test_bad_key_is_403_and_creates_nothing(root, personas, city):
    body = {**FORM, "attribute[region]": "449901", "api_key": "szk_forged"}
    response = requests.post(f"{root}/requests.json", data=body, timeout=10)
    assert response.status_code == 403
    assert response.json() == [{"code": 403, "description": "api_key 缺失或无效"}]
    xml = requests.post(f"{root}/requests.xml", data={**body, "api_key": ""}, timeout=10)
    assert xml.status_code == 403
    assert xml.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert EnterpriseRequest.objects.count() == 0


def test_retry_with_the_same_key_creates_one_request(root, personas, city):
    write = _key(personas, city["office"], ["requests:write"])
    body = {**FORM, "attribute[region]": "449901", "api_key": write}
    headers = {"Idempotency-Key": "hotline-20261122-0001"}
    answers = [
        requests.post(f"{root}/requests.json", data=body, headers=headers, timeout=10)
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [201, 200, 200]
    numbers = {a.json()[0]["service_request_id"] for a in answers}
    assert EnterpriseRequest.objects.count() == 1
    assert numbers == {EnterpriseRequest.objects.get().number}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_reads_publishable_requests_without_personal_data(root, personas, city, fmt):
    shown = dispatched(
        personas,
        city,
        text="东湖示范科技有限公司：刻章环节需跑三次，联系人张三 13800001111",
        title="东湖示范科技有限公司刻章难",
        publishable=True,
    )
    private = portal_request(personas["enterprise"], text="营业执照变更迟迟未办好")
    anonymous = GeoReport(root, output_format=fmt)
    listed = anonymous.get_service_requests(status="open")
    if fmt == "xml":
        listed = [listed] if isinstance(listed, dict) else listed
    assert [r["service_request_id"] for r in listed] == [shown.number]
    one = anonymous.get_service_request(shown.number)
    assert one["description"] == "东湖****公司刻章难"
    assert one["agency_responsible"] == "东湖区市场监督管理局"
    assert one["status"] == "open"
    assert one["status_notes"] == "已派单"
    assert one["extended_attributes"]["enterprise"] == "东湖****公司"
    assert "13800001111" not in str(one)
    assert private.number not in str(listed)


def test_another_districts_key_sees_no_personal_data(root, personas, city):
    shown = dispatched(
        personas,
        city,
        text="东湖示范科技有限公司：刻章环节需跑三次，联系人张三 13800001111",
        title="刻章难",
        publishable=True,
    )
    b_key = _key(personas, city["b_dept"], ["requests:read"])
    a_key = _key(personas, city["a_dept"], ["requests:read"])
    theirs = requests.get(f"{root}/requests/{shown.number}.json", {"api_key": b_key}, timeout=10)
    (row,) = theirs.json()
    assert row["description"] == "刻章难"
    assert "张三" not in theirs.text
    assert "13800001111" not in theirs.text
    assert row["lat"] is None
    mine = requests.get(f"{root}/requests/{shown.number}.json", {"api_key": a_key}, timeout=10)
    assert mine.json()[0]["description"] == shown.text
