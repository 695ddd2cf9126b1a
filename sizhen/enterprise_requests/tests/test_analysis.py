"""Request analysis (诉求分析): exact figures on a planted set across National Day 2025."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from sizhen.core.workcalendar import working_days_between
from sizhen.enterprise_requests import analysis
from sizhen.enterprise_requests.analysis import AnalysisFilter
from sizhen.enterprise_requests.models import EnterpriseRequest, RequestCategory

TODAY = dt.date(2025, 11, 20)
PERIOD = AnalysisFilter(first=dt.date(2025, 9, 1), last=dt.date(2025, 11, 1))


def at(day: str, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour)))


def _plant(city: dict[str, Any]) -> dict[str, EnterpriseRequest]:
    cat = {c.code: c for c in RequestCategory.objects.filter(code__in=["0101", "0201", "0302"])}
    a, b, park = city["district_a"], city["district_b"], city["park"]
    a_dept, market, office = city["a_dept"], city["market"], city["office"]
    ent = city["enterprise_a"]
    rows: dict[str, dict[str, Any]] = {
        # Submitted the day before National Day, accepted on the first working day after it.
        "r1": dict(
            channel="portal",
            category=cat["0101"],
            region=a,
            lead_department=a_dept,
            submitted_at=at("2025-09-30"),
            accepted_at=at("2025-10-09"),
            replied_at=at("2025-10-13"),
            closed_at=at("2025-10-15"),
            deadline="2025-10-14",
            status="closed",
            satisfaction=5,
            resolved=True,
            text="企业开办刻章环节需要跑三次，联系电话13800001111",
        ),
        "r2": dict(
            channel="portal",
            category=cat["0101"],
            region=a,
            lead_department=a_dept,
            submitted_at=at("2025-09-30"),
            accepted_at=at("2025-10-10"),
            replied_at=at("2025-10-15"),
            closed_at=at("2025-10-20"),
            deadline="2025-10-14",
            status="closed",
            satisfaction=2,
            resolved=False,
            text="刻章备案系统无法提交",
        ),
        "r3": dict(
            channel="hotline_12345",
            category=cat["0201"],
            region=b,
            lead_department=market,
            submitted_at=at("2025-10-09"),
            accepted_at=at("2025-10-09", 15),
            deadline="2025-10-15",
            status="handling",
            text="窗口审批超时限",
        ),
        "r4": dict(
            channel="portal",
            category=cat["0101"],
            region=a,
            lead_department=a_dept,
            submitted_at=at("2025-10-10"),
            deadline="2025-10-17",
            status="dispatched",
            text="营业执照刻章费用",
        ),
        "r5": dict(
            channel="staff_window",
            category=cat["0101"],
            region=a,
            submitted_at=at("2025-11-19"),
            status="registered",
            text="申领发票",
        ),
        "r6": dict(
            channel="portal",
            category=cat["0101"],
            region=a,
            submitted_at=at("2025-10-10"),
            closed_at=at("2025-10-11"),
            status="withdrawn",
            text="撤回的诉求",
        ),
        "r7": dict(
            channel="portal",
            category=cat["0302"],
            region=park,
            lead_department=a_dept,
            submitted_at=at("2025-10-20"),
            # Accepted in time, then accepted again after the second assignment (二次交办):
            # the response counts the first acceptance.
            first_accepted_at=at("2025-10-21"),
            accepted_at=at("2025-10-23"),
            replied_at=at("2025-10-24"),
            closed_at=at("2025-10-28"),
            deadline="2025-10-27",
            status="closed",
            satisfaction=4,
            resolved=True,
            second_assignment=True,
            text="园区用电报装",
        ),
        "r8": dict(
            channel="hotline_12345",
            category=cat["0201"],
            region=b,
            lead_department=market,
            submitted_at=at("2025-10-20"),
            accepted_at=at("2025-10-22"),
            replied_at=at("2025-10-23"),
            deadline="2025-10-27",
            status="replied",
            text="窗口排队时间长",
        ),
        "r9": dict(
            channel="portal",
            category=cat["0302"],
            region=city["root"],
            lead_department=office,
            submitted_at=at("2025-09-05"),
            accepted_at=at("2025-09-05", 16),
            replied_at=at("2025-09-10"),
            closed_at=at("2025-09-12"),
            deadline="2025-09-12",
            status="closed",
            satisfaction=3,
            resolved=True,
            text="用水价格",
        ),
        "r10": dict(
            channel="hotline_12345",
            category=cat["0302"],
            region=b,
            lead_department=market,
            submitted_at=at("2025-10-31"),
            accepted_at=at("2025-11-03"),
            deadline="2025-11-07",
            status="handling",
            text="用气报装",
        ),
    }
    out = {}
    for i, (name, row) in enumerate(rows.items(), start=1):
        if row.get("deadline"):
            row["deadline"] = dt.date.fromisoformat(row["deadline"])
        row.setdefault("first_accepted_at", row.get("accepted_at"))
        out[name] = EnterpriseRequest.objects.create(
            number=f"SQ2025-{i:06d}",
            title=row["text"][:10],
            enterprise=ent,
            contact_name="张三",
            contact_phone="13800001111",
            **row,
        )
    return out


@pytest.fixture
def planted(city: dict[str, Any]) -> dict[str, EnterpriseRequest]:
    return _plant(city)


@pytest.mark.django_db
def test_overall_figures_across_national_day(planted, personas):
    f = analysis.overall(personas["coordinator"], PERIOD, today=TODAY)
    assert f.total == 9  # r6 withdrawn counts nowhere
    # Responded within 1 working day: r1 (9 Oct after the holiday), r3, r7, r9, r10 (Fri→Mon);
    # due: the 7 responded plus r4 (never accepted); r5 (submitted yesterday) is not due yet.
    assert (f.responded, f.response_due, f.response_rate) == (5, 8, 62.5)
    assert (f.resolved, f.resolution_base, f.resolution_rate) == (3, 4, 75.0)
    assert (f.satisfied, f.rated, f.satisfaction_rate) == (2, 4, 50.0)
    # Overdue: r2 replied after its deadline, r3, r4 and r10 open past theirs.
    assert (f.overdue, f.deadline_due, f.overdue_rate) == (4, 8, 50.0)
    assert (f.second, f.second_base, f.second_rate) == (1, 5, 20.0)
    # Working days submission → reply: r1 4, r2 6, r7 4, r8 3, r9 3.
    assert (f.handled, f.handling_days, f.avg_handling_days) == (5, 20, 4.0)
    assert working_days_between(dt.date(2025, 9, 30), dt.date(2025, 10, 13)).days == 4


@pytest.mark.django_db
def test_totals_match_the_overall_figures_in_one_aggregate(
    planted, personas, django_assert_max_num_queries
):
    """The cockpit's shortcut: the same counts as ``overall`` for every scope, without the
    dimension roll-ups (first submission, the two calendar tables, the aggregate)."""
    for name in ("coordinator", "district_a", "district_b", "enterprise"):
        expected = analysis.overall(personas[name], PERIOD, today=TODAY)
        with django_assert_max_num_queries(4):
            got = analysis.totals(personas[name], PERIOD, today=TODAY)
        assert [getattr(got, n) for n in got.COUNTS] == [
            getattr(expected, n) for n in expected.COUNTS
        ], name
    assert analysis.totals(personas["coordinator"], PERIOD, today=TODAY).total == 9
    assert analysis.totals(personas["district_b"], PERIOD, today=TODAY).total < 9


@pytest.mark.django_db
def test_grouped_by_district_department_channel_category_month(planted, personas, city):
    actor = personas["coordinator"]
    districts = {r.label: r for r in analysis.by_dimension(actor, PERIOD, "district", today=TODAY)}
    assert {k: v.total for k, v in districts.items()} == {
        "东湖区": 5,  # r1, r2, r4, r5 and r7 of the park under it
        "西山区": 3,
        "市级/未指定区域": 1,
    }
    assert districts["东湖区"].response_rate == 50.0  # r1, r7 of r1, r2, r4, r7
    assert districts["西山区"].response_rate == 66.7  # r3, r10 of r3, r8, r10
    departments = {
        r.label: r for r in analysis.by_dimension(actor, PERIOD, "department", today=TODAY)
    }
    assert {k: v.total for k, v in departments.items()} == {
        city["a_dept"].name: 4,
        city["market"].name: 3,
        city["office"].name: 1,
        "（未指定）": 1,
    }
    assert departments[city["a_dept"].name].satisfaction_rate == 66.7
    assert departments[city["market"].name].overdue_rate == 66.7
    channels = {r.key: r.total for r in analysis.by_dimension(actor, PERIOD, "channel")}
    assert channels == {"portal": 5, "hotline_12345": 3, "staff_window": 1}
    categories = [
        (r.label, r.total) for r in analysis.by_dimension(actor, PERIOD, "category", today=TODAY)
    ]
    names = {c.code: c.name for c in RequestCategory.objects.filter(code__in=["01", "02", "03"])}
    assert categories == [(names["01"], 4), (names["02"], 2), (names["03"], 3)]
    months = [(r.label, r.total) for r in analysis.by_dimension(actor, PERIOD, "month")]
    assert months == [("2025-09", 3), ("2025-10", 5), ("2025-11", 1)]


@pytest.mark.django_db
def test_filters_narrow_the_figures(planted, personas, city):
    actor = personas["coordinator"]
    f = AnalysisFilter(
        first=dt.date(2025, 9, 1), last=dt.date(2025, 11, 1), channel="hotline_12345"
    )
    assert analysis.overall(actor, f, today=TODAY).total == 3
    f = AnalysisFilter(first=dt.date(2025, 10, 1), last=dt.date(2025, 10, 1), region=city["park"])
    assert analysis.overall(actor, f, today=TODAY).total == 1
    top = RequestCategory.objects.get(code="01")
    f = AnalysisFilter(first=dt.date(2025, 9, 1), last=dt.date(2025, 11, 1), category=top)
    assert analysis.overall(actor, f, today=TODAY).total == 4


@pytest.mark.django_db
def test_definitions_are_configurable(planted, personas):
    actor = personas["coordinator"]
    conf = {
        "response_working_days": 2,
        "satisfied_levels": (3, 4, 5),
        "resolution_mode": "closed",
        "handled_at": "closed_at",
    }
    with override_settings(SIZHEN_REQUEST_RATES=conf):
        f = analysis.overall(actor, PERIOD, today=TODAY)
    # Within 2 working days r2 (9 Oct holiday gap: 2) and r8 (2) respond in time as well.
    assert (f.responded, f.response_due) == (7, 8)
    assert (f.satisfied, f.rated) == (3, 4)
    # 办结 / replied: r1, r2, r7, r9 closed of r1, r2, r7, r8, r9.
    assert (f.resolved, f.resolution_base) == (4, 5)
    # Closed after the deadline: r1 (15 Oct), r2, r7; not closed and past it: r3, r4, r8, r10.
    assert (f.overdue, f.deadline_due) == (7, 8)
    bad = override_settings(SIZHEN_REQUEST_RATES={"response_at": "nonsense"})
    with bad, pytest.raises(ValueError):
        analysis.rate_settings()


@pytest.mark.django_db
def test_response_counts_the_first_acceptance(planted, personas):
    actor = personas["coordinator"]
    # r7 was first accepted the day after submission (in time) and accepted again three
    # working days after it, following its second assignment.
    assert analysis.overall(actor, PERIOD, today=TODAY).responded == 5
    with override_settings(SIZHEN_REQUEST_RATES={"response_at": "accepted_at"}):
        latest = analysis.overall(actor, PERIOD, today=TODAY)
    assert (latest.responded, latest.response_due, latest.response_rate) == (4, 8, 50.0)


@pytest.mark.django_db
def test_district_officer_counts_only_their_district(planted, personas):
    f = analysis.overall(personas["district_a"], PERIOD, today=TODAY)
    assert f.total == 5
    rows = analysis.by_dimension(personas["district_b"], PERIOD, "district", today=TODAY)
    assert [(r.label, r.total) for r in rows] == [("西山区", 3)]
    # A department sees what it leads.
    assert analysis.overall(personas["lead_department"], PERIOD, today=TODAY).total == 3


@pytest.mark.django_db
def test_hot_keywords_and_category_trend(planted, personas):
    actor = personas["coordinator"]
    topics = analysis.hot_keywords(actor, PERIOD)
    assert [(t.month, t.total) for t in topics] == [
        (dt.date(2025, 9, 1), 3),
        (dt.date(2025, 10, 1), 5),
        (dt.date(2025, 11, 1), 1),
    ]
    september = dict(topics[0].words)
    assert september["刻章"] == 2
    assert "企业" not in september  # a stop word
    months, trend = analysis.category_trend(actor, PERIOD)
    assert months == [dt.date(2025, 9, 1), dt.date(2025, 10, 1), dt.date(2025, 11, 1)]
    names = {c.code: c.name for c in RequestCategory.objects.filter(code__in=["01", "02", "03"])}
    assert [(t.label, t.counts) for t in trend] == [
        (names["01"], [2, 1, 1]),
        (names["03"], [1, 2, 0]),
        (names["02"], [0, 2, 0]),
    ]
    assert not any(t.rising for t in trend)
    with override_settings(SIZHEN_REQUEST_RATES={"rising_min": 1, "rising_ratio": 0.5}):
        _, trend = analysis.category_trend(actor, PERIOD)
    assert [t.label for t in trend if t.rising] == [names["01"]]


@pytest.mark.django_db
def test_overdue_and_second_assignment_lists(planted, personas):
    actor = personas["coordinator"]
    overdue = [r.number for r in analysis.overdue_requests(actor, PERIOD, today=TODAY)]
    assert overdue == [planted[n].number for n in ("r2", "r3", "r4", "r10")]
    seconds = [r.number for r in analysis.second_assignment_requests(actor, PERIOD)]
    assert seconds == [planted["r7"].number]
