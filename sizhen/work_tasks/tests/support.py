"""Helpers shared by the work-task tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sizhen.core.models import AuditEvent
from sizhen.indicators.catalogue.models import Indicator
from sizhen.monitoring.models import Alert
from sizhen.work_tasks import services
from sizhen.work_tasks.models import TaskAssignment, WorkTask

#: Issued on Friday 26 September 2025: 5 working days span National Day (1–8 October; Sunday
#: 28 September and Saturday 11 October are make-up working days) and end on 10 October.
NATIONAL_DAY_ISSUE = dt.date(2025, 9, 26)
NATIONAL_DAY_DEADLINE = dt.date(2025, 10, 10)


def issue(personas: dict[str, Any], units: list[Any], **fields: Any) -> WorkTask:
    values: dict[str, Any] = {
        "title": "压缩企业开办时间",
        "content": "将企业开办全流程压缩至 1 个工作日以内",
        "source": "annual_plan",
        "deadline_working_days": 5,
    }
    values.update(fields)
    return services.issue_task(actor=personas["coordinator"], units=units, **values)


def assignment_for(task: WorkTask, unit: Any) -> TaskAssignment:
    key = "department" if unit.__class__.__name__ == "Department" else "region"
    return task.assignments.get(**{key: unit}, parent__isnull=True)


def state(assignment: TaskAssignment) -> tuple[str, int]:
    fresh = TaskAssignment.objects.get(pk=assignment.pk)
    return fresh.status, fresh.version


def audit_count() -> int:
    return AuditEvent.objects.count()


def make_alert(city: dict[str, Any]) -> Alert:
    indicator = Indicator.objects.create(
        code="T01",
        name="新设企业数",
        direction="higher_is_better",
        frequency="month",
        source_kind="records",
        weight=1.0,
        level=2,
    )
    return Alert.objects.create(
        indicator=indicator,
        region=city["district_a"],
        kind="cross_sectional_extreme",
        period=dt.date(2025, 6, 1),
        severity="red",
        value=300.0,
        expected=100.0,
        method="modified_z",
        score=8.0,
        explanation="东湖区新设企业数显著偏离全市水平",
    )
