"""The monthly request analysis report (DOCX) and the publication of the rates."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.test import override_settings

from sizhen.core import jobs as jobs_module
from sizhen.core.jobs import run_pending
from sizhen.core.models import AuditEvent, Job, JobStatus
from sizhen.enterprise_requests import report
from sizhen.enterprise_requests.tests.test_analysis import TODAY, _plant
from sizhen.indicators.catalogue.choices import SourceKind
from sizhen.indicators.catalogue.models import Indicator, IndicatorValue

OCTOBER = dt.date(2025, 10, 1)


@pytest.fixture
def planted(city: dict[str, Any]) -> Any:
    return _plant(city)


def _text(content: bytes) -> str:
    from docx import Document

    doc = Document(io.BytesIO(content))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.append(" | ".join(c.text for c in row.cells))
    return "\n".join(parts)


def test_anonymise_removes_names_and_phones():
    text = "东湖示范科技有限公司联系人张三，电话13800001111，座机0755-12345678"
    assert report.anonymise(text, ("东湖示范科技有限公司", "张三")) == (
        "某企业联系人某企业，电话[电话已隐去]，座机[电话已隐去]"
    )


@pytest.mark.django_db
def test_report_reads_back_with_the_figures(planted, city):
    content = report.build_report(OCTOBER)
    text = _text(content)
    assert "示范市企业诉求分析报告（2025年10月）" in text
    assert "统计期间：2025年10月1日至2025年10月31日" in text
    # October: r3, r4, r7, r8, r10 (r6 withdrawn is left out).
    assert "共受理企业诉求 5 件" in text
    # Responded in time r3, r7, r10 of r3, r4, r7, r8, r10 → 60.0%; r7 rated 满意 → 100%.
    assert "响应率 60.0%" in text
    assert "满意率 100.0%" in text
    assert "一、总体情况" in text and "六、意见建议" in text
    assert f"{city['market'].name} | 3 |" in text  # the department table
    assert "东湖区 | 2 |" in text and "西山区 | 3 |" in text  # r4, r7 (park) | r3, r8, r10
    assert planted["r3"].number in text  # overdue list
    assert planted["r7"].number in text  # second assignment list
    # Examples are anonymised: no enterprise name, no phone number.
    assert city["enterprise_a"].name not in text
    assert "13800001111" not in text
    from docx import Document

    assert len(Document(io.BytesIO(content)).inline_shapes) == 2  # category and district charts


@pytest.mark.django_db
def test_report_job_stores_the_file_and_refuses_others(planted, personas, tmp_path):
    with override_settings(DATA_DIR=tmp_path):
        with pytest.raises(report.ReportError):
            report.request_monthly_report(actor=personas["leader"], month=OCTOBER)
        assert Job.objects.count() == 0
        queued = report.request_monthly_report(actor=personas["coordinator"], month=OCTOBER)
        again = report.request_monthly_report(actor=personas["coordinator"], month=OCTOBER)
        assert again.pk == queued.pk
        assert run_pending() == 1
        queued.refresh_from_db()
        assert queued.status == JobStatus.SUCCEEDED
        assert queued.progress_done == 7
        path = tmp_path / "reports" / "enterprise_requests" / "requests-analysis-2025-10.docx"
        assert "共受理企业诉求 5 件" in _text(path.read_bytes())
        assert [r["month"] for r in report.stored_reports()] == ["2025-10"]
    assert AuditEvent.objects.filter(action="enterprise_request.report_requested").count() == 2


def _indicator(code: str, name: str) -> Indicator:
    parent, _ = Indicator.objects.get_or_create(
        code="BE15",
        defaults={
            "name": "政务服务",
            "level": 1,
            "direction": "higher_is_better",
            "source_kind": SourceKind.COMPOSITE,
        },
    )
    return Indicator.objects.create(
        code=code,
        name=name,
        parent=parent,
        level=2,
        unit="%",
        direction="higher_is_better",
        frequency="month",
        source_kind=SourceKind.AGGREGATE,
    )


@pytest.mark.django_db
def test_publish_job_writes_the_rates_per_district(planted, personas, city):
    satisfaction = _indicator("BE15.91", "企业诉求满意率")
    response = _indicator("BE15.92", "企业诉求响应率")
    conf = {
        "publish": {"satisfaction_rate": "BE15.91", "response_rate": "BE15.92"},
        "publish_as": "coordinator",
    }
    with override_settings(SIZHEN_REQUEST_RATES=conf):
        rows = report.rate_rows(OCTOBER, today=TODAY)
        assert rows == [
            ["BE15.92", "449900", "2025-10", 60.0],
            ["BE15.92", "449901", "2025-10", 50.0],  # r7 in time, r4 never accepted
            ["BE15.92", "449902", "2025-10", 66.7],  # r3, r10 in time, r8 late
            ["BE15.91", "449900", "2025-10", 100.0],  # r7 满意; no rating elsewhere
            ["BE15.91", "449901", "2025-10", 100.0],
        ]
        report.request_publication(actor=personas["coordinator"], month=OCTOBER)
        assert run_pending() == 1
    job = Job.objects.get(name="enterprise_requests.publish_rates")
    assert job.status == JobStatus.SUCCEEDED, job.error
    values = {
        (v.indicator.code, v.region.code): v.value
        for v in IndicatorValue.objects.filter(source_kind=SourceKind.AGGREGATE)
    }
    # Today differs from TODAY only for requests not yet due then; October is settled.
    assert values == {
        ("BE15.92", "449900"): 60.0,
        ("BE15.92", "449901"): 50.0,
        ("BE15.92", "449902"): 66.7,
        ("BE15.91", "449900"): 100.0,
        ("BE15.91", "449901"): 100.0,
    }
    assert {v.period for v in IndicatorValue.objects.all()} == {OCTOBER}
    assert satisfaction.values.count() == 2 and response.values.count() == 3
    assert AuditEvent.objects.filter(action="indicator_value.import_aggregate").count() == 1


@pytest.mark.django_db
def test_publication_refused_without_mapping_or_role(planted, personas):
    with pytest.raises(report.ReportError):
        report.request_publication(actor=personas["coordinator"], month=OCTOBER)
    with override_settings(SIZHEN_REQUEST_RATES={"publish": {"satisfaction_rate": "X"}}):
        with pytest.raises(report.ReportError):
            report.request_publication(actor=personas["district_a"], month=OCTOBER)
        # The scheduled run without an account to import as publishes nothing.
        assert report.publish_rates_job(_Ctx(), month="2025-10")["rows"] == 0
    assert Job.objects.count() == 0
    assert IndicatorValue.objects.count() == 0


class _Ctx:
    def progress(self, *args: Any, **kwargs: Any) -> None:
        pass


def test_apps_ready_registers_the_jobs_and_their_schedules():
    # A fresh interpreter, so that no test module has imported report.py beforehand.
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import django; django.setup(); import sys;"
        "from sizhen.core.jobs import REGISTRY, SCHEDULES;"
        "names = ['enterprise_requests.deadline_notices', 'enterprise_requests.monthly_report',"
        " 'enterprise_requests.publish_rates'];"
        "print([n in REGISTRY for n in names], [n in SCHEDULES for n in names],"
        " SCHEDULES['enterprise_requests.monthly_report'].kwargs)"
    )
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=root,
        env=env,
    ).stdout.strip()
    assert out == "[True, True, True] [True, True, True] {'only_missing': True}"


@pytest.mark.django_db
def test_scheduled_publication_feeds_the_default_catalogue_leaves(planted, personas, city):
    from sizhen.indicators.catalogue.imports import load_default_catalogue

    load_default_catalogue("2024-2026", actor=personas["coordinator"])
    leaves = {
        i.code: i for i in Indicator.objects.filter(code__in=["BE15.08", "BE15.09", "BE15.10"])
    }
    assert {c: (i.name, i.parent.code, i.source_kind) for c, i in leaves.items()} == {
        "BE15.08": ("企业诉求响应率", "BE15", SourceKind.AGGREGATE),
        "BE15.09": ("企业诉求解决率", "BE15", SourceKind.AGGREGATE),
        "BE15.10": ("企业诉求满意率", "BE15", SourceKind.AGGREGATE),
    }
    # The scheduled run: no user asked and no publish_as, so the system publishes.
    jobs_module.enqueue("enterprise_requests.publish_rates", month="2025-10")
    assert run_pending() == 1
    job = Job.objects.get(name="enterprise_requests.publish_rates")
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["rows"] == 7 and job.result["created"] == 7
    values = {
        (v.indicator.code, v.region.code): (v.value, v.score)
        for v in IndicatorValue.objects.filter(indicator__in=leaves.values())
    }
    # October (r3, r4, r7, r8, r10; r6 withdrawn): response in time r3, r7, r10 of all five
    # (r7 counts its first acceptance, not the one after its second assignment); revisited and
    # rated only r7 (resolved, 满意). Scores: 100–90 for the response rate, 100–70, 100–80.
    assert values == {
        ("BE15.08", "449900"): (60.0, 0.0),
        ("BE15.08", "449901"): (50.0, 0.0),  # r4 never accepted, r7 in time
        ("BE15.08", "449902"): (66.7, 0.0),  # r3, r10 in time, r8 late
        ("BE15.09", "449900"): (100.0, 100.0),
        ("BE15.09", "449901"): (100.0, 100.0),
        ("BE15.10", "449900"): (100.0, 100.0),
        ("BE15.10", "449901"): (100.0, 100.0),
    }
    assert {v.period for v in IndicatorValue.objects.filter(indicator__in=leaves.values())} == {
        OCTOBER
    }
    assert set(
        IndicatorValue.objects.filter(indicator__in=leaves.values()).values_list(
            "source_kind", flat=True
        )
    ) == {SourceKind.AGGREGATE}
    event = AuditEvent.objects.get(action="indicator_value.import_aggregate")
    assert event.actor_id is None
    # The leaves feed 政务服务 (BE15): it has a composite value for the districts now.
    assert IndicatorValue.objects.filter(
        indicator__code="BE15", period=OCTOBER, source_kind=SourceKind.COMPOSITE
    ).exists()
    # Again: nothing changes.
    report.publish_rates(actor=None, month=OCTOBER)
    assert IndicatorValue.objects.filter(indicator__in=leaves.values()).count() == 7


@pytest.mark.django_db
def test_publish_command_names_missing_indicators(planted, personas):
    from django.core.management import call_command

    out = io.StringIO()
    call_command("publish_request_rates", "--month", "2025-10", stdout=out)
    assert '"rows": 0' in out.getvalue()
    assert '"missing": ["BE15.08", "BE15.09", "BE15.10"]' in out.getvalue()
    assert IndicatorValue.objects.count() == 0
    _indicator("BE15.10", "企业诉求满意率")
    out = io.StringIO()
    call_command("publish_request_rates", "--month", "2025-10", "--as", "coordinator", stdout=out)
    assert '"rows": 2' in out.getvalue()
    assert sorted(
        IndicatorValue.objects.values_list("indicator__code", "region__code", "value")
    ) == [("BE15.10", "449900", 100.0), ("BE15.10", "449901", 100.0)]
    event = AuditEvent.objects.get(action="indicator_value.import_aggregate")
    assert event.actor_id == personas["coordinator"].pk
