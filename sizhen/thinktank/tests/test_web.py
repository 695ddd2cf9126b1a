"""Pages of the policy library: the public search and policy page, drafts hidden from all but
the office, the staff list with export, the office's edits and steps (audited), attachments
with extracted text, the enterprise's 我可享受的政策 and its home page block."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from docx import Document

from sizhen.core.models import AuditEvent
from sizhen.thinktank.models import Policy


@pytest.fixture
def library(make_policy: Any, city: dict[str, Any]) -> dict[str, Policy]:
    return {
        "published": make_policy(
            "关于进一步加大增值税期末留抵退税政策实施力度的公告", "符合条件的小微企业退还留抵税额。"
        ),
        "draft": make_policy("首贷户培育行动方案（草稿）", "扩大首贷覆盖面。", publish=False),
        "district": make_policy(
            "东湖区软件企业扶持办法", "软件企业。", industries=["I65"], regions=[city["district_a"]]
        ),
    }


def test_anonymous_visitors_search_and_read_published_policies(
    client_for: Any, library: dict[str, Policy]
) -> None:
    client = client_for(None)
    page = client.get(reverse("thinktank:search"), {"q": "留抵退税"})
    assert page.status_code == 200
    text = page.content.decode()
    assert "<mark>留抵退税</mark>" in text
    assert "与“留抵退税”相关的政策 1 项" in text
    detail = client.get(reverse("thinktank:policy_detail", args=[library["published"].pk]))
    assert detail.status_code == 200
    assert "现行有效" in detail.content.decode()


@pytest.mark.parametrize("persona", [None, "district_a", "lead_department", "leader", "enterprise"])
def test_a_draft_answers_404_to_everyone_but_the_office(
    client_for: Any, library: dict[str, Policy], persona: str | None
) -> None:
    url = reverse("thinktank:policy_detail", args=[library["draft"].pk])
    assert client_for(persona).get(url).status_code == 404
    assert (
        "首贷户培育"
        not in client_for(persona).get(reverse("thinktank:search"), {"q": "首贷"}).content.decode()
    )


@pytest.mark.parametrize("persona", ["coordinator", "sysadmin"])
def test_the_office_sees_and_publishes_drafts(
    client_for: Any, library: dict[str, Policy], persona: str
) -> None:
    draft = library["draft"]
    client = client_for(persona)
    assert client.get(reverse("thinktank:policy_detail", args=[draft.pk])).status_code == 200
    response = client.post(
        reverse("thinktank:policy_step", args=[draft.pk, "publish"]), {"status": "draft"}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == "in_force"
    assert AuditEvent.objects.filter(action="policy.publish", object_id=str(draft.pk)).count() == 1


@pytest.mark.parametrize("persona", ["district_a", "lead_department", "leader", "enterprise"])
def test_others_cannot_edit_or_publish(
    client_for: Any, library: dict[str, Policy], persona: str
) -> None:
    client = client_for(persona)
    policy = library["published"]
    before = Policy.objects.values().get(pk=policy.pk)
    events = AuditEvent.objects.filter(action__startswith="policy.").count()
    for url in (
        reverse("thinktank:policy_edit", args=[policy.pk]),
        reverse("thinktank:policy_step", args=[policy.pk, "repeal"]),
        reverse("thinktank:policy_attachment", args=[policy.pk]),
        reverse("thinktank:policy_redemption", args=[policy.pk]),
        reverse("thinktank:policy_create"),
        reverse("thinktank:import"),
    ):
        data = {"title": "改", "note": "改", "status": "in_force"}
        assert client.post(url, data).status_code == 404
    assert Policy.objects.values().get(pk=policy.pk) == before
    assert AuditEvent.objects.filter(action__startswith="policy.").count() == events


def test_the_office_registers_and_edits_a_policy(client_for: Any, city: dict[str, Any]) -> None:
    client = client_for("coordinator")
    form = {
        "title": "示范市首贷续贷贴息办法",
        "doc_number": "示金发〔2025〕3号",
        "issuer": "示范市地方金融管理局",
        "level": "city",
        "published_on": "2025-05-01",
        "body": "对首贷户给予贴息。",
        "industries": "C、i65",
        "sizes": ["small", "micro"],
        "regions": [city["district_a"].pk],
        "tags": "首贷、贴息",
        "publish": "1",
    }
    response = client.post(reverse("thinktank:policy_create"), form)
    assert response.status_code == 302
    policy = Policy.objects.get(doc_number="示金发〔2025〕3号")
    assert (policy.status, policy.industries, policy.sizes, policy.tags) == (
        "in_force", ["C", "I65"], ["small", "micro"], ["首贷", "贴息"],
    )  # fmt: skip
    form["title"] = "示范市首贷续贷贴息办法（修订）"
    response = client.post(reverse("thinktank:policy_edit", args=[policy.pk]), form)
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.title == "示范市首贷续贷贴息办法（修订）"
    assert AuditEvent.objects.filter(action="policy.update", object_id=str(policy.pk)).count() == 1
    bad = {**form, "industries": "99"}
    response = client.post(reverse("thinktank:policy_edit", args=[policy.pk]), bad)
    assert response.status_code == 400
    assert "行业代码 99 无效" in response.content.decode()


def test_a_docx_attachment_becomes_searchable(client_for: Any, library: dict[str, Policy]) -> None:
    document = Document()
    document.add_paragraph("附件：专精特新中小企业认定申请表")
    buffer = io.BytesIO()
    document.save(buffer)
    upload = SimpleUploadedFile(
        "申请表.docx",
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    policy = library["published"]
    client = client_for("coordinator")
    response = client.post(
        reverse("thinktank:policy_attachment", args=[policy.pk]), {"file": upload}
    )
    assert response.status_code == 302
    attachment = policy.attachments.get()
    assert "专精特新" in attachment.text
    result = client_for(None).get(reverse("thinktank:search"), {"q": "专精特新"})
    assert policy.title in result.content.decode()
    download = client_for(None).get(reverse("thinktank:attachment_download", args=[attachment.pk]))
    assert download.status_code == 200


def test_the_staff_list_filters_searches_and_exports(
    client_for: Any, library: dict[str, Policy]
) -> None:
    client = client_for("district_a")
    page = client.get(reverse("thinktank:policy_list"), {"q": "留抵退税"})
    text = page.content.decode()
    assert page.status_code == 200
    assert library["published"].title in text
    assert library["district"].title not in text
    assert (
        library["draft"].title not in client.get(reverse("thinktank:policy_list")).content.decode()
    )
    export = client.get(reverse("thinktank:policy_list"), {"export": "xlsx"})
    assert export.status_code == 200
    assert (
        AuditEvent.objects.filter(action="export.xlsx", object_type="thinktank.policy").count() == 1
    )
    assert client_for("enterprise").get(reverse("thinktank:policy_list")).status_code == 404


def test_the_enterprise_sees_its_policies_with_reasons_and_on_its_home_page(
    client_for: Any, library: dict[str, Policy]
) -> None:
    client = client_for("enterprise")
    page = client.get(reverse("thinktank:mine"))
    text = page.content.decode()
    assert page.status_code == 200
    assert "东湖区软件企业扶持办法" in text
    assert "行业：政策适用 I65，企业行业代码 I6510" in text
    assert "首贷户培育" not in text
    home = client.get(reverse("core:home")).content.decode()
    assert 'data-testid="panel-policies"' in home
    assert "东湖区软件企业扶持办法" in home
    # enterprise_b (西山区, G5430) does not get 东湖区's policy
    other = client_for("enterprise_b").get(reverse("thinktank:mine")).content.decode()
    assert "东湖区软件企业扶持办法" not in other
    assert client_for("coordinator").get(reverse("thinktank:mine")).status_code == 404


def test_a_push_reaches_the_matched_enterprises_and_counts_reads_and_confirmations(
    client_for: Any,
    library: dict[str, Policy],
    personas: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    from sizhen.core.models import Notification
    from sizhen.thinktank.models import Delivery

    policy = library["district"]  # I65 in 东湖区: enterprise_a only
    office = client_for("coordinator")
    with django_capture_on_commit_callbacks(execute=True):
        response = office.post(reverse("thinktank:policy_push", args=[policy.pk]))
    assert response.status_code == 302
    assert list(Delivery.objects.values_list("enterprise__uscc", flat=True)) == [
        personas["enterprise"].enterprise.uscc
    ]
    assert (
        Notification.objects.filter(recipient=personas["enterprise"], category="policy").count()
        == 1
    )
    assert not Notification.objects.filter(recipient=personas["enterprise_b"]).exists()
    # A second push finds no new enterprise and changes nothing.
    office.post(reverse("thinktank:policy_push", args=[policy.pk]))
    assert Delivery.objects.count() == 1
    page = office.get(reverse("thinktank:policy_detail", args=[policy.pk])).content.decode()
    assert 'data-testid="read-rate">0.0<' in page
    enterprise = client_for("enterprise")
    enterprise.get(reverse("thinktank:policy_detail", args=[policy.pk]))
    delivery = Delivery.objects.get()
    assert delivery.read_at is not None and delivery.confirmed_at is None
    enterprise.post(reverse("thinktank:policy_confirm", args=[policy.pk]))
    delivery.refresh_from_db()
    assert delivery.confirmed_at is not None
    page = office.get(reverse("thinktank:policy_detail", args=[policy.pk])).content.decode()
    assert 'data-testid="read-rate">100.0<' in page
    assert 'data-testid="confirm-rate">100.0<' in page
    assert [
        e.action
        for e in AuditEvent.objects.filter(
            action__in=["policy.push", "policy.read", "policy.confirm"]
        ).order_by("pk")
    ] == ["policy.push", "policy.read", "policy.confirm"]
    # enterprise_b was not pushed to: confirming is refused and writes nothing
    other = client_for("enterprise_b")
    other.post(reverse("thinktank:policy_confirm", args=[library["published"].pk]))
    assert Delivery.objects.count() == 1
