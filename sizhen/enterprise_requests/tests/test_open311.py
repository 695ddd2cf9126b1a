"""Open311 GeoReport v2 at /open311/v2/: discovery, services, POST with api_key, scoped reads."""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from django.test import Client

from sizhen.accounts.services import create_api_token
from sizhen.core.models import AuditEvent
from sizhen.enterprise_requests import services
from sizhen.enterprise_requests.models import EnterpriseRequest
from sizhen.enterprise_requests.tests.factories import dispatched, portal_request

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"


def _parse(content: bytes) -> ET.Element:
    return ET.fromstring(content)  # noqa: S314 - our own server's answer, not untrusted input


def _token(personas: Any, department: Any, scopes: list[str]) -> str:
    _row, secret = create_api_token(
        actor=personas["sysadmin"], name="Open311 平台", department=department, scopes=scopes
    )
    return secret


def _post(body: dict[str, str], fmt: str = "json", **headers: Any) -> Any:
    return Client().post(f"{BASE}/requests.{fmt}", body, **headers)


FORM = {
    "service_code": "0101",
    "description": "企业开办时刻章环节需要跑三次，请协调解决",
    "attribute[region]": "449901",
    "phone": "13712345678",
    "last_name": "李",
    "first_name": "四",
}


def test_discovery_in_both_formats(city):
    data = Client().get(f"{BASE}/discovery.json").json()
    assert data["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert data["endpoints"][0]["url"] == "http://testserver/open311/v2"
    assert data["endpoints"][0]["formats"] == ["text/xml", "application/json"]
    response = Client().get(f"{BASE}/discovery.xml")
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = _parse(response.content)
    assert root.tag == "discovery"
    formats = [f.text for f in root.findall("endpoints/endpoint/formats/format")]
    assert formats == ["text/xml", "application/json"]


def test_services_are_the_active_leaf_categories(city):
    response = Client().get(f"{BASE}/services.json")
    assert response["Content-Type"] == "application/json; charset=utf-8"
    data = response.json()
    codes = [s["service_code"] for s in data]
    assert len(codes) == 30
    assert "01" not in codes
    first = next(s for s in data if s["service_code"] == "0101")
    assert first == {
        "service_code": "0101",
        "service_name": "企业开办",
        "description": "设立登记、刻章、申领发票、社保登记等",
        "metadata": True,
        "type": "realtime",
        "keywords": "企业开办,设立登记,刻章,申领发票,社保登记等",
        "group": "市场准入",
    }
    xml = _parse(Client().get(f"{BASE}/services.xml").content)
    assert [s.findtext("service_code") for s in xml.findall("service")] == codes
    assert xml.find("service/metadata").text == "true"  # type: ignore[union-attr]


def test_service_definition_and_unknown_code(city):
    data = Client().get(f"{BASE}/services/0101.json").json()
    assert data["service_code"] == "0101"
    codes = [a["code"] for a in data["attributes"]]
    assert codes == [
        "uscc",
        "region",
        "kind",
        "publishable",
        "title",
        "idempotency_key",
        "external_id",
    ]
    region = data["attributes"][1]
    assert {"key": "449902", "name": "西山区"} in region["values"]
    xml = _parse(Client().get(f"{BASE}/services/0101.xml").content)
    assert xml.tag == "service_definition"
    assert len(xml.findall("attributes/attribute")) == 7
    missing = Client().get(f"{BASE}/services/9999.json")
    assert missing.status_code == 404
    assert missing.json() == [{"code": 404, "description": "服务编码 9999 不存在或已停用"}]


def test_post_creates_a_request_on_the_open311_channel(personas, city):
    token = _token(personas, city["office"], ["requests:write"])
    events = AuditEvent.objects.filter(action="enterprise_request.submit").count()
    response = _post({**FORM, "api_key": token})
    assert response.status_code == 201, response.content
    (answer,) = response.json()
    created = EnterpriseRequest.objects.get(number=answer["service_request_id"])
    assert answer["account_id"] is None
    assert answer["service_notice"] == (
        f"已受理，诉求编号 {created.number}，将由营商办登记派单后办理"
    )
    assert created.channel == "open311"
    assert created.category.code == "0101"
    assert created.region == city["district_a"]
    assert created.contact_name == "李四"
    assert created.contact_phone == "13712345678"
    assert created.source_key.startswith("token:")
    assert AuditEvent.objects.filter(action="enterprise_request.submit").count() == events + 1


def test_post_xml_answer_and_enterprise_as_location(personas, city):
    token = _token(personas, city["office"], ["requests:write"])
    body = {
        "service_code": "0402",
        "description": "稳岗补贴至今未到账",
        "attribute[uscc]": city["enterprise_b"].uscc.lower(),
        "attribute[publishable]": "true",
    }
    response = _post(body, "xml", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 201
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    root = _parse(response.content)
    number = root.findtext("request/service_request_id")
    assert root.findtext("request/account_id") == ""
    created = EnterpriseRequest.objects.get(number=number)
    assert created.enterprise == city["enterprise_b"]
    assert created.region == city["district_b"]
    assert created.publishable is True


@pytest.mark.parametrize(
    ("key", "description"),
    [
        (None, "api_key 缺失或无效"),
        ("szk_not-a-real-token", "api_key 缺失或无效"),
        ("read-only", "该接口令牌没有推送企业诉求（requests:write）的权限"),
    ],
)
def test_post_without_a_valid_write_key_is_403(personas, city, key, description):
    if key == "read-only":
        key = _token(personas, city["office"], ["requests:read"])
    body = dict(FORM)
    if key:
        body["api_key"] = key
    response = _post(body)
    assert response.status_code == 403
    assert response.json() == [{"code": 403, "description": description}]
    assert EnterpriseRequest.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "description"),
    [
        ({"service_code": ""}, "缺少 service_code（诉求分类编码）"),
        ({"service_code": "9999"}, "服务编码 9999 不存在或已停用"),
        (
            {"attribute[region]": ""},
            "缺少位置：请提供 lat 和 long、address_string、address_id（区划代码）、"
            "attribute[region] 或 attribute[uscc] 之一",
        ),
        ({"lat": "30.5"}, "lat 和 long 必须同时提供"),
        ({"lat": "north", "long": "1"}, "lat 必须是数字（WGS84 经纬度）"),
        ({"attribute[region]": "000000"}, "区划代码 000000 不存在"),
        ({"attribute[uscc]": "91449901XXXXXXXXXX"}, "统一社会信用代码 91449901XXXXXXXXXX 未登记"),
        ({"description": "  "}, "请填写诉求内容"),
        ({"attribute[kind]": "praise"}, "诉求类型无效"),
    ],
)
def test_post_bad_input_is_400_in_the_spec_shape(personas, city, change, description):
    token = _token(personas, city["office"], ["requests:write"])
    response = _post({**FORM, **change, "api_key": token})
    assert response.status_code == 400
    assert response.json() == [{"code": 400, "description": description}]
    assert EnterpriseRequest.objects.count() == 0
    xml = _post({**FORM, **change, "api_key": token}, "xml")
    root = _parse(xml.content)
    assert root.tag == "errors"
    assert root.findtext("error/code") == "400"
    assert root.findtext("error/description") == description


def test_lat_long_or_address_is_a_location(personas, city):
    token = _token(personas, city["office"], ["requests:write"])
    base = {k: v for k, v in FORM.items() if k != "attribute[region]"}
    first = _post({**base, "lat": "30.52", "long": "114.31", "api_key": token})
    second = _post({**base, "address_string": "东湖路 1 号", "api_key": token})
    third = _post({**base, "address_id": "449902", "api_key": token})
    assert [r.status_code for r in (first, second, third)] == [201, 201, 201]
    rows = EnterpriseRequest.objects.order_by("pk")
    assert [(r.lat, r.lon, r.address, r.region_id) for r in rows] == [
        (30.52, 114.31, "", None),
        (None, None, "东湖路 1 号", None),
        (None, None, "", city["district_b"].pk),
    ]


@pytest.mark.parametrize(
    ("extra", "headers"),
    [
        ({}, {"HTTP_IDEMPOTENCY_KEY": "call-1"}),
        ({"attribute[idempotency_key]": "call-1"}, {}),
        ({"attribute[external_id]": "12345-0001"}, {}),
    ],
)
def test_retries_with_one_key_create_one_request(personas, city, extra, headers):
    token = _token(personas, city["office"], ["requests:write"])
    first = _post({**FORM, **extra, "api_key": token}, **headers)
    again = _post({**FORM, **extra, "description": "重试", "api_key": token}, **headers)
    assert (first.status_code, again.status_code) == (201, 200)
    number = first.json()[0]["service_request_id"]
    assert again.json()[0]["service_request_id"] == number
    assert again.json()[0]["service_notice"] == f"重复提交，已按原诉求 {number} 处理"
    assert EnterpriseRequest.objects.count() == 1
    assert EnterpriseRequest.objects.get().text == FORM["description"]


def test_same_key_from_another_token_is_another_request(personas, city):
    one = _token(personas, city["office"], ["requests:write"])
    two = _token(personas, city["a_dept"], ["requests:write"])
    _post({**FORM, "api_key": one}, HTTP_IDEMPOTENCY_KEY="k")
    _post({**FORM, "api_key": two}, HTTP_IDEMPOTENCY_KEY="k")
    assert EnterpriseRequest.objects.count() == 2


def _publishable(personas: Any, city: Any) -> EnterpriseRequest:
    return dispatched(
        personas,
        city,
        text="东湖示范科技有限公司反映：联系人张三 13800001111，刻章需跑三次",
        title="东湖示范科技有限公司刻章难 13800001111",
        publishable=True,
    )


def test_anonymous_reads_only_publishable_requests_masked(personas, city):
    shown = _publishable(personas, city)
    hidden = portal_request(personas["enterprise"], text="不公开的诉求内容")
    data = Client().get(f"{BASE}/requests.json").json()
    assert [r["service_request_id"] for r in data] == [shown.number]
    (row,) = data
    assert row["status"] == "open"
    assert row["status_notes"] == "已派单"
    assert row["description"] == "东湖****公司刻章难 138****1111"
    assert row["agency_responsible"] == "东湖区市场监督管理局"
    assert row["address"] == "东湖区"
    assert (row["lat"], row["long"]) == (None, None)
    assert row["extended_attributes"]["enterprise"] == "东湖****公司"
    assert row["requested_datetime"].endswith("+08:00")
    assert row["expected_datetime"] == f"{shown.deadline:%Y-%m-%d}T23:59:59+08:00"
    assert "13800001111" not in json.dumps(data, ensure_ascii=False)
    assert "张三" not in json.dumps(data, ensure_ascii=False)
    missing = Client().get(f"{BASE}/requests/{hidden.number}.json")
    assert missing.status_code == 404
    assert missing.json() == [{"code": 404, "description": f"诉求 {hidden.number} 不存在"}]


def test_a_key_reads_its_department_scope_in_full_and_nothing_else(personas, city):
    own = _publishable(personas, city)  # dispatched to a_dept
    private = portal_request(personas["enterprise"], text="营业执照变更迟迟未办好")
    services.dispatch_request(private, actor=personas["coordinator"], department=city["a_dept"])
    a_key = _token(personas, city["a_dept"], ["requests:read"])
    b_key = _token(personas, city["b_dept"], ["requests:read"])
    mine = Client().get(f"{BASE}/requests.json", {"api_key": a_key}).json()
    assert {r["service_request_id"] for r in mine} == {own.number, private.number}
    full = next(r for r in mine if r["service_request_id"] == own.number)
    assert full["description"] == own.text
    assert full["extended_attributes"]["enterprise"] == "东湖示范科技有限公司"
    theirs = Client().get(f"{BASE}/requests.json", {"api_key": b_key}).json()
    assert [r["service_request_id"] for r in theirs] == [own.number]
    assert theirs[0]["description"] == "东湖****公司刻章难 138****1111"
    denied_before = AuditEvent.objects.filter(action="access.denied").count()
    response = Client().get(f"{BASE}/requests/{private.number}.json", {"api_key": b_key})
    assert response.status_code == 404
    assert AuditEvent.objects.filter(action="access.denied").count() == denied_before + 1


def test_query_filters(personas, city):
    shown = _publishable(personas, city)
    other = portal_request(personas["enterprise_b"], text="西山物流园区道路破损", publishable=True)
    services.withdraw_request(other, actor=personas["enterprise_b"], reason="已自行解决")
    get = Client().get
    assert [r["service_request_id"] for r in get(f"{BASE}/requests.json?status=open").json()] == [
        shown.number
    ]
    closed = get(f"{BASE}/requests.json", {"status": "closed"}).json()
    assert [(r["service_request_id"], r["status_notes"]) for r in closed] == [
        (other.number, "已撤回")
    ]
    by_code = get(f"{BASE}/requests.json", {"service_code": "0101,0999"}).json()
    assert len(by_code) == 2
    both = get(f"{BASE}/requests.json", {"service_request_id": f"{shown.number},{other.number}"})
    assert len(both.json()) == 2
    old = get(
        f"{BASE}/requests.json",
        {"start_date": "2020-01-01T00:00:00+08:00", "end_date": "2020-02-01T00:00:00Z"},
    )
    assert old.json() == []
    too_long = get(
        f"{BASE}/requests.json",
        {"start_date": "2020-01-01T00:00:00Z", "end_date": "2020-06-01T00:00:00Z"},
    )
    assert too_long.status_code == 400
    assert too_long.json() == [{"code": 400, "description": "查询时间范围不能超过 90 天"}]
    bad = get(f"{BASE}/requests.json", {"status": "pending"})
    assert bad.json() == [{"code": 400, "description": "status 只能是 open 或 closed"}]
    page = get(f"{BASE}/requests.json", {"page_size": "1", "page": "2"}).json()
    assert [r["service_request_id"] for r in page] == [shown.number]


def test_single_request_xml(personas, city):
    shown = _publishable(personas, city)
    response = Client().get(f"{BASE}/requests/{shown.number}.xml")
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    root = _parse(response.content)
    assert root.tag == "service_requests"
    (request,) = root.findall("request")
    assert request.findtext("service_request_id") == shown.number
    assert request.findtext("status") == "open"
    assert request.findtext("service_code") == "0101"
    assert request.findtext("extended_attributes/detailed_status") == "dispatched"
    assert request.findtext("lat") == ""
