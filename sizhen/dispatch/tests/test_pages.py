"""The catalogue pages are the coordinator's; everyone else gets 404 and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from sizhen.core.models import AuditEvent, Job
from sizhen.dispatch.models import DispatchCatalogueEntry

pytestmark = pytest.mark.django_db

OTHERS = [
    "leader",
    "lead_department",
    "responsible_department",
    "district_a",
    "enterprise",
    "sysadmin",
]


def _entry(city: dict[str, Any]) -> DispatchCatalogueEntry:
    return DispatchCatalogueEntry.objects.get(department=city["tax"])


def test_coordinator_lists_and_edits_an_entry(
    catalogue_city: dict[str, Any], client_for: Any
) -> None:
    client = client_for("coordinator")
    entry = _entry(catalogue_city)

    listing = client.get(reverse("dispatch:catalogue_list"))
    response = client.post(
        reverse("dispatch:entry_edit", args=[entry.pk]),
        {
            "responsibilities": "负责税费征收管理。",
            "typical_matters": "发票申领\n出口退税",
            "keywords": "发票\n退税",
            "is_active": "on",
        },
    )

    assert listing.status_code == 200
    assert "税务局" in listing.content.decode()
    exported = client.get(reverse("dispatch:catalogue_list") + "?export=xlsx")
    assert exported.status_code == 200
    assert exported["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.typical_matters == "发票申领\n出口退税"
    assert entry.version == 2
    assert AuditEvent.objects.filter(action="dispatch.catalogue_saved").count() == 1


def test_coordinator_creates_an_entry_for_a_department_without_one(
    city: dict[str, Any], client_for: Any
) -> None:
    response = client_for("coordinator").post(
        reverse("dispatch:entry_new"),
        {"department": city["office"].pk, "keywords": "营商环境\n企业诉求", "is_active": "on"},
    )

    assert response.status_code == 302
    entry = DispatchCatalogueEntry.objects.get(department=city["office"])
    assert entry.keyword_lines == ["营商环境", "企业诉求"]


def test_invalid_form_shows_a_chinese_message_and_changes_nothing(
    catalogue_city: dict[str, Any], client_for: Any
) -> None:
    entry = _entry(catalogue_city)
    before = (entry.keywords, entry.version)

    response = client_for("coordinator").post(
        reverse("dispatch:entry_edit", args=[entry.pk]),
        {"responsibilities": "", "typical_matters": "", "keywords": "", "is_active": "on"},
    )
    missing_department = client_for("coordinator").post(reverse("dispatch:entry_new"), {})

    assert response.status_code == 400
    assert "至少要填写职责、典型事项或关键词之一" in response.content.decode()
    assert missing_department.status_code == 400
    assert "请选择部门" in missing_department.content.decode()
    entry.refresh_from_db()
    assert (entry.keywords, entry.version) == before
    assert not AuditEvent.objects.filter(action="dispatch.catalogue_saved").exists()


@pytest.mark.parametrize("persona", OTHERS)
def test_other_roles_get_404_and_change_nothing(
    catalogue_city: dict[str, Any], client_for: Any, persona: str
) -> None:
    client = client_for(persona)
    entry = _entry(catalogue_city)
    before = (entry.keywords, entry.version)
    count = DispatchCatalogueEntry.objects.count()

    pages = [
        client.get(reverse("dispatch:catalogue_list")),
        client.get(reverse("dispatch:entry_new")),
        client.get(reverse("dispatch:entry_edit", args=[entry.pk])),
        client.get(reverse("dispatch:model_status")),
        client.post(reverse("dispatch:entry_edit", args=[entry.pk]), {"keywords": "x"}),
        client.post(reverse("dispatch:load_defaults")),
        client.post(reverse("dispatch:train")),
    ]

    assert [p.status_code for p in pages] == [404] * len(pages)
    entry.refresh_from_db()
    assert (entry.keywords, entry.version) == before
    assert DispatchCatalogueEntry.objects.count() == count
    assert not Job.objects.filter(name="dispatch.train").exists()


def test_anonymous_is_sent_to_login(catalogue_city: dict[str, Any], client_for: Any) -> None:
    response = client_for(None).get(reverse("dispatch:catalogue_list"))

    assert response.status_code == 302
    assert "/accounts/login" in response["Location"]


def test_model_page_queues_one_training_job(city: dict[str, Any], client_for: Any) -> None:
    client = client_for("coordinator")

    page = client.get(reverse("dispatch:model_status"))
    first = client.post(reverse("dispatch:train"))
    second = client.post(reverse("dispatch:train"))

    assert page.status_code == 200
    assert "尚未启用训练模型" in page.content.decode()
    assert first.status_code == second.status_code == 302
    assert Job.objects.filter(name="dispatch.train").count() == 1


def test_load_defaults_button(city: dict[str, Any], client_for: Any) -> None:
    response = client_for("coordinator").post(reverse("dispatch:load_defaults"))

    assert response.status_code == 302
    assert DispatchCatalogueEntry.objects.count() == 2
    assert AuditEvent.objects.filter(action="dispatch.catalogue_loaded").count() == 1
