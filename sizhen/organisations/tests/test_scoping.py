from __future__ import annotations

import pytest

from sizhen.core.models import AuditEvent
from sizhen.organisations.models import Enterprise


@pytest.mark.django_db
def test_district_officer_sees_only_own_subtree(personas, city):
    visible = set(
        Enterprise.objects.visible_to(personas["district_a"]).values_list("name", flat=True)
    )
    assert visible == {"东湖示范科技有限公司", "高新示范制造有限公司"}


@pytest.mark.django_db
def test_enterprise_list_page_is_scoped_and_masks_phone(client_for):
    response = client_for("district_a").get("/org/enterprises/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "东湖示范科技有限公司" in body
    assert "西山示范物流有限公司" not in body
    assert "138****1111" in body
    assert "13800001111" not in body


@pytest.mark.django_db
def test_api_detail_of_other_district_is_404_and_audited(client_for, city):
    uscc = city["enterprise_b"].uscc
    before = AuditEvent.objects.filter(action="access.denied").count()
    response = client_for("district_a").get(f"/api/v1/enterprises/{uscc}")
    assert response.status_code == 404
    assert AuditEvent.objects.filter(action="access.denied").count() == before + 1
    assert client_for("district_b").get(f"/api/v1/enterprises/{uscc}").status_code == 200
