"""Periodic filling pages: the whole path through the browser's requests, scoping (another
district answers 404 and changes nothing), overdue and round pages, rules, aggregate import."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import include, path

from sizhen.core.models import AuditEvent, TransitionHistory
from sizhen.indicators import urls as indicators_urls
from sizhen.indicators.catalogue.models import Indicator, IndicatorValue
from sizhen.indicators.filling import services
from sizhen.indicators.filling.models import FillingRound, FillingRule, FillingTask
from sizhen.indicators.tests.test_filling import make_indicators, open_round, task_for, workbook

urlpatterns = [
    path("monitoring/filling/", include(indicators_urls.filling_urls)),
    path("", include("config.urls")),
]
BASE = "/monitoring/filling"
OCT = dt.date(2025, 10, 1)


@pytest.fixture(autouse=True)
def _urls(settings: Any) -> None:
    settings.ROOT_URLCONF = __name__


@pytest.fixture
def ind(city: dict[str, Any]) -> dict[str, Indicator]:
    return make_indicators(city)


def _fill(client: Any, task: FillingTask, action: str, value: Any, **extra: Any) -> Any:
    return client.post(
        f"{BASE}/tasks/{task.pk}/", {"action": action, "value": value, "note": "", **extra}
    )


def _review(client: Any, task: FillingTask, action: str, reason: str = "") -> Any:
    return client.post(f"{BASE}/tasks/{task.pk}/review/", {"action": action, "reason": reason})


def _state(task: FillingTask) -> tuple[Any, ...]:
    task.refresh_from_db()
    return (task.status, task.value, task.return_reason, task.version)


@pytest.mark.django_db
def test_full_filling_path_through_the_pages(personas, ind, client_for):
    coordinator = client_for("coordinator")
    opened = coordinator.post(
        f"{BASE}/rounds/new/",
        {
            "indicators": [ind["rate"].pk],
            "period": "2025-10",
            "working_days": 5,
            "target": "districts",
            "title": "",
            "instructions": "按财政拨付口径填报",
        },
    )
    filling_round = FillingRound.objects.get()
    assert opened.status_code == 302
    assert opened["Location"] == f"{BASE}/rounds/{filling_round.pk}/"
    task = task_for(ind["rate"], "449901")

    officer = client_for("district_a")
    listing = officer.get(f"{BASE}/").content.decode()
    assert f'href="{BASE}/tasks/{task.pk}/"' in listing
    assert "西山区" not in listing

    blocked = _fill(officer, task, "submit", "120")
    assert blocked.status_code == 400
    assert blocked.context["problems"].errors == ["数值应在 0 至 100 之间"]
    assert "数值应在 0 至 100 之间" in blocked.content.decode()
    assert _state(task) == ("open", None, "", 1)

    assert _fill(officer, task, "submit", "95.5").status_code == 302
    assert _state(task) == ("submitted", 95.5, "", 2)

    lead = client_for("lead_department")
    page = lead.get(f"{BASE}/tasks/{task.pk}/")
    assert page.context["review_form"] is not None
    assert page.context["fill_form"] is None
    no_reason = _review(lead, task, "return")
    assert no_reason.status_code == 400
    assert no_reason.context["review_form"].errors["reason"] == ["退回时请填写退回理由"]
    assert _state(task) == ("submitted", 95.5, "", 2)

    assert _review(lead, task, "return", "请按新口径核对").status_code == 302
    assert _state(task) == ("returned", 95.5, "请按新口径核对", 3)
    assert "请按新口径核对" in officer.get(f"{BASE}/tasks/{task.pk}/").content.decode()

    assert _fill(officer, task, "submit", "96").status_code == 302
    assert _review(lead, task, "approve", "同意").status_code == 302
    assert _state(task) == ("approved", 96.0, "请按新口径核对", 5)
    value = IndicatorValue.objects.get(source_kind="filling")
    assert (value.indicator_id, value.region.code, value.period, value.value) == (
        ind["rate"].pk,
        "449901",
        OCT,
        96.0,
    )

    refused = _fill(officer, task, "save", "10")
    assert refused.status_code == 400
    assert refused.context["error"] == "该数据已审核通过并锁定，不能再修改"
    assert "该数据已审核通过并锁定，不能再修改" in refused.content.decode()
    assert _state(task) == ("approved", 96.0, "请按新口径核对", 5)
    assert IndicatorValue.objects.get(pk=value.pk).value == 96.0
    assert officer.get(f"{BASE}/tasks/{task.pk}/").context["fill_form"] is None
    assert [h.action for h in TransitionHistory.objects.filter(object_id=str(task.pk))] == [
        "submit",
        "return",
        "submit",
        "approve",
    ]


@pytest.mark.django_db
def test_another_district_cannot_see_or_act(personas, ind, client_for):
    open_round(personas, [ind["rate"]])
    task = task_for(ind["rate"], "449901")
    services.submit_filling(task, actor=personas["district_a"], value=50)
    before = _state(task)
    other = client_for("district_b")

    responses = [
        other.get(f"{BASE}/tasks/{task.pk}/"),
        _fill(other, task, "save", "1"),
        _fill(other, task, "submit", "1"),
        _review(other, task, "approve"),
        _review(other, task, "return", "退回"),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404, 404, 404]
    assert _state(task) == before
    assert not IndicatorValue.objects.exists()
    assert (
        AuditEvent.objects.filter(action="access.denied", actor=personas["district_b"]).count() == 5
    )
    listing = other.get(f"{BASE}/").content.decode()
    assert f"/tasks/{task.pk}/" not in listing


@pytest.mark.parametrize("persona", ["leader", "sysadmin", "responsible_department"])
@pytest.mark.django_db
def test_roles_without_a_part_cannot_act(personas, ind, client_for, persona):
    open_round(personas, [ind["rate"]])
    task = task_for(ind["rate"], "449901")
    services.submit_filling(task, actor=personas["district_a"], value=50)
    before = _state(task)
    client = client_for(persona)

    responses = [_fill(client, task, "save", "1"), _review(client, task, "approve")]

    assert [r.status_code for r in responses] == [404, 404]
    assert _state(task) == before
    assert not IndicatorValue.objects.exists()


@pytest.mark.django_db
def test_enterprise_and_anonymous_are_refused(personas, ind, client_for):
    open_round(personas, [ind["rate"]])
    task = task_for(ind["rate"], "449901")

    enterprise = client_for("enterprise")
    anonymous = client_for(None)

    assert enterprise.get(f"{BASE}/").status_code == 404
    assert enterprise.get(f"{BASE}/tasks/{task.pk}/").status_code == 404
    assert anonymous.get(f"{BASE}/tasks/{task.pk}/").status_code == 302
    assert _fill(anonymous, task, "submit", "5").status_code == 302
    assert _state(task) == ("open", None, "", 1)


@pytest.mark.django_db
def test_coordinator_sees_but_cannot_fill(personas, ind, client_for):
    open_round(personas, [ind["rate"]])
    task = task_for(ind["rate"], "449901")
    client = client_for("coordinator")

    page = client.get(f"{BASE}/tasks/{task.pk}/")
    refused = _fill(client, task, "save", "5")

    assert page.status_code == 200
    assert page.context["fill_form"] is None
    assert refused.status_code == 400
    assert refused.context["error"] == "您无权填报该任务"
    assert _state(task) == ("open", None, "", 1)


@pytest.mark.django_db
def test_warning_is_shown_and_submit_passes_with_an_explanation(personas, ind, client_for):
    FillingRule.objects.create(
        indicator=ind["rate"],
        kind="change_vs_last_period",
        severity="warning",
        parameters={"max_change_percent": 10},
    )
    IndicatorValue.objects.create(
        indicator=ind["rate"],
        region=personas["district_a"].region,
        period=dt.date(2025, 9, 1),
        frequency="month",
        source_kind="filling",
        value=50,
    )
    open_round(personas, [ind["rate"]])
    task = task_for(ind["rate"], "449901")
    officer = client_for("district_a")

    warned = _fill(officer, task, "submit", "80")
    passed = _fill(officer, task, "submit", "80", explanation="新增两项补贴集中拨付")

    assert warned.status_code == 400
    assert warned.context["problems"].warnings == [
        "与上期（2025年9月：50）相比变化 60.0%，超过 10%"
    ]
    assert passed.status_code == 302
    assert _state(task)[:2] == ("submitted", 80.0)
    assert task.explanation == "新增两项补贴集中拨付"


@pytest.mark.django_db
def test_overdue_page_and_round_list(personas, ind, client_for):
    # Opened long ago: three working days after 2025-09-30 is 2025-10-11, now past.
    open_round(personas, [ind["rate"]])
    services.submit_filling(task_for(ind["rate"], "449901"), actor=personas["district_a"], value=40)

    coordinator = client_for("coordinator")
    overdue = coordinator.get(f"{BASE}/overdue/")
    rows = overdue.context["rows"]
    rounds = coordinator.get(f"{BASE}/rounds/")
    officer_rows = client_for("district_a").get(f"{BASE}/overdue/").context["rows"]

    assert overdue.status_code == 200
    assert sorted(row[1][0] for row in rows) == ["西山区", "高新区"]
    assert all(row[7][0].startswith("逾期 ") for row in rows)
    assert [row[1][0] for row in officer_rows] == ["高新区"]
    assert [(r[0][0], r[6][0], r[7][0]) for r in rounds.context["rows"]] == [
        ("2025年10月定期填报", "0/3", 2)
    ]


@pytest.mark.django_db
def test_round_page_refuses_district_officers(personas, ind, client_for):
    response = client_for("district_a").post(
        f"{BASE}/rounds/new/",
        {"indicators": [ind["rate"].pk], "period": "2025-10", "working_days": 5, "target": "auto"},
    )

    assert response.status_code == 404
    assert FillingRound.objects.count() == 0


@pytest.mark.django_db
def test_round_form_errors_are_in_chinese(personas, ind, client_for):
    response = client_for("coordinator").post(
        f"{BASE}/rounds/new/",
        {"indicators": [], "period": "2025-13", "working_days": 0, "target": "auto"},
    )

    errors = response.context["form"].errors
    assert response.status_code == 400
    assert errors["indicators"] == ["请至少选择一个指标"]
    assert errors["period"] == ["期间应写为 YYYY-MM，如 2025-10（年份 2000–2100，月份 1–12）"]
    assert errors["working_days"] == ["填报时限至少 1 个工作日"]
    assert FillingRound.objects.count() == 0


@pytest.mark.django_db
def test_rule_pages(personas, city, ind, client_for):
    lead = client_for("lead_department")
    created = lead.post(
        f"{BASE}/rules/new/",
        {"indicator": ind["amount"].pk, "kind": "range", "severity": "error", "minimum": "0"},
    )
    Indicator.objects.filter(pk=ind["amount"].pk).update(lead_department=city["tax"])
    foreign = lead.post(
        f"{BASE}/rules/new/",
        {"indicator": ind["amount"].pk, "kind": "range", "severity": "error", "maximum": "1"},
    )
    district = client_for("district_a").post(
        f"{BASE}/rules/new/",
        {"indicator": ind["rate"].pk, "kind": "range", "severity": "error", "maximum": "1"},
    )

    assert created.status_code == 302
    assert foreign.status_code == 400
    assert foreign.context["form"].errors["indicator"] == ["请选择您可以设置规则的指标"]
    assert district.status_code == 404
    assert list(
        FillingRule.objects.filter(indicator=ind["amount"]).values_list("parameters", flat=True)
    ) == [{"min": 0.0}]
    rule = FillingRule.objects.get(indicator=ind["rate"])
    toggled = client_for("coordinator").post(f"{BASE}/rules/{rule.pk}/toggle/", {"active": "0"})
    denied = client_for("district_a").post(f"{BASE}/rules/{rule.pk}/toggle/", {"active": "1"})
    rule.refresh_from_db()
    assert (toggled.status_code, denied.status_code, rule.is_active) == (302, 404, False)


@pytest.mark.django_db
def test_aggregate_import_page(personas, ind, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    def upload(client: Any, rows: list[list[Any]], action: str) -> Any:
        file = SimpleUploadedFile("values.xlsx", workbook(rows))
        return client.post(f"{BASE}/aggregate/import/", {"file": file, "action": action})

    coordinator = client_for("coordinator")
    bad = upload(
        coordinator, [["BE07.02", "449901", "2025-10", 1], ["BE07.02", "X", "2025-10", 2]], "import"
    )
    checked = upload(coordinator, [["BE07.02", "449901", "2025-10", 1]], "check")
    assert IndicatorValue.objects.count() == 0
    done = upload(coordinator, [["BE07.02", "449901", "2025-10", 1]], "import")
    denied = upload(client_for("district_a"), [["BE07.02", "449902", "2025-10", 9]], "import")
    template = coordinator.get(f"{BASE}/aggregate/template/")

    assert bad.status_code == 400
    assert [(e.row, e.code) for e in bad.context["report"].errors] == [(3, "unknown_region")]
    assert checked.status_code == 200
    assert checked.context["report"].created == 1
    assert done.status_code == 200
    assert denied.status_code == 404
    assert list(IndicatorValue.objects.values_list("region__code", "value", "source_kind")) == [
        ("449901", 1.0, "aggregate")
    ]
    assert template["Content-Type"].startswith("application/vnd.openxmlformats")


@pytest.mark.django_db
def test_every_page_renders_for_the_coordinator(personas, ind, client_for):
    filling_round = open_round(personas, [ind["rate"]])
    FillingRule.objects.create(indicator=ind["amount"], kind="range", parameters={"max": 5})
    client = client_for("coordinator")

    titles = {
        url: client.get(url).context["title"]
        for url in (
            f"{BASE}/",
            f"{BASE}/overdue/",
            f"{BASE}/rounds/",
            f"{BASE}/rounds/new/",
            f"{BASE}/rounds/{filling_round.pk}/",
            f"{BASE}/rules/",
            f"{BASE}/rules/new/",
            f"{BASE}/aggregate/import/",
            f"{BASE}/pulls/",
            f"{BASE}/pulls/new/",
        )
    }

    assert titles == {
        f"{BASE}/": "定期填报",
        f"{BASE}/overdue/": "逾期未报",
        f"{BASE}/rounds/": "填报轮次",
        f"{BASE}/rounds/new/": "下发定期填报",
        f"{BASE}/rounds/{filling_round.pk}/": "填报轮次：2025年10月定期填报",
        f"{BASE}/rules/": "填报校验规则",
        f"{BASE}/rules/new/": "新增校验规则",
        f"{BASE}/aggregate/import/": "汇总数据导入",
        f"{BASE}/pulls/": "数据对接",
        f"{BASE}/pulls/new/": "新增数据对接",
    }
    round_page = client.get(f"{BASE}/rounds/{filling_round.pk}/")
    assert len(round_page.context["rows"]) == 3
    assert "2025-10-11" in round_page.content.decode()
