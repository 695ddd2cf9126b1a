"""Permissioned extracts (数据调取申请): auto-approved unless the dataset is restricted; a
restricted one waits for the owner department or the coordinator; the job streams the file
within the requester's region scope, personal data masked unless granted; only the requester
downloads, and every download is audited."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from openpyxl import load_workbook

from sizhen.assets import services
from sizhen.assets.models import ExtractRequest
from sizhen.assets.services import AssetError
from sizhen.core.jobs import run_pending
from sizhen.core.models import AuditEvent, TransitionHistory
from sizhen.core.workflow import TransitionNotAllowed

START, END = dt.date(2026, 3, 1), dt.date(2026, 3, 31)


def _restrict(assets: dict[str, Any], personas: dict[str, Any], restricted: bool = True) -> None:
    services.update_profile(
        assets["dataset"],
        actor=personas["coordinator"],
        owner_department=assets["a_dept"],
        source_system="一体化政务服务平台",
        update_frequency="daily",
        restricted=restricted,
    )


def _submit(actor: Any, assets: dict[str, Any], **overrides: Any) -> ExtractRequest:
    arguments: dict[str, Any] = {
        "kind": "records",
        "dataset": assets["dataset"],
        "region": assets["root"],
        "period_start": START,
        "period_end": END,
        "purpose": "年度评估核查",
        "file_format": "csv",
        "fields": ["case_id", "region_code", "contact_phone", "id_number"],
        **overrides,
    }
    return services.submit_extract(actor=actor, **arguments)


def _csv_rows(extract: ExtractRequest) -> list[list[str]]:
    path = Path(settings.MEDIA_ROOT) / extract.file
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_unrestricted_extract_is_approved_at_once_and_streams_masked_csv(
    assets: dict[str, Any], personas: dict[str, Any], client_for: Any
) -> None:
    extract = _submit(personas["coordinator"], assets)
    assert (extract.status, extract.needs_approval) == ("approved", False)
    assert extract.job is not None
    assert run_pending() == 1
    extract.refresh_from_db()
    assert (extract.status, extract.row_count) == ("ready", 3)
    assert _csv_rows(extract) == [
        ["办件编号", "区划代码", "联系电话", "证件号码"],
        ["C01", "449901", "139****0001", "449***********1201"],
        ["C02", "P449951", "139****0002", "449***********1202"],
        ["C03", "449902", "139****0003", "449***********1203"],
    ]
    steps = list(
        TransitionHistory.objects.filter(object_id=str(extract.pk)).values_list("action", flat=True)
    )
    assert steps == ["auto_approve", "start", "finish"]
    [submitted] = AuditEvent.objects.filter(action="asset_extract.submit")
    assert submitted.after["needs_approval"] is False


def test_records_are_cut_to_the_requester_s_region(
    assets: dict[str, Any], personas: dict[str, Any]
) -> None:
    # A district officer may not ask for the city...
    with pytest.raises(AssetError):
        _submit(personas["district_a"], assets)
    assert ExtractRequest.objects.count() == 0
    # ...and gets their district with its park, never 西山区's case.
    extract = _submit(
        personas["district_a"], assets, region=assets["district_a"], file_format="xlsx"
    )
    run_pending()
    extract.refresh_from_db()
    sheet = load_workbook(Path(settings.MEDIA_ROOT) / extract.file).active
    rows = list(sheet.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["C01", "C02"]


def test_unmasked_only_for_the_roles_allowed(
    assets: dict[str, Any], personas: dict[str, Any]
) -> None:
    with pytest.raises(AssetError):
        _submit(personas["leader"], assets, unmasked=True)
    extract = _submit(
        personas["coordinator"], assets, unmasked=True, fields=["case_id", "contact_phone"]
    )
    run_pending()
    extract.refresh_from_db()
    assert _csv_rows(extract)[1] == ["C01", "13900000001"]


def test_restricted_extract_waits_for_the_owner_department(
    assets: dict[str, Any], personas: dict[str, Any], client_for: Any
) -> None:
    _restrict(assets, personas)
    extract = _submit(personas["leader"], assets)
    assert (extract.status, extract.needs_approval, extract.job) == ("submitted", True, None)
    assert run_pending() == 0
    # Another department may not approve; nor may a district officer (who cannot see it).
    with pytest.raises(TransitionNotAllowed):
        services.approve_extract(extract, actor=personas["lead_department"])
    response = client_for("district_b").post(f"/assets/extracts/{extract.pk}/approve/")
    assert response.status_code == 404
    extract.refresh_from_db()
    assert extract.status == "submitted"
    # The owner department (东湖区市场监督管理局) sees it in its queue and approves.
    owner = client_for("responsible_department")
    listing = owner.get("/assets/extracts/?queue=extract_approve")
    assert [row[0][0] for row in listing.context["rows"]] == [extract.number]
    assert (
        owner.post(f"/assets/extracts/{extract.pk}/approve/", {"note": "同意"}).status_code == 302
    )
    extract.refresh_from_db()
    assert (extract.status, extract.decision_note) == ("approved", "同意")
    assert extract.decided_by_label.startswith("resp_dept")
    assert run_pending() == 1
    extract.refresh_from_db()
    assert extract.status == "ready"
    # The approver sees the request, not the data: only the requester downloads.
    assert owner.get(f"/assets/extracts/{extract.pk}/download/").status_code == 404
    assert not AuditEvent.objects.filter(action="asset_extract.download").exists()
    download = client_for("leader").get(f"/assets/extracts/{extract.pk}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).decode("utf-8-sig").startswith("办件编号")
    [event] = AuditEvent.objects.filter(action="asset_extract.download")
    assert event.object_id == str(extract.pk)
    extract.refresh_from_db()
    assert extract.downloads == 1


def test_owner_and_coordinator_need_no_approval_of_a_restricted_asset(
    assets: dict[str, Any], personas: dict[str, Any]
) -> None:
    _restrict(assets, personas)
    mine = _submit(personas["responsible_department"], assets, region=assets["district_a"])
    assert mine.status == "approved"
    office = _submit(personas["coordinator"], assets)
    assert office.status == "approved"


def test_reject_needs_a_reason_and_is_final(
    assets: dict[str, Any], personas: dict[str, Any], client_for: Any
) -> None:
    _restrict(assets, personas)
    extract = _submit(personas["leader"], assets)
    client = client_for("coordinator")
    client.post(f"/assets/extracts/{extract.pk}/reject/", {"note": ""})
    extract.refresh_from_db()
    assert extract.status == "submitted"
    client.post(f"/assets/extracts/{extract.pk}/reject/", {"note": "用途不明确"})
    extract.refresh_from_db()
    assert (extract.status, extract.decision_note) == ("rejected", "用途不明确")
    with pytest.raises(TransitionNotAllowed):
        services.approve_extract(extract, actor=personas["coordinator"])


def test_indicator_values_extract(assets: dict[str, Any], personas: dict[str, Any]) -> None:
    extract = _submit(
        personas["district_b"],
        assets,
        kind="values",
        dataset=None,
        indicator=assets["leaf"],
        region=assets["district_b"],
        fields=[],
    )
    run_pending()
    extract.refresh_from_db()
    assert _csv_rows(extract) == [
        [
            "指标编码",
            "指标名称",
            "区划代码",
            "区划名称",
            "期间",
            "数值",
            "得分",
            "排名",
            "参与排名数",
            "数据来源",
        ],
        ["BE15.06", "办结量", "449902", "西山区", "2026-03-01", "1.0", "", "", "", "records"],
    ]


def test_requests_are_seen_by_their_requester_and_approvers_only(
    assets: dict[str, Any], personas: dict[str, Any], client_for: Any
) -> None:
    _restrict(assets, personas)
    extract = _submit(personas["leader"], assets)
    for persona, status in (
        ("leader", 200),
        ("coordinator", 200),
        ("responsible_department", 200),
        ("lead_department", 404),
        ("district_a", 404),
        ("enterprise", 404),
    ):
        assert client_for(persona).get(f"/assets/extracts/{extract.pk}/").status_code == status, (
            persona
        )


def test_extract_page_submits(
    assets: dict[str, Any], personas: dict[str, Any], client_for: Any
) -> None:
    client = client_for("district_a")
    page = client.get("/assets/extracts/new/?dataset=gov_service_cases")
    assert page.status_code == 200
    assert "unmasked" not in page.context["form"].fields
    response = client.post(
        "/assets/extracts/new/",
        {
            "kind": "records",
            "dataset": assets["dataset"].pk,
            "region": assets["district_a"].pk,
            "period_start": "2026-03-01",
            "period_end": "2026-03-31",
            "field_names": "case_id, status",
            "file_format": "xlsx",
            "purpose": "核查",
        },
    )
    extract = ExtractRequest.objects.get()
    assert response.status_code == 302
    assert (extract.fields, extract.status) == (["case_id", "status"], "approved")
