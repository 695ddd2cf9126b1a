"""Historical archives (历史资料): evaluation results by year imported from XLSX (all or nothing,
row-level report, re-import replaces), searchable list with filters and export; assessment key
points and documents by year, added by the office only, files downloaded through the scoped
view and audited."""

from __future__ import annotations

import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from sizhen.assets.models import ArchiveDocument, EvaluationResult
from sizhen.core.models import AuditEvent

HEADER = ["年度", "区划代码", "指标编码", "数值", "得分", "排名", "参评数", "评价来源"]


def _sheet(*rows: list[Any]) -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile("results.xlsx", buffer.getvalue())


GOOD = [
    [2024, "449901", "BE15", 1.5, 88.2, 1, 2, "省营商环境评价"],
    [2024, "449902", "BE15", 2.5, 71.0, 2, 2, "省营商环境评价"],
    [2025, "449901", "BE15", 1.2, 90.0, 1, 2, "省营商环境评价"],
]


def test_import_checks_every_row_and_writes_nothing_on_error(
    assets: dict[str, Any], client_for: Any
) -> None:
    client = client_for("coordinator")
    bad = _sheet(
        GOOD[0],
        [1999, "449901", "BE15", 1, 50, 1, 2, ""],
        [2024, "999999", "NOPE", "abc", 120, 3, 2, ""],
        GOOD[0],
    )
    response = client.post("/assets/results/import/", {"file": bad, "action": "import"})
    assert response.status_code == 400
    report = response.context["report"]
    assert [(e.row, e.code) for e in report.errors] == [
        (3, "invalid_year"),
        (4, "unknown_region"),
        (4, "unknown_indicator"),
        (4, "not_a_number"),
        (4, "score_range"),
        (5, "duplicate"),
    ]
    assert EvaluationResult.objects.count() == 0
    assert not AuditEvent.objects.filter(action="asset.results_import").exists()


def test_import_then_reimport_replaces(assets: dict[str, Any], client_for: Any) -> None:
    client = client_for("coordinator")
    checked = client.post("/assets/results/import/", {"file": _sheet(*GOOD), "action": "check"})
    assert checked.status_code == 200
    assert checked.context["report"].total == 3
    assert EvaluationResult.objects.count() == 0
    done = client.post("/assets/results/import/", {"file": _sheet(*GOOD), "action": "import"})
    assert done.status_code == 200
    assert EvaluationResult.objects.count() == 3
    first = EvaluationResult.objects.get(year=2024, region__code="449902")
    assert (first.value, first.score, first.rank, first.rank_total) == (2.5, 71.0, 2, 2)
    corrected = [*GOOD[:2], [2025, "449901", "BE15", 1.2, 91.5, 1, 2, "省营商环境评价"]]
    again = client.post("/assets/results/import/", {"file": _sheet(*corrected), "action": "import"})
    report = again.context["report"]
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    assert EvaluationResult.objects.get(year=2025).score == 91.5
    assert AuditEvent.objects.filter(action="asset.results_import").count() == 2


def test_import_and_template_are_the_office_s(assets: dict[str, Any], client_for: Any) -> None:
    for persona in ("district_a", "lead_department", "leader"):
        client = client_for(persona)
        response = client.post(
            "/assets/results/import/", {"file": _sheet(*GOOD), "action": "import"}
        )
        assert response.status_code == 404
        assert client.get("/assets/results/template/").status_code == 404
    assert EvaluationResult.objects.count() == 0
    template = client_for("coordinator").get("/assets/results/template/")
    assert template.status_code == 200
    header = next(load_workbook(io.BytesIO(template.content)).active.iter_rows(values_only=True))
    assert list(header) == HEADER


def test_results_list_filters_sorts_and_exports(assets: dict[str, Any], client_for: Any) -> None:
    client_for("coordinator").post(
        "/assets/results/import/", {"file": _sheet(*GOOD), "action": "import"}
    )
    client = client_for("district_b")
    response = client.get("/assets/results/?year=2024&sort=-score")
    assert response.status_code == 200
    assert [row[1][0] for row in response.context["rows"]] == ["东湖区", "西山区"]
    exported = client.get("/assets/results/?year=2025&export=xlsx")
    rows = list(load_workbook(io.BytesIO(exported.content)).active.iter_rows(values_only=True))
    assert rows[1][:3] == (2025, "东湖区", "BE15")
    assert len(rows) == 2
    assert client_for("enterprise").get("/assets/results/").status_code == 404


def test_documents_by_year(assets: dict[str, Any], client_for: Any, settings: Any) -> None:
    data = {
        "kind": "key_points",
        "year": 2025,
        "title": "2025年营商环境考核要点",
        "body": "一、企业开办全程网办。",
        "reference": "",
    }
    assert client_for("district_a").post("/assets/documents/new/", data).status_code == 404
    assert ArchiveDocument.objects.count() == 0
    client = client_for("coordinator")
    pdf = SimpleUploadedFile("要点.pdf", b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n")
    response = client.post("/assets/documents/new/", {**data, "file": pdf})
    assert response.status_code == 302
    document = ArchiveDocument.objects.get()
    assert (document.year, document.kind, document.file_name) == (2025, "key_points", "要点.pdf")
    listing = client_for("district_a").get("/assets/documents/?kind=key_points&q=企业开办")
    assert [row[2][0] for row in listing.context["rows"]] == ["2025年营商环境考核要点"]
    download = client_for("district_a").get(f"/assets/documents/{document.pk}/file/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")
    [event] = AuditEvent.objects.filter(action="asset.document_download")
    assert event.object_id == str(document.pk)
    assert client_for("enterprise").get(f"/assets/documents/{document.pk}/file/").status_code == 404


def test_a_document_needs_text_or_a_file(assets: dict[str, Any], client_for: Any) -> None:
    data = {"kind": "document", "year": 2024, "title": "空", "body": "", "reference": ""}
    response = client_for("coordinator").post("/assets/documents/new/", data)
    assert response.status_code == 400
    assert ArchiveDocument.objects.count() == 0
