"""Periodic filling (定期填报) services: rounds, deadlines in working days, validation rules,
review, locking, overdue, the scheduled opening, and the aggregate XLSX import."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from openpyxl import Workbook

from sizhen.core.models import AuditEvent, Notification, TransitionHistory
from sizhen.core.periods import Period
from sizhen.core.workflow import TransitionConflict, TransitionNotAllowed
from sizhen.indicators.catalogue.changes import values_version
from sizhen.indicators.catalogue.models import Indicator, IndicatorValue
from sizhen.indicators.filling import imports, periods, rounds, selectors, services
from sizhen.indicators.filling.models import FillingRule, FillingTask

OCT = dt.date(2025, 10, 1)
SEP = dt.date(2025, 9, 1)


def make_indicators(city: dict[str, Any]) -> dict[str, Indicator]:
    """A filled leaf led by 市场监督管理局 with a 0–100 range rule, a second leaf for cross-field
    rules, and a leaf with responsible departments."""
    root = Indicator.objects.create(code="BE", name="营商环境总分", direction="higher_is_better")
    parent = Indicator.objects.create(
        code="BE07", name="政策兑现", parent=root, level=1, direction="higher_is_better"
    )
    rate = Indicator.objects.create(
        code="BE07.01",
        name="政策兑现资金到位率",
        parent=parent,
        level=2,
        unit="%",
        direction="higher_is_better",
        lead_department=city["market"],
    )
    amount = Indicator.objects.create(
        code="BE07.02",
        name="兑现资金到位额",
        parent=parent,
        level=2,
        unit="万元",
        direction="higher_is_better",
        lead_department=city["market"],
    )
    departments = Indicator.objects.create(
        code="BE07.03",
        name="惠企政策知晓率",
        parent=parent,
        level=2,
        unit="%",
        direction="higher_is_better",
        lead_department=city["market"],
    )
    departments.responsible_departments.set([city["market"], city["a_dept"]])
    FillingRule.objects.create(indicator=rate, kind="range", parameters={"min": 0, "max": 100})
    return {
        "root": root,
        "parent": parent,
        "rate": rate,
        "amount": amount,
        "departments": departments,
    }


def open_round(personas: dict[str, Any], indicators: list[Indicator], **kwargs: Any) -> Any:
    kwargs.setdefault("period", OCT)
    kwargs.setdefault("working_days", 3)
    kwargs.setdefault("opened_on", dt.date(2025, 9, 30))
    return rounds.open_filling_round(actor=personas["coordinator"], indicators=indicators, **kwargs)


def task_for(indicator: Indicator, region_code: str, period: dt.date = OCT) -> FillingTask:
    return FillingTask.objects.select_related("indicator", "region").get(
        indicator=indicator, region__code=region_code, period=period
    )


@pytest.fixture
def ind(city: dict[str, Any]) -> dict[str, Indicator]:
    return make_indicators(city)


# --- opening rounds -------------------------------------------------------------------------


@pytest.mark.django_db
def test_round_for_districts_has_a_deadline_in_working_days_across_national_day(personas, ind):
    filling_round = open_round(personas, [ind["rate"]], target="auto")

    # (09-30, d]: 10-01..10-08 are the National Day holiday; 10-09, 10-10 and the make-up
    # Saturday 10-11 are the three working days.
    assert filling_round.deadline == dt.date(2025, 10, 11)
    assert filling_round.deadline_provisional is False
    assert filling_round.title == "2025年10月定期填报"
    tasks = FillingTask.objects.filter(round=filling_round).order_by("region__path")
    assert [(t.region.code, t.department_id, t.status, t.deadline) for t in tasks] == [
        ("449901", None, "open", dt.date(2025, 10, 11)),
        ("P449951", None, "open", dt.date(2025, 10, 11)),
        ("449902", None, "open", dt.date(2025, 10, 11)),
    ]
    event = AuditEvent.objects.get(action="filling_round.open")
    assert event.after["tasks"] == 3
    assert event.actor_id == personas["coordinator"].pk
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        "district_a",
        "district_b",
    ]


@pytest.mark.django_db
def test_round_for_responsible_departments(personas, city, ind):
    filling_round = open_round(personas, [ind["departments"]], target="auto")

    tasks = FillingTask.objects.filter(round=filling_round).order_by("region__path")
    assert [(t.region.code, t.department.code) for t in tasks] == [
        ("449900", "SZ-SCJG"),
        ("449901", "DH-SCJG"),
    ]
    assert sorted(Notification.objects.values_list("recipient__username", flat=True)) == [
        "lead_dept",
        "resp_dept",
    ]


@pytest.mark.django_db
def test_two_responsible_departments_of_one_region_are_refused(personas, city, ind):
    ind["departments"].responsible_departments.set([city["market"], city["tax"]])

    with pytest.raises(services.FillingError) as refused:
        open_round(personas, [ind["departments"]], target="departments")

    assert str(refused.value) == (
        "指标 BE07.03 的责任部门“市场监督管理局”和“税务局”同属示范市，同一区划只能由一个部门填报"
    )
    assert FillingTask.objects.count() == 0
    assert not AuditEvent.objects.filter(action="filling_round.open").exists()


@pytest.mark.django_db
def test_round_refusals(personas, city, ind):
    open_round(personas, [ind["rate"]], target="districts")
    before = FillingTask.objects.count()

    with pytest.raises(services.FillingError) as duplicate:
        open_round(personas, [ind["rate"]], target="districts")
    with pytest.raises(services.FillingError) as parent:
        open_round(personas, [ind["parent"]], period=SEP)
    with pytest.raises(services.FillingError) as district:
        rounds.open_filling_round(
            actor=personas["district_a"], indicators=[ind["amount"]], period=SEP
        )
    ind["amount"].lead_department = city["tax"]
    ind["amount"].save()
    with pytest.raises(services.FillingError) as foreign:
        rounds.open_filling_round(
            actor=personas["lead_department"], indicators=[ind["amount"]], period=SEP
        )

    assert str(duplicate.value) == (
        "2025年10月已有填报任务：BE07.01（东湖区）、BE07.01（高新区）、BE07.01（西山区），不能重复下发"
    )
    assert str(parent.value) == "指标 BE07 不是末级指标，其数值由下级指标合成，不能填报"
    assert str(district.value) == "只有营商办或指标牵头部门可以下发填报任务"
    assert str(foreign.value) == "您不是以下指标的牵头部门：BE07.02"
    assert FillingTask.objects.count() == before
    assert AuditEvent.objects.filter(action="filling_round.open").count() == 1


@pytest.mark.django_db
def test_lead_department_opens_a_round_for_its_own_indicator(personas, ind):
    filling_round = rounds.open_filling_round(
        actor=personas["lead_department"],
        indicators=[ind["amount"]],
        period=SEP,
        working_days=5,
        target="districts",
        opened_on=dt.date(2025, 10, 9),
    )

    # (10-09, d]: 10-10, 10-11 (make-up Saturday), 10-13, 10-14, 10-15.
    assert filling_round.deadline == dt.date(2025, 10, 15)
    assert filling_round.tasks.count() == 3


# --- filling, validation and review ---------------------------------------------------------


@pytest.mark.django_db
def test_range_error_blocks_submit_and_saves_nothing(personas, ind):
    open_round(personas, [ind["rate"]])
    task = task_for(ind["rate"], "449901")
    events = AuditEvent.objects.count()

    with pytest.raises(services.FillingValidationFailed) as refused:
        services.submit_filling(task, actor=personas["district_a"], value="120", note="初报")

    assert refused.value.errors == ["数值应在 0 至 100 之间"]
    assert str(refused.value) == "校验未通过：数值应在 0 至 100 之间"
    task.refresh_from_db()
    assert (task.status, task.value, task.note, task.version) == ("open", None, "", 1)
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_missing_and_non_numeric_values_block_submit(personas, ind):
    open_round(personas, [ind["amount"]])
    task = task_for(ind["amount"], "449901")

    with pytest.raises(services.FillingValidationFailed) as empty:
        services.submit_filling(task, actor=personas["district_a"], value="")
    with pytest.raises(services.FillingValidationFailed) as text:
        services.submit_filling(task, actor=personas["district_a"], value="abc")
    with pytest.raises(services.FillingError) as draft:
        services.save_draft(task, actor=personas["district_a"], value="nan")

    assert empty.value.errors == ["请填写数值"]
    assert text.value.errors == ["数值应为有限的数字"]
    assert str(draft.value) == "数值应为有限的数字"
    task.refresh_from_db()
    assert (task.status, task.value) == ("open", None)


@pytest.mark.django_db
def test_warning_needs_an_explanation(personas, ind):
    FillingRule.objects.create(
        indicator=ind["amount"],
        kind="change_vs_last_period",
        severity="warning",
        parameters={"max_change_percent": 30},
    )
    IndicatorValue.objects.create(
        indicator=ind["amount"],
        region=task_region(personas),
        period=SEP,
        frequency="month",
        source_kind="filling",
        value=100,
    )
    open_round(personas, [ind["amount"]])
    task = task_for(ind["amount"], "449901")

    with pytest.raises(services.FillingValidationFailed) as refused:
        services.submit_filling(task, actor=personas["district_a"], value=150)

    assert refused.value.errors == []
    assert refused.value.warnings == ["与上期（2025年9月：100）相比变化 50.0%，超过 30%"]
    task.refresh_from_db()
    assert task.status == "open"

    services.submit_filling(
        task, actor=personas["district_a"], value=150, explanation="本月集中兑现一批补贴"
    )

    task.refresh_from_db()
    assert (task.status, task.value, task.explanation) == ("submitted", 150, "本月集中兑现一批补贴")
    assert task.warnings == ["与上期（2025年9月：100）相比变化 50.0%，超过 30%"]
    assert task.submitted_by_id == personas["district_a"].pk


def task_region(personas: dict[str, Any]) -> Any:
    return personas["district_a"].region


@pytest.mark.django_db
def test_cross_field_rule_compares_with_the_other_indicator_of_the_same_region(personas, ind):
    FillingRule.objects.create(
        indicator=ind["rate"],
        kind="cross_field",
        parameters={"other": "BE07.02", "operator": "<=", "factor": 2},
    )
    open_round(personas, [ind["rate"], ind["amount"]])
    amount_east = task_for(ind["amount"], "449901")
    services.save_draft(amount_east, actor=personas["district_a"], value=40)
    rate_east = task_for(ind["rate"], "449901")
    rate_west = task_for(ind["rate"], "449902")

    with pytest.raises(services.FillingValidationFailed) as refused:
        services.submit_filling(rate_east, actor=personas["district_a"], value=90)
    # 西山区 has no 兑现资金到位额 yet: the rule is skipped, as DHIS2 does.
    services.submit_filling(rate_west, actor=personas["district_b"], value=90)

    assert refused.value.errors == ["数值应不大于指标 BE07.02 兑现资金到位额2 倍的值（80）"]
    rate_east.refresh_from_db()
    rate_west.refresh_from_db()
    assert (rate_east.status, rate_west.status) == ("open", "submitted")


@pytest.mark.django_db
def test_only_the_addressed_filler_may_fill(personas, ind):
    open_round(personas, [ind["rate"]])
    task = task_for(ind["rate"], "449901")

    refusals = []
    for name in ("district_b", "coordinator", "lead_department", "leader"):
        with pytest.raises(services.FillingError) as refused:
            services.save_draft(task, actor=personas[name], value=50)
        refusals.append(str(refused.value))

    assert refusals == ["您无权填报该任务"] * 4
    task.refresh_from_db()
    assert (task.value, task.version) == (None, 1)
    assert not AuditEvent.objects.filter(action="filling_task.save_draft").exists()


@pytest.mark.django_db
def test_return_then_approve_writes_a_locked_filling_value(personas, ind):
    open_round(personas, [ind["rate"]])
    officer, lead = personas["district_a"], personas["lead_department"]
    task = task_for(ind["rate"], "449901")
    services.submit_filling(task, actor=officer, value=95.5)

    with pytest.raises(TransitionNotAllowed) as no_reason:
        services.return_filling(task, actor=lead, reason="  ")
    services.return_filling(task, actor=lead, reason="请按新口径重新核对")
    task.refresh_from_db()
    assert (task.status, task.return_reason) == ("returned", "请按新口径重新核对")

    services.save_draft(task, actor=officer, value=96, note="已按新口径核对")
    services.submit_filling(task, actor=officer, value=96, note="已按新口径核对")
    before = values_version()
    services.approve_filling(task, actor=lead, note="同意")
    assert values_version() > before  # the cached pages see the approved figure

    assert str(no_reason.value) == "“退回”需要填写理由"
    task.refresh_from_db()
    assert (task.status, task.value, task.approved_by_id) == ("approved", 96, lead.pk)
    value = IndicatorValue.objects.get(indicator=ind["rate"], source_kind="filling")
    assert (value.region.code, value.period, value.value, value.frequency) == (
        "449901",
        OCT,
        96,
        "month",
    )
    assert list(
        TransitionHistory.objects.filter(object_id=str(task.pk)).values_list(
            "action", "from_state", "to_state"
        )
    ) == [
        ("submit", "open", "submitted"),
        ("return", "submitted", "returned"),
        ("submit", "returned", "submitted"),
        ("approve", "submitted", "approved"),
    ]

    stale = FillingTask(pk=task.pk, status="returned")
    with pytest.raises(services.FillingError) as locked:
        services.save_draft(task, actor=officer, value=10)
    with pytest.raises(services.FillingError) as stale_submit:
        services.submit_filling(stale, actor=officer, value=10)

    assert str(locked.value) == "该数据已审核通过并锁定，不能再修改"
    assert str(stale_submit.value) == "该数据已审核通过并锁定，不能再修改"
    task.refresh_from_db()
    assert (task.status, task.value) == ("approved", 96)
    assert IndicatorValue.objects.get(pk=value.pk).value == 96


@pytest.mark.django_db
def test_submitted_value_cannot_be_changed_by_a_draft(personas, ind):
    open_round(personas, [ind["rate"]])
    task = task_for(ind["rate"], "449901")
    services.submit_filling(task, actor=personas["district_a"], value=80)

    with pytest.raises(services.FillingError) as refused:
        services.save_draft(task, actor=personas["district_a"], value=81)

    assert str(refused.value) == "数据已提交待审核，不能修改；如需修改，请联系审核部门退回"
    task.refresh_from_db()
    assert task.value == 80


@pytest.mark.django_db
def test_concurrent_approve_and_return_have_one_winner(personas, ind):
    open_round(personas, [ind["rate"]])
    task = task_for(ind["rate"], "449901")
    services.submit_filling(task, actor=personas["district_a"], value=70)
    seen_by_lead = FillingTask.objects.get(pk=task.pk)
    seen_by_coordinator = FillingTask.objects.get(pk=task.pk)

    services.approve_filling(seen_by_lead, actor=personas["lead_department"])
    with pytest.raises(TransitionConflict) as lost:
        services.return_filling(seen_by_coordinator, actor=personas["coordinator"], reason="有误")

    assert "当前状态为“审核通过（已锁定）”" in str(lost.value)
    task.refresh_from_db()
    assert (task.status, task.return_reason) == ("approved", "")
    assert TransitionHistory.objects.filter(object_id=str(task.pk), action="return").count() == 0
    assert IndicatorValue.objects.filter(source_kind="filling").count() == 1


@pytest.mark.django_db
def test_stale_draft_version_is_a_conflict(personas, ind):
    open_round(personas, [ind["rate"]])
    task = task_for(ind["rate"], "449901")
    services.save_draft(task, actor=personas["district_a"], value=10, expected_version=1)

    with pytest.raises(TransitionConflict):
        services.save_draft(task, actor=personas["district_a"], value=11, expected_version=1)

    task.refresh_from_db()
    assert (task.value, task.version) == (10, 2)


@pytest.mark.django_db
def test_reviewers_are_the_lead_department_and_the_coordinator(personas, city, ind):
    ind["departments"].responsible_departments.set([city["market"]])
    open_round(personas, [ind["departments"], ind["rate"]], target="auto")
    own = task_for(ind["departments"], "449900")
    services.submit_filling(own, actor=personas["lead_department"], value=60)
    east = task_for(ind["rate"], "449901")
    services.submit_filling(east, actor=personas["district_a"], value=60)

    with pytest.raises(TransitionNotAllowed) as self_review:
        services.approve_filling(own, actor=personas["lead_department"])
    with pytest.raises(TransitionNotAllowed) as district:
        services.approve_filling(east, actor=personas["district_b"])
    with pytest.raises(TransitionNotAllowed) as responsible:
        services.approve_filling(east, actor=personas["responsible_department"])
    services.approve_filling(own, actor=personas["coordinator"])

    assert str(self_review.value) == "不能审核本人提交的数据"
    assert str(district.value) == "您的角色无权执行“审核通过”"
    assert str(responsible.value) == "您的角色无权执行“审核通过”"
    east.refresh_from_db()
    own.refresh_from_db()
    assert (own.status, east.status) == ("approved", "submitted")


# --- overdue --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_overdue_listing_counts_working_days_across_the_holiday(personas, ind):
    open_round(personas, [ind["rate"]])  # opened 09-30, 3 working days -> due 10-11
    submitted = task_for(ind["rate"], "449901")
    services.submit_filling(submitted, actor=personas["district_a"], value=50)
    returned = task_for(ind["rate"], "449902")
    services.submit_filling(returned, actor=personas["district_b"], value=50)
    services.return_filling(returned, actor=personas["coordinator"], reason="请补充说明")

    def overdue(actor: str, today: dt.date) -> list[str]:
        return sorted(t.region.code for t in selectors.list_overdue(personas[actor], today=today))

    assert overdue("coordinator", dt.date(2025, 10, 11)) == []
    assert overdue("coordinator", dt.date(2025, 10, 12)) == ["449902", "P449951"]
    assert overdue("district_a", dt.date(2025, 10, 12)) == ["P449951"]
    assert overdue("district_b", dt.date(2025, 10, 12)) == ["449902"]
    assert overdue("enterprise", dt.date(2025, 10, 12)) == []


# --- scheduled opening ----------------------------------------------------------------------


@pytest.mark.django_db
def test_scheduled_opening_is_idempotent(personas, ind):
    Indicator.objects.filter(code__in=["BE07.01", "BE07.02"]).update(source_kind="filling")
    Indicator.objects.filter(code="BE07.03").update(source_kind="records")
    open_round(personas, [ind["amount"]])  # 2025-10 of BE07.02 asked for by hand

    opened = rounds.open_due_filling_rounds(today=dt.date(2025, 11, 3))
    again = rounds.open_due_filling_rounds(today=dt.date(2025, 11, 3))

    assert len(opened) == 1
    assert again == []
    assert list(opened[0].indicators.values_list("code", flat=True)) == ["BE07.01"]
    assert opened[0].created_by is None
    assert opened[0].deadline == dt.date(2025, 11, 17)  # ten working days after 11-03
    assert FillingTask.objects.filter(indicator=ind["rate"], period=OCT).count() == 3
    assert AuditEvent.objects.filter(action="filling_round.open_scheduled").count() == 1


# --- rules ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_rule_services(personas, city, ind):
    rule = services.create_filling_rule(
        actor=personas["lead_department"],
        indicator=ind["amount"],
        kind="range",
        parameters={"min": 0},
        message="到位额不能为负",
    )
    with pytest.raises(services.FillingError) as bad:
        services.create_filling_rule(
            actor=personas["coordinator"],
            indicator=ind["amount"],
            kind="cross_field",
            parameters={"other": "XX", "operator": "~"},
        )
    ind["amount"].lead_department = city["tax"]
    ind["amount"].save()
    with pytest.raises(services.FillingError) as foreign:
        services.create_filling_rule(
            actor=personas["lead_department"],
            indicator=ind["amount"],
            kind="range",
            parameters={"max": 1},
        )
    services.set_filling_rule_active(rule, actor=personas["coordinator"], active=False)

    assert str(bad.value) == "比较的指标编码不存在；比较关系应为 < <= == != >= >"
    assert str(foreign.value) == "只有营商办或该指标的牵头部门可以设置校验规则"
    rule.refresh_from_db()
    assert (rule.parameters, rule.message, rule.is_active) == ({"min": 0}, "到位额不能为负", False)
    assert FillingRule.objects.filter(indicator=ind["amount"]).count() == 1


# --- aggregate import -----------------------------------------------------------------------


def workbook(rows: list[list[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["指标编码", "区划代码", "期间", "数值"])
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


@pytest.mark.django_db
def test_aggregate_import_writes_values(personas, ind):
    data = workbook(
        [
            ["BE07.02", "449901", "2025-10", 120.5],
            ["BE07.02", "449902", dt.datetime(2025, 10, 1), "88"],
        ]
    )

    before = values_version()
    checked = imports.import_aggregate_values(data, actor=personas["coordinator"], dry_run=True)
    assert (checked.ok, checked.created, checked.updated) == (True, 2, 0)
    assert IndicatorValue.objects.count() == 0
    assert values_version() == before  # a dry run changes nothing

    report = imports.import_aggregate_values(data, actor=personas["coordinator"])
    assert values_version() > before

    assert (report.ok, report.total, report.created, report.updated) == (True, 2, 2, 0)
    values = {
        (v.region.code, v.period, v.source_kind): v.value
        for v in IndicatorValue.objects.select_related("region")
    }
    assert values == {
        ("449901", OCT, "aggregate"): 120.5,
        ("449902", OCT, "aggregate"): 88.0,
    }
    again = imports.import_aggregate_values(
        workbook([["BE07.02", "449901", "2025-10", 121], ["BE07.02", "449902", "2025-10", 88]]),
        actor=personas["coordinator"],
    )
    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    assert AuditEvent.objects.filter(action="indicator_value.import_aggregate").count() == 2


@pytest.mark.django_db
def test_aggregate_import_is_all_or_nothing(personas, ind):
    data = workbook(
        [
            ["BE07.02", "449901", "2025-10", 120.5],
            ["BE07.02", "999999", "2025-10", 1],
            ["BE07", "449901", "2025-13", "多"],
            ["BE07.02", "449901", "2025-10", 3],
        ]
    )

    report = imports.import_aggregate_values(data, actor=personas["coordinator"])

    assert not report.ok
    assert [(e.row, e.column, e.code) for e in report.errors] == [
        (3, "区划代码", "unknown_region"),
        (4, "指标编码", "not_leaf"),
        (4, "期间", "invalid_period"),
        (4, "数值", "invalid_number"),
        (5, "指标编码、区划代码与期间", "duplicate"),
    ]
    assert report.errors[0].message == "区划代码“999999”不存在"
    assert IndicatorValue.objects.count() == 0
    assert not AuditEvent.objects.filter(action="indicator_value.import_aggregate").exists()


@pytest.mark.django_db
def test_aggregate_import_permissions(personas, city, ind):
    ind["amount"].lead_department = city["tax"]
    ind["amount"].save()
    data = workbook([["BE07.02", "449901", "2025-10", 1], ["BE07.01", "449901", "2025-10", 2]])

    with pytest.raises(services.FillingError) as district:
        imports.import_aggregate_values(data, actor=personas["district_a"])
    report = imports.import_aggregate_values(data, actor=personas["lead_department"])

    assert str(district.value) == "只有营商办、系统管理员或指标牵头部门可以导入汇总数据"
    assert [(e.row, e.code, e.message) for e in report.errors] == [
        (2, "not_lead", "您不是指标 BE07.02 的牵头部门，不能导入其数值")
    ]
    assert IndicatorValue.objects.count() == 0


@pytest.mark.django_db
def test_aggregate_template_has_the_four_columns(personas):
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(imports.aggregate_template()))

    assert [c.value for c in wb["数据"][1]] == ["指标编码", "区划代码", "期间", "数值"]
    assert wb.sheetnames == ["数据", "填写说明"]


def test_periods():
    assert Period.parse("2025-10", "month", loose=True).start == OCT
    assert Period.parse("2025年3月", "month", loose=True).start == dt.date(2025, 3, 1)
    assert Period(dt.date(2025, 1, 1), "month").shift(-1).start == dt.date(2024, 12, 1)
    assert Period(dt.date(2025, 1, 1), "quarter").shift(-1).start == dt.date(2024, 10, 1)
    assert Period(dt.date(2025, 1, 1), "year").shift(-1).start == dt.date(2024, 1, 1)
    assert Period(dt.date(2025, 7, 1), "quarter").label_zh == "2025年第3季度"
    with pytest.raises(ValueError, match="格式不正确"):
        Period.parse("2025-13", "month", loose=True)
    assert periods.PERIOD_FORMAT.startswith("期间应写为 YYYY-MM")


@pytest.mark.django_db
def test_aggregate_import_refuses_a_rate_outside_0_to_100(personas, ind):
    """A share in % cannot be 162 (the 按时办结率 of the issue) nor a count negative: the row
    is refused with a Chinese message and nothing is written."""
    data = workbook(
        [
            ["BE07.01", "449901", "2025-10", 162],
            ["BE07.01", "449902", "2025-10", 99.5],
            ["BE07.02", "449901", "2025-10", -3],
        ]
    )

    report = imports.import_aggregate_values(data, actor=personas["coordinator"])

    assert not report.ok
    assert [(e.row, e.column, e.code, e.message) for e in report.errors] == [
        (2, "数值", "out_of_range", "指标 BE07.01“政策兑现资金到位率”为比率（%），数值应在 0–100 之间，收到 162"),
        (4, "数值", "out_of_range", "指标 BE07.02“兑现资金到位额”的数值不能为负数，收到 -3"),
    ]  # fmt: skip
    assert IndicatorValue.objects.count() == 0


@pytest.mark.django_db
def test_filled_rate_outside_0_to_100_is_refused_without_a_rule(personas, ind):
    open_round(personas, [ind["departments"]])
    task = task_for(ind["departments"], "449900")

    with pytest.raises(services.FillingValidationFailed) as refused:
        services.submit_filling(task, actor=personas["lead_department"], value="174")

    assert refused.value.errors == [
        "指标 BE07.03“惠企政策知晓率”为比率（%），数值应在 0–100 之间，收到 174"
    ]
    task.refresh_from_db()
    assert (task.status, task.value) == ("open", None)


# --- batches ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_batch_submit_and_approve_write_the_values_history_and_one_notice_each(personas, ind):
    open_round(personas, [ind["rate"], ind["amount"]])
    officer, lead = personas["district_a"], personas["lead_department"]
    rate, amount = task_for(ind["rate"], "449901"), task_for(ind["amount"], "449901")
    before = Notification.objects.count()

    services.submit_filling_tasks([(rate, "95.5"), (amount, 1200)], actor=officer)

    assert [(t.status, t.value, t.submitted_by_id) for t in (rate, amount)] == [
        ("submitted", 95.5, officer.pk),
        ("submitted", 1200, officer.pk),
    ]
    notices = Notification.objects.order_by("id")[before:]
    assert [(n.recipient_id, n.subject) for n in notices] == [(lead.pk, "待审核填报：2 项")]

    services.approve_filling_tasks([rate, amount], actor=lead)

    stored = FillingTask.objects.filter(region__code="449901").order_by("indicator__code")
    assert [(t.status, t.value, t.approved_by_id) for t in stored] == [
        ("approved", 95.5, lead.pk),
        ("approved", 1200, lead.pk),
    ]
    values = IndicatorValue.objects.filter(source_kind="filling").order_by("indicator__code")
    assert [(v.indicator.code, v.region.code, v.period, v.value) for v in values] == [
        ("BE07.01", "449901", OCT, 95.5),
        ("BE07.02", "449901", OCT, 1200),
    ]
    for task in (rate, amount):
        assert list(
            TransitionHistory.objects.filter(object_id=str(task.pk)).values_list(
                "action", "actor_id"
            )
        ) == [("submit", officer.pk), ("approve", lead.pk)]
    assert AuditEvent.objects.filter(action="filling_task.approve").count() == 2
    assert (
        Notification.objects.filter(recipient=officer, subject="填报已审核通过：2 项").count() == 1
    )


@pytest.mark.django_db
def test_batch_submit_with_one_bad_value_submits_nothing(personas, ind):
    open_round(personas, [ind["rate"], ind["amount"]])
    rate, amount = task_for(ind["rate"], "449901"), task_for(ind["amount"], "449901")

    with pytest.raises(services.FillingValidationFailed) as refused:
        services.submit_filling_tasks([(amount, 10), (rate, 120)], actor=personas["district_a"])

    assert refused.value.errors and refused.value.errors[0].startswith("BE07.01 ")
    assert set(FillingTask.objects.values_list("status", "value")) == {("open", None)}
    assert FillingTask.objects.filter(region__code="449901").count() == 2
    assert not TransitionHistory.objects.exists()


@pytest.mark.django_db
def test_batch_approve_is_all_or_nothing_and_keeps_four_eyes(personas, ind):
    open_round(personas, [ind["rate"], ind["amount"]])
    lead = personas["lead_department"]
    rate, amount = task_for(ind["rate"], "449901"), task_for(ind["amount"], "449901")
    services.submit_filling_tasks([(rate, 90)], actor=personas["district_a"])

    # The second task was never submitted: nothing is approved.
    with pytest.raises(TransitionNotAllowed):
        services.approve_filling_tasks([rate, amount], actor=lead)
    with pytest.raises(TransitionNotAllowed, match="您的角色无权执行“审核通过”"):
        services.approve_filling_tasks([rate], actor=personas["district_a"])

    mine = FillingTask.objects.filter(region__code="449901")
    assert sorted(mine.values_list("status", flat=True)) == ["open", "submitted"]
    assert not IndicatorValue.objects.filter(source_kind="filling").exists()
    assert not TransitionHistory.objects.filter(action="approve").exists()
