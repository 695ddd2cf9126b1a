"""The API: scoped reads, 404 for another district, progress by a department token, steps."""

from __future__ import annotations

from typing import Any

import pytest

from sizhen.accounts.services import create_api_token
from sizhen.core.models import TransitionHistory
from sizhen.rectification import services
from sizhen.rectification.models import ProgressReport

pytestmark = pytest.mark.django_db


def _url(item: Any, suffix: str = "") -> str:
    return f"/api/v1/rectification/items/{item.pk}{suffix}"


def test_district_b_gets_404_and_changes_nothing(item: Any, client_for: Any) -> None:
    client = client_for("district_b")
    assert client.get(_url(item)).status_code == 404
    response = client.post(
        _url(item, "/steps/accept"), {"note": ""}, content_type="application/json"
    )
    assert response.status_code == 404
    response = client.post(
        _url(item, "/progress"), {"note": "伪造"}, content_type="application/json"
    )
    assert response.status_code == 404
    listing = client.get("/api/v1/rectification/items").json()
    assert listing["meta"]["count"] == 0
    item.refresh_from_db()
    assert item.status == "open"
    assert TransitionHistory.objects.count() == 0
    assert ProgressReport.objects.count() == 0


def test_district_a_reads_and_steps(item: Any, client_for: Any) -> None:
    client = client_for("district_a")
    body = client.get(_url(item)).json()
    assert (body["number"], body["status"], body["region_code"], body["indicators"]) == (
        item.number,
        "open",
        "449901",
        ["T01"],
    )
    response = client.post(
        _url(item, "/steps/accept"), {"status": "open"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "in_progress"
    stale = client.post(
        _url(item, "/steps/accept"), {"status": "open"}, content_type="application/json"
    )
    assert stale.status_code == 409
    assert "已被他人处理" in stale.json()["detail"]


def test_department_token_reports_progress(
    item: Any, personas: dict[str, Any], city: dict[str, Any], client_for: Any
) -> None:
    _row, secret = create_api_token(
        actor=personas["sysadmin"],
        name="市场监管",
        department=city["market"],
        scopes=["rectification:write"],
    )
    _row, reader = create_api_token(
        actor=personas["sysadmin"], name="只读", department=city["market"], scopes=["read"]
    )
    _row, other = create_api_token(
        actor=personas["sysadmin"],
        name="西山",
        department=city["b_dept"],
        scopes=["rectification:write"],
    )
    client = client_for(None)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    early = client.post(
        _url(item, "/progress"), {"note": "已部署"}, content_type="application/json", **headers
    )
    assert early.status_code == 409
    assert "只有整改中的事项可以报送进展" in early.json()["detail"]
    services.transition_item(item, "accept", actor=personas["lead_department"])
    response = client.post(
        _url(item, "/progress"),
        {"note": "已完成系统改造", "percent": 70},
        content_type="application/json",
        **headers,
    )
    assert response.status_code == 201
    assert (response.json()["note"], response.json()["percent"]) == ("已完成系统改造", 70)
    no_scope = client.post(
        _url(item, "/progress"),
        {"note": "x"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {reader}",
    )
    assert no_scope.status_code == 404
    foreign = client.post(
        _url(item, "/progress"),
        {"note": "x"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {other}",
    )
    assert foreign.status_code == 404
    steps = client.post(_url(item, "/steps/submit"), {}, content_type="application/json", **headers)
    assert steps.status_code == 404
    assert list(ProgressReport.objects.values_list("note", flat=True)) == ["已完成系统改造"]
    item.refresh_from_db()
    assert (item.status, item.progress_note) == ("in_progress", "已完成系统改造")


def test_summary_and_filters(item: Any, client_for: Any) -> None:
    client = client_for("leader")
    assert client.get("/api/v1/rectification/summary").json() == {
        "total": 1,
        "closed": 0,
        "rate": 0.0,
        "repeated": 0,
        "overdue": 0,
    }
    assert client.get("/api/v1/rectification/items?status=closed").json()["meta"]["count"] == 0
    bad = client.get("/api/v1/rectification/items?status=nope")
    assert bad.status_code == 400
    assert client_for("enterprise").get("/api/v1/rectification/items").status_code == 404


def test_close_off_refusals_over_the_api_carry_the_reason(
    item: Any, personas: dict[str, Any], client_for: Any
) -> None:
    from sizhen.rectification.choices import Judgement
    from sizhen.rectification.tests.conftest import BY_EVIDENCE, pdf

    lead, coordinator = client_for("lead_department"), client_for("coordinator")

    def step(client: Any, action: str, **body: Any) -> Any:
        return client.post(_url(item, f"/steps/{action}"), body, content_type="application/json")

    assert step(lead, "accept").json()["status"] == "in_progress"
    no_evidence = step(lead, "submit")
    assert (no_evidence.status_code, no_evidence.json()["detail"]) == (
        409,
        "申请销号前请先上传整改佐证材料",
    )
    services.add_evidence(item, actor=personas["lead_department"], upload=pdf())
    assert step(lead, "submit").json()["status"] == "submitted"
    unreviewed = step(coordinator, "close")
    assert (unreviewed.status_code, unreviewed.json()["detail"]) == (
        409,
        "尚未进行整改效果核验（关联指标整改前后对比），不能销号",
    )
    # The lead unit may not close its own item, even once it is reviewed.
    services.verify_effect(
        item, actor=personas["coordinator"], judgement=Judgement.EFFECTIVE, comment=BY_EVIDENCE
    )
    assert step(lead, "close").status_code == 409
    item.refresh_from_db()
    assert item.status == "submitted"
    closed = step(coordinator, "close", status="submitted")
    assert closed.json()["status"] == "closed"
    reopened = step(coordinator, "reopen", note="问题反弹")
    assert (reopened.json()["status"], reopened.json()["round"]) == ("reopened", 2)
    actions = [h.action for h in TransitionHistory.objects.order_by("id")]
    assert actions == ["accept", "submit", "close", "reopen"]
