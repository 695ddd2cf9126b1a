import pytest

from sizhen.core.models import AuditEvent
from sizhen.enterprise_requests import services
from sizhen.enterprise_requests.selectors import mask_name, mask_phone
from sizhen.enterprise_requests.similarity import bigrams, similarity
from sizhen.enterprise_requests.tests.factories import portal_request


def test_bigrams_ignore_spaces_and_punctuation():
    assert bigrams("稳岗 补贴，未到账") == {"稳岗", "岗补", "补贴", "贴未", "未到", "到账"}
    assert bigrams("") == frozenset()
    assert bigrams("税") == {"税"}


def test_similarity_is_dice_of_bigrams():
    assert similarity("稳岗补贴", "稳岗补贴") == 1.0
    assert similarity("稳岗补贴", "道路破损") == 0.0
    assert similarity("稳岗补贴未到", "稳岗补贴") == pytest.approx(2 * 3 / (5 + 3))


def test_masks():
    assert mask_phone("13800001111") == "138****1111"
    assert mask_phone("5551234") == "555****1234"
    assert mask_phone("12345") == "***45"
    assert mask_name("东湖示范科技有限公司") == "东湖****公司"
    assert mask_name("张三") == "张*"


@pytest.mark.django_db
def test_each_write_is_one_audit_event(personas, city):
    request = portal_request(personas["enterprise"])
    own = AuditEvent.objects.filter(
        object_type="enterprise_requests.enterpriserequest", object_id=str(request.pk)
    )
    assert own.count() == 1
    services.dispatch_request(request, actor=personas["coordinator"], department=city["a_dept"])
    services.accept_request(request, actor=personas["responsible_department"])
    services.urge_request(request, actor=personas["leader"], note="请加快")
    actions = list(own.order_by("id").values_list("action", flat=True))
    assert actions == [
        "enterprise_request.submit",
        "enterprise_request.dispatch",
        "enterprise_request.accept",
        "enterprise_request.urge",
    ]


@pytest.mark.django_db
def test_district_officer_registers_window_request_by_api(client_for, city):
    import json

    response = client_for("district_a").post(
        "/api/v1/requests",
        json.dumps(
            {
                "text": "专窗登记：企业反映用电报装慢",
                "channel": "staff_window",
                "enterprise_uscc": city["enterprise_a"].uscc,
                "category": "0302",
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["channel"] == "staff_window"
    refused = client_for("district_b").post(
        "/api/v1/requests",
        json.dumps(
            {"text": "x", "channel": "staff_window", "enterprise_uscc": city["enterprise_a"].uscc}
        ),
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert refused.json()["detail"] == "只能登记本辖区的诉求"
