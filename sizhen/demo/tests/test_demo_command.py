from __future__ import annotations

import datetime as dt
import io
import itertools
import json
from typing import Any

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sizhen.accounts.models import User
from sizhen.core.models import AuditEvent
from sizhen.core.periods import Period
from sizhen.core.roles import USER_ROLES, Role
from sizhen.demo.data import CITY_CODE, DEMO_PASSWORD
from sizhen.organisations import services as org
from sizhen.organisations.choices import DepartmentType, RegionLevel
from sizhen.organisations.models import Department, Enterprise, Region
from sizhen.organisations.validators import (
    mask_phone,
    uscc_error,
    validate_industry_code,
    validate_phone,
)
from sizhen.thinktank.matching import Matcher
from sizhen.thinktank.models import Policy, Redemption


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def snapshot_city() -> dict[str, Any]:
    """Everything the demo load writes, by natural keys (primary keys and times excluded)."""
    return {
        "regions": list(
            Region.objects.order_by("code").values_list(
                "code", "name", "level", "parent__code", "path", "depth", "sort_order"
            )
        ),
        "departments": list(
            Department.objects.order_by("code").values_list(
                "code",
                "name",
                "short_name",
                "type",
                "region__code",
                "responsibilities",
                "sort_order",
            )
        ),
        "enterprises": list(
            Enterprise.objects.order_by("uscc").values_list(
                "uscc",
                "name",
                "industry_code",
                "region__code",
                "size",
                "address",
                "contact_name",
                "contact_phone",
                "established_on",
            )
        ),
        "users": list(
            User.objects.order_by("username").values_list(
                "username",
                "full_name",
                "role",
                "department__code",
                "region__code",
                "enterprise__uscc",
                "phone",
                "must_change_password",
            )
        ),
    }


@pytest.mark.django_db
def test_demo_builds_city_regions_and_departments() -> None:
    output = run()

    assert "已装入演示城市 示范市（449900）" in output
    city = Region.objects.get(code=CITY_CODE)
    assert (city.name, city.level, city.parent_id, city.path) == (
        "示范市",
        "city",
        None,
        "/449900/",
    )
    below = Region.objects.filter(path__startswith=city.path).exclude(pk=city.pk)
    assert below.count() == 13
    levels = sorted(below.values_list("level", flat=True))
    assert levels.count(RegionLevel.DISTRICT) == 4
    assert levels.count(RegionLevel.COUNTY) == 4
    assert levels.count(RegionLevel.PARK) == 5
    for region in below:
        assert region.path == f"{region.parent.path}{region.code}/"
        if region.level == RegionLevel.PARK:
            assert region.code.startswith("P4499") and len(region.code) == 7
        else:
            assert region.code.startswith("4499") and len(region.code) == 6
            assert region.parent_id == city.pk
    assert Region.objects.get(code="P449951").parent.code == "449901"

    city_departments = Department.objects.filter(region=city)
    assert city_departments.count() == 57
    names = set(city_departments.values_list("name", flat=True))
    for required in (
        "营商环境建设局",
        "发展和改革委员会",
        "市场监督管理局",
        "税务局",
        "人力资源和社会保障局",
        "自然资源和规划局",
        "住房和城乡建设局",
        "生态环境局",
        "交通运输局",
        "公安局",
        "政务服务管理局",
        "地方金融管理局",
        "人民法院",
        "供电公司",
        "水务集团",
        "燃气公司",
    ):
        assert required in names
    office = Department.objects.get(type=DepartmentType.OFFICE)
    assert (office.code, office.name, office.region_id) == ("SZ-YSB", "营商环境建设局", city.pk)
    assert Department.objects.get(name="供电公司").type == DepartmentType.UTILITY
    assert Department.objects.get(name="人民法院").type == DepartmentType.JUDICIAL
    assert not Department.objects.filter(responsibilities="").exists()
    for region in below:
        expected = 2 if region.level == RegionLevel.PARK else 9
        assert Department.objects.filter(region=region).count() == expected
    assert Department.objects.get(code="DH-SCJG").name == "东湖区市场监督管理局"


@pytest.mark.django_db
def test_demo_builds_2000_valid_unique_enterprises() -> None:
    run()

    enterprises = list(Enterprise.objects.select_related("region"))
    assert len(enterprises) == 2000
    usccs = [e.uscc for e in enterprises]
    assert len(set(usccs)) == 2000
    assert [u for u in usccs if uscc_error(u) is not None] == []
    assert len({e.name for e in enterprises}) == 2000
    for enterprise in enterprises:
        validate_industry_code(enterprise.industry_code)
        validate_phone(enterprise.contact_phone)
        assert enterprise.industry_code != ""
        assert enterprise.size in {"micro", "small", "medium", "large"}
        assert enterprise.region.path.startswith("/449900/")
        # The registry code inside the USCC is the enterprise's district, or the park's.
        registry = enterprise.uscc[2:8]
        assert registry.startswith("4499")
    per_region = {r.code: r.enterprises.count() for r in Region.objects.exclude(code=CITY_CODE)}
    assert all(count > 0 for count in per_region.values())
    assert per_region["449901"] == 320
    assert sum(per_region.values()) == 2000
    sizes = {size: Enterprise.objects.filter(size=size).count() for size in ("micro", "large")}
    assert sizes["micro"] > sizes["large"] > 0
    showcase = Enterprise.objects.get(name="东湖示范科技有限公司")
    assert mask_phone(showcase.contact_phone) == "138****1111"
    assert showcase.region.code == "449901"


@pytest.mark.django_db
def test_demo_accounts_cover_every_role_and_can_log_in() -> None:
    run()

    users = {u.username: u for u in User.objects.select_related("region", "department")}
    assert {u.role for u in users.values()} == {r.value for r in USER_ROLES}
    assert all(not u.must_change_password for u in users.values())
    assert all(u.check_password(DEMO_PASSWORD) for u in users.values())
    for user in users.values():
        validate_password(DEMO_PASSWORD, User(username=user.username, full_name=user.full_name))
    officers = [u for u in users.values() if u.role == Role.DISTRICT_OFFICER]
    districts = {
        u.region.code
        for u in officers
        if u.region.level in (RegionLevel.DISTRICT, RegionLevel.COUNTY)
    }
    assert districts == {"449901", "449902"}
    assert users["enterprise"].enterprise.name == "东湖示范科技有限公司"
    assert users["lead_dept"].department.code == "SZ-SCJG"
    assert users["resp_dept"].scope_path == "/449900/449901/"

    client = Client()
    response = client.post(
        reverse("accounts:login"), {"username": "district_dh", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("core:home")
    home = client.get(reverse("core:home"))
    assert "县市区/园区" in home.content.decode()


@pytest.mark.django_db
def test_logins_json_prints_only_json_with_the_fields() -> None:
    output = run("--if-empty", "--logins-json")

    logins = json.loads(output)
    assert isinstance(logins, list)
    assert len(logins) == User.objects.count() == 11
    for entry in logins:
        assert set(entry) == {"username", "password", "role", "region_code", "department_code"}
        user = User.objects.get(username=entry["username"])
        assert entry["role"] == user.role
        assert entry["password"] == DEMO_PASSWORD
        assert entry["department_code"] == (user.department.code if user.department else None)
    by_name = {entry["username"]: entry for entry in logins}
    assert by_name["district_xs"]["region_code"] == "449902"
    assert by_name["park_gx"]["region_code"] == "P449951"
    assert by_name["resp_dept"]["region_code"] == "449901"
    assert by_name["leader"]["region_code"] == CITY_CODE
    assert by_name["enterprise"]["region_code"] == "449901"
    assert by_name["enterprise"]["department_code"] is None


@pytest.mark.django_db
def test_logins_table_lists_every_account_in_chinese() -> None:
    run()
    table = run("--logins")

    lines = table.splitlines()
    assert lines[0].split() == ["用户名", "密码", "角色", "数据范围"]
    assert len(lines) == 2 + 11
    assert lines[2].split() == ["leader", DEMO_PASSWORD, "市领导", "全市"]
    assert "district_xs  " in table and "西山区" in table
    assert "sysadmin" in table and "系统管理员" in table
    # Printing logins alone loads nothing more.
    assert AuditEvent.objects.filter(action="demo.load").count() == 1


@pytest.mark.django_db
def test_logins_on_an_empty_database_is_an_error() -> None:
    with pytest.raises(CommandError, match="演示数据尚未装入"):
        run("--logins-json")
    assert Region.objects.count() == 0
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_if_empty_on_a_loaded_city_changes_nothing() -> None:
    run("--if-empty")
    before = snapshot_city()
    events_before = AuditEvent.objects.count()

    output = run("--if-empty")

    assert output.strip() == "演示城市已存在，跳过装入"
    assert snapshot_city() == before
    assert AuditEvent.objects.count() == events_before


@pytest.mark.django_db
def test_loading_twice_without_reset_is_refused_and_changes_nothing() -> None:
    run()
    before = snapshot_city()

    with pytest.raises(CommandError, match="已存在"):
        run()

    assert snapshot_city() == before
    assert AuditEvent.objects.filter(action="demo.load").count() == 1


@pytest.mark.django_db
def test_the_load_is_one_system_audit_event() -> None:
    from sizhen.indicators.catalogue.models import Indicator, IndicatorValue

    run()

    # The indicator catalogue, the dispatch catalogue, the request rates (one aggregate import
    # a month, by the system) and the survey's index and follow-ups (by the coordinator) are
    # audited by their own services; the city is one event.
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions[:2] == ["indicator.catalogue_load", "dispatch.catalogue_loaded"]
    assert actions[-1] == "demo.load"
    imports = AuditEvent.objects.filter(action="indicator_value.import_aggregate")
    survey = [
        "indicator_value.publish",
        "survey.index_publish",
        "enterprise_request.submit",
        "survey.follow_up",
        "rectification.create",
        "survey.follow_up",
    ]
    # The policy library's publications, amendments and repeals, by the workflow engine.
    library = (
        ["policy.publish"] * Policy.objects.exclude(status="draft").count()
        + ["policy.amend"] * Policy.objects.filter(status__in=["amended", "repealed"]).count()
        + ["policy.repeal"] * Policy.objects.filter(status="repealed").count()
    )
    # Training (by the coordinator and the demo people): the course assigned, the finished
    # exam drafted, published, taken by six people and closed, one practice of a wrong
    # answer, and the practice exam drafted and published.
    training = [
        "training.course_assign",
        "training.exam_create",
        "training_exam.publish",
        *["training.attempt_start", "training_attempt.submit"] * 6,
        "training_exam.close",
        "training.practice",
        "training.exam_create",
        "training_exam.publish",
    ]
    # The data assets' extract requests: the leader's (approved by the coordinator) and a
    # district officer's (pending) on the restricted dataset.
    extracts = ["asset_extract.submit", "asset_extract.approve", "asset_extract.submit"]
    assert actions[2:-1] == (
        ["indicator_value.import_aggregate"] * imports.count()
        + survey
        + library
        + training
        + extracts
    )
    # One import a published month.
    published = IndicatorValue.objects.filter(indicator__code="BE15.08", source_kind="aggregate")
    assert imports.count() == published.values("period").distinct().count() > 0
    assert {(e.actor_id, e.actor_label) for e in imports} == {(None, "系统")}
    events = list(AuditEvent.objects.filter(action="demo.load"))
    event = events[0]
    assert (event.action, event.actor_id, event.actor_label) == ("demo.load", None, "系统")
    assert event.object_repr == "示范市"
    assert event.after == {
        "seed": 449900,
        "counts": {
            "regions": 13,
            "departments": 139,
            "enterprises": 2000,
            "users": 11,
            "indicators": 105,
            "dispatch": 25,
            "tasks": 50,
            "requests": 300,
            "rates": event.after["counts"]["rates"],
            "rectification": 48,
            "surveys": 483,
            "policies": 254,
            "training": 297,
            # 8 districts and counties × the first-level indicators × 2023–2025
            "assets": 8 * Indicator.objects.filter(level=1).count() * 3,
        },
    }
    assert event.after["counts"]["rates"] == sum(e.after["created"] for e in imports) > 0


@pytest.mark.django_db
def test_two_runs_produce_identical_data() -> None:
    run()
    first = snapshot_city()
    first_max_pk = Enterprise.objects.order_by("-pk").values_list("pk", flat=True)[0]

    output = run("--reset")

    assert output.startswith("已清除原有演示数据")
    # Every row was rebuilt (new keys), and the rebuilt city is the same.
    assert Enterprise.objects.order_by("pk").values_list("pk", flat=True)[0] > first_max_pk
    assert snapshot_city() == first
    assert list(
        AuditEvent.objects.filter(action__startswith="demo.")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["demo.load", "demo.reset", "demo.load"]


@pytest.mark.django_db
def test_another_seed_changes_enterprises_but_not_the_organisation_tables() -> None:
    run()
    first = snapshot_city()

    run("--reset", "--seed", "7")

    second = snapshot_city()
    assert second["regions"] == first["regions"]
    assert second["departments"] == first["departments"]
    assert second["enterprises"] != first["enterprises"]
    assert len(second["enterprises"]) == 2000


@pytest.mark.django_db
def test_reset_removes_other_users_of_the_demo_city_too() -> None:
    run()
    extra = User(username="extra_officer", role=Role.DISTRICT_OFFICER)
    extra.region = Region.objects.get(code="449903")
    extra.save()

    run("--reset")

    assert not User.objects.filter(username="extra_officer").exists()
    assert User.objects.count() == 11


@pytest.mark.django_db
def test_refuses_a_database_that_holds_another_city() -> None:
    org.create_region(actor=None, code="449800", name="别的市", level=RegionLevel.CITY)

    with pytest.raises(CommandError, match="别的市"):
        run("--if-empty")

    assert list(Region.objects.values_list("code", flat=True)) == ["449800"]
    assert Enterprise.objects.count() == 0
    assert User.objects.count() == 0


def assert_every_region_has_every_indicator() -> None:
    """The overall index and all 18 first-level indicators are scored for every region in the
    headline month; every leaf has a value for every region and every period of the window;
    two benchmark cities have every first-level indicator and the index."""
    from sizhen.demo.values_step import BENCHMARK_CITIES, window_periods
    from sizhen.indicators.catalogue.models import Benchmark, Indicator, IndicatorValue
    from sizhen.indicators.ingestion.demo_records import month_starts

    headline = month_starts()[-1]
    assert (month_starts()[0], headline, len(month_starts())) == (
        dt.date(2023, 12, 1),
        dt.date(2026, 11, 1),
        36,
    )
    regions = set(Region.objects.values_list("code", flat=True))
    assert len(regions) == 14
    tops = ["BE", *Indicator.objects.filter(parent__code="BE").values_list("code", flat=True)]
    assert len(tops) == 19
    scored = set(
        IndicatorValue.objects.filter(
            period=headline, source_kind="composite", indicator__code__in=tops, score__isnull=False
        ).values_list("indicator__code", "region__code")
    )
    assert scored == {(code, region) for code in tops for region in regions}
    have = set(
        IndicatorValue.objects.exclude(source_kind="composite")
        .filter(value__isnull=False)
        .values_list("indicator__code", "region__code", "period")
    )
    leaves = list(Indicator.objects.filter(children__isnull=True))
    assert len(leaves) == 86
    missing = [
        (leaf.code, region, period)
        for leaf in leaves
        for region in sorted(regions)
        for period in window_periods(leaf.frequency)
        if (leaf.code, region, period) not in have
    ]
    assert missing == []
    assert len(BENCHMARK_CITIES) >= 2
    benchmarks = set(
        Benchmark.objects.filter(period=headline).values_list("indicator__code", "city")
    )
    assert {(code, city) for code in tops for city, _share in BENCHMARK_CITIES} <= benchmarks
    for leaf in leaves:
        last = window_periods(leaf.frequency)[-1]
        cities = Benchmark.objects.filter(indicator=leaf, period=last).values_list(
            "city", flat=True
        )
        assert sorted(cities) == sorted(city for city, _share in BENCHMARK_CITIES), leaf.code


def assert_the_districts_tell_a_story() -> None:
    """东湖区 leads and 青石市 lags the districts over the last year; 南湾区 slides from 2025-07
    and improves after its rectification item (closed on the turnaround date) is closed."""
    from sizhen.indicators.catalogue.models import IndicatorValue
    from sizhen.indicators.ingestion import demo_records as records
    from sizhen.rectification.models import RectificationItem

    months = records.month_starts()
    index = IndicatorValue.objects.filter(
        indicator__code="BE", source_kind="composite", region__depth=1, period__in=months
    )

    def mean(code: str, first: dt.date, after: dt.date) -> float:
        values = [v for v in index.filter(region__code=code) if first <= v.period < after]
        return sum(v.value for v in values) / len(values)

    year = {
        code: mean(code, months[-12], dt.date(2027, 1, 1))
        for code in index.values_list("region__code", flat=True).distinct()
    }
    ranked = sorted(year, key=year.get, reverse=True)
    assert (ranked[0], ranked[-1]) == (records.LEADER, records.LAGGARD)
    improver = records.IMPROVER
    before = mean(improver, months[0], records.SLIDE_FROM)
    slide = mean(improver, records.SLIDE_FROM, records.TURNAROUND)
    after = mean(improver, records.TURNAROUND, dt.date(2027, 1, 1))
    assert slide < before - 2 and after > before + 2
    turned = RectificationItem.objects.get(
        region__code=improver, status="closed", closed_at__date=records.TURNAROUND_CLOSED_ON
    )
    assert turned.indicators.exists()


def assert_filling_went_through_the_workflow() -> None:
    from sizhen.core.models import TransitionHistory
    from sizhen.indicators.filling.models import FillingTask

    tasks = FillingTask.objects.all()
    # 22 yearly leaves for 4 years and 1 quarterly leaf for 13 quarters, in 13 regions.
    assert tasks.count() == (22 * 4 + 13) * 13
    assert set(tasks.values_list("status", flat=True)) == {"approved"}
    late = [t for t in tasks if t.submitted_at.date() > t.deadline]
    assert late == []
    assert all(t.approved_at >= t.submitted_at for t in tasks)
    actions = TransitionHistory.objects.filter(workflow="filling_task")
    assert actions.filter(action="submit").count() == actions.filter(action="approve").count()
    assert actions.filter(action="approve").count() == tasks.count()


@pytest.mark.django_db
def test_demo_records_step_loads_every_dataset_and_computes_scored_values(tmp_path, settings):
    from sizhen.indicators.catalogue.models import Indicator, IndicatorValue
    from sizhen.indicators.ingestion.models import LoadBatch

    settings.SIZHEN_ANALYTICS_DIR = tmp_path / "analytics"
    out = io.StringIO()
    call_command("demo", "--records", "3000", stdout=out)
    # The summary names the datasets as people know them.
    assert "已装入业务数据：政务服务办件 3000 条，" in out.getvalue()
    assert "gov_service_cases" not in out.getvalue()
    assert Indicator.objects.filter(parent__code="BE").count() == 18
    assert sorted(LoadBatch.objects.values_list("dataset__code", "status")) == [
        ("bidding", "loaded"),
        ("construction_permits", "loaded"),
        ("court_cases", "loaded"),
        ("enterprise_startup", "loaded"),
        ("gov_service_cases", "loaded"),
        ("ip_pledges", "loaded"),
        ("labour_cases", "loaded"),
        ("market_supervision", "loaded"),
        ("procurement", "loaded"),
        ("property_registrations", "loaded"),
        ("tax_filings", "loaded"),
        ("utility_connections", "loaded"),
    ]
    assert_every_region_has_every_indicator()
    assert_the_districts_tell_a_story()
    assert_filling_went_through_the_workflow()
    city_on_time = IndicatorValue.objects.filter(
        indicator__code="BE15.03", region__code="449900", source_kind="records"
    )
    assert city_on_time.count() >= 30  # three years of months
    assert all(0 <= v.value <= 100 and v.score is not None for v in city_on_time)
    overall = IndicatorValue.objects.filter(indicator__code="BE", source_kind="composite")
    assert overall.exclude(rank=None).exists()
    # Resetting clears the monitoring data too, then loads it again.
    call_command("demo", "--reset", "--records", "0", stdout=io.StringIO())
    assert LoadBatch.objects.count() == 0
    # Only the request rates and the satisfaction index the reload published (and the
    # composites they score) remain.
    leaves = IndicatorValue.objects.exclude(source_kind="composite")
    assert set(leaves.values_list("indicator__code", "source_kind").distinct()) == {
        ("BE15.08", "aggregate"),
        ("BE15.09", "aggregate"),
        ("BE15.10", "aggregate"),
        ("BE16.02", "survey"),
        ("BE18.04", "survey"),
        ("BE18.07", "survey"),
    }
    composites = IndicatorValue.objects.filter(source_kind="composite")
    assert set(composites.values_list("indicator__code", flat=True)) == {
        "BE15",
        "BE16",
        "BE18",
        "BE",
    }


@pytest.mark.django_db
def test_lead_department_has_tasks_in_every_state() -> None:
    from sizhen.work_tasks.models import ProgressReport, TaskAssignment

    run()

    user = User.objects.get(username="lead_dept")
    mine = TaskAssignment.objects.filter(department=user.department)
    states = set(mine.values_list("status", flat=True))
    assert {"issued", "received", "submitted", "returned", "approved"} <= states
    approved = mine.filter(status="approved")
    assert sorted(approved.values_list("timeliness", flat=True)) == ["early", "late", "on_time"]
    late = approved.get(timeliness="late")
    assert late.finished_on > late.deadline and late.delay_working_days > 0
    today = timezone.localdate()
    overdue = [a for a in mine if a.is_overdue(today)]
    assert {a.status for a in overdue} >= {"received", "returned"}
    # In progress with milestones: progress reports that close milestones of the task, in
    # order, after the receipt.
    reports = ProgressReport.objects.filter(assignment__in=mine, milestone_done=True)
    assert reports.exists()
    for report in reports.select_related("milestone", "assignment"):
        assert report.milestone.task_id == report.assignment.task_id
        assert report.created_at >= report.assignment.received_at
    in_progress = mine.filter(status="received", reports__milestone_done=True).distinct()
    assert in_progress.exists()
    assert all(a.task.milestones.count() == 3 for a in in_progress)
    # The other department and district accounts have tasks of their own unit too.
    for username in ("resp_dept", "resp_city", "district_dh", "district_xs", "park_gx"):
        other = User.objects.get(username=username)
        own = TaskAssignment.objects.filter(
            department=other.department, region=other.region
        ).exclude(department=None, region=None)
        assert own.exists(), username
    # The human resources bureau (resp_city) leads the labour requests.
    from sizhen.enterprise_requests.models import EnterpriseRequest

    labour = EnterpriseRequest.objects.filter(lead_department__code="SZ-RSJ")
    assert labour.exists()
    assert all(any(w in r.text for w in ("招工", "稳岗补贴", "社保登记")) for r in labour)


@pytest.mark.django_db
def test_rectification_links_matching_indicators_and_freezes_the_verification() -> None:
    from sizhen.indicators.catalogue.models import IndicatorValue
    from sizhen.rectification.models import RectificationItem, Review

    run()

    water = RectificationItem.objects.filter(title__contains="用水报装")
    assert water.exists()
    for item in water:
        assert {i.code[:4] for i in item.indicators.all()} == {"BE04"}
    for item in RectificationItem.objects.filter(title__contains="电力"):
        assert {i.code[:4] for i in item.indicators.all()} == {"BE03"}
    assert not RectificationItem.objects.filter(indicators__isnull=True).exists()
    closed = RectificationItem.objects.filter(status="closed")
    reviews = Review.objects.filter(item__in=closed)
    assert reviews.count() == closed.count() == 33
    for review in reviews:
        codes = sorted(i.code for i in review.item.indicators.all())
        assert sorted(row["code"] for row in review.snapshot) == codes
    # Request items are linked to the published request rates: their verification has values.
    slow = Review.objects.filter(item__title__contains="企业诉求回复不及时").first()
    assert slow is not None
    (row,) = slow.snapshot
    city_value = IndicatorValue.objects.filter(
        indicator__code="BE15.08", region=slow.item.region, source_kind="aggregate"
    ).order_by("-period")
    assert row["after"] == city_value[0].value
    # The responsible-department accounts see items, and the 曝光台 has repeated problems.
    for username in ("resp_dept", "resp_city"):
        user = User.objects.get(username=username)
        assert RectificationItem.objects.visible_to(user).exists(), username
    exposed = RectificationItem.objects.filter(published=True)
    assert exposed.count() == 3
    assert all(i.repeated and i.status == "closed" and i.public_summary for i in exposed)


@pytest.mark.django_db
def test_the_request_rates_are_published_and_scored_for_the_demo_months() -> None:
    from sizhen.enterprise_requests import report
    from sizhen.enterprise_requests.models import EnterpriseRequest
    from sizhen.indicators.catalogue.models import IndicatorValue
    from sizhen.indicators.ingestion.demo_records import month_starts

    run()

    published = IndicatorValue.objects.filter(
        indicator__code__in=["BE15.08", "BE15.09", "BE15.10"], source_kind="aggregate"
    )
    months = sorted(set(published.values_list("period", flat=True)))
    # Every complete month of the requests, up to the last month of the demo records (so that
    # the dashboards' newest period is not one with the rates alone).
    first = EnterpriseRequest.objects.order_by("submitted_at")[0].submitted_at
    assert months[0] == timezone.localtime(first).date().replace(day=1)
    assert months[-1] == min(
        Period.containing(timezone.localdate()).shift(-1).start, month_starts()[-1]
    )
    assert all((b - a).days <= 31 for a, b in itertools.pairwise(months))
    for month in (months[0], months[-1]):
        expected = {(code, region, value) for code, region, _p, value in report.rate_rows(month)}
        stored = set(
            published.filter(period=month).values_list("indicator__code", "region__code", "value")
        )
        assert stored == expected and expected
    assert not published.filter(score=None).exists()
    city = published.filter(region__code=CITY_CODE, indicator__code="BE15.08")
    assert city.count() == len(months)
    composite = IndicatorValue.objects.filter(
        indicator__code="BE15", region__code=CITY_CODE, period=months[-1], source_kind="composite"
    )
    assert composite.exclude(score=None).exists()


#: Who may handle a demo request of each category (the suffix of the department code: the
#: city department SZ-<suffix> or a district's <prefix>-<suffix>).
CATEGORY_DEPARTMENTS = {
    "0101": {"SCJG", "SW"},
    "0102": {"SCJG", "SW"},
    "0103": {"SCJG", "JTJ", "WJW"},
    "0104": {"ZJJ", "YJJ", "STHJ"},
    "0201": {"ZWFW", "GJJ"},
    "0202": {"ZWFW", "ZRZY", "SW"},
    "0203": {"ZWFW", "SW", "RSJ"},
    "0204": {"RSJ", "ZRZY", "SW"},
    "0301": {"ZRZY"},
    "0302": {"GDGS", "SWJT", "RQGS", "RL"},
    "0303": {"RSJ"},
    "0304": {"JRJ"},
    "0401": {"SW", "KJJ", "GXJ"},
    "0402": {"GXJ", "RSJ", "TCJ"},
    "0403": {"SW"},
    "0501": {"ZRZY", "STHJ", "FGW", "FGJ"},
    "0502": {"ZJJ"},
    "0503": {"ZJJ"},
    "0601": {"SFJ", "YJJ", "STHJ"},
    "0602": {"SCJG", "STHJ", "JTJ"},
    "0603": {"SCJG", "ZSCQ"},
    "0604": {"FGW", "FGJ", "CZJ"},
    "0701": {"SFJ", "TCJ"},
    "0702": {"GZW", "CZJ"},
    "0703": {"SFJ"},
    "0801": {"JTJ"},
    "0802": {"ZJJ"},
    "0803": {"STHJ"},
    "0901": {"YSB", "ZWFW", "SCJG"},
    "0902": {"YSB", "CGJ"},
}
#: Words whose request must be filed under one of the categories and go to that department.
SUBJECT_RULES = {
    "用电增容": ({"0302"}, "GDGS"),
    "用水报装": ({"0302"}, "SWJT"),
    "天然气报装": ({"0302"}, "RQGS"),
    "供热": ({"0302"}, "RL"),
    "招工": ({"0303"}, "RSJ"),
    "稳岗补贴": ({"0402"}, "RSJ"),
    "贷": ({"0304"}, "JRJ"),
    "施工许可": ({"0502"}, "ZJJ"),
    "竣工联合验收": ({"0503"}, "ZJJ"),
    "环评审批": ({"0501", "0803"}, "STHJ"),
    "留抵退税": ({"0403"}, "SW"),
    "商标侵权": ({"0603"}, "SCJG"),
}


@pytest.mark.django_db
def test_demo_request_texts_match_their_category_and_department() -> None:
    from sizhen.enterprise_requests.models import EnterpriseRequest

    run()

    requests = list(
        EnterpriseRequest.objects.filter(source_key="demo").select_related(
            "category", "lead_department"
        )
    )
    assert len(requests) == 300
    dispatched = [r for r in requests if r.lead_department is not None]
    assert len(dispatched) > 200
    wrong = [
        (r.category.code, r.lead_department.code, r.text)
        for r in dispatched
        if r.lead_department.code.split("-", 1)[1] not in CATEGORY_DEPARTMENTS[r.category.code]
    ]
    assert wrong == []
    checked = 0
    for r in requests:
        for word, (categories, suffix) in SUBJECT_RULES.items():
            if word in r.text:
                checked += 1
                assert r.category.code in categories, (word, r.category.code, r.text)
                if r.lead_department is not None:
                    assert r.lead_department.code.split("-", 1)[1] == suffix, (word, r.text)
    assert checked > 30
    # Every category of the taxonomy is used, and its texts never name another category's
    # subject (the first check would catch 用电增容 filed as 用工招聘 and sent to 自然资源局).
    assert {r.category.code for r in requests} == set(CATEGORY_DEPARTMENTS)


@pytest.mark.django_db
def test_the_policy_library_has_versions_drafts_and_a_policy_for_every_enterprise() -> None:
    run()
    statuses = dict(
        Policy.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    assert sum(statuses.values()) == 254
    assert statuses["draft"] == 3
    assert statuses["amended"] > 0 and statuses["repealed"] > 0
    # Every amended or repealed version has its successor (政策沿革).
    superseded = set(Policy.objects.exclude(supersedes=None).values_list("supersedes", flat=True))
    assert (
        set(Policy.objects.filter(status__in=["amended", "repealed"]).values_list("pk", flat=True))
        <= superseded
    )
    assert Policy.objects.filter(level="district").exclude(regions=None).exists()
    matcher = Matcher.today()
    rows = Enterprise.objects.values_list("pk", "industry_code", "size", "region__path")
    counts = matcher.match_all(rows)
    assert len(counts) == 2000
    assert min(counts.values()) > 0
    assert Redemption.objects.exists()


@pytest.mark.django_db
def test_training_has_materials_for_every_first_level_indicator_a_bank_and_a_finished_exam(
    settings: Any, tmp_path: Any
) -> None:
    from sizhen.indicators.catalogue.models import Indicator
    from sizhen.training.models import Attempt, Exam, Material, Question, WrongAnswer

    settings.MEDIA_ROOT = tmp_path / "media"
    run()
    firsts = set(Indicator.objects.filter(level=1).values_list("code", flat=True))
    assert len(firsts) == 18
    documents = Material.objects.filter(kind="document", audience="common")
    assert set(documents.values_list("indicator__code", flat=True)) == firsts
    for material in documents:
        with material.file.open("rb") as handle:
            assert handle.read(5) == b"%PDF-"
    video = Material.objects.get(kind="video")
    with video.file.open("rb") as handle:
        assert handle.read(4) == b"\x1a\x45\xdf\xa3"
    assert video.size < 300 * 1024
    assert Question.objects.count() >= 150
    assert set(Question.objects.values_list("kind", flat=True)) == {
        "single", "multiple", "true_false", "fill"
    }  # fmt: skip
    finished = Exam.objects.get(status="closed")
    attempts = Attempt.objects.filter(exam=finished)
    assert attempts.count() == 6
    assert set(attempts.values_list("status", flat=True)) == {"submitted"}
    assert all(a.percent is not None and a.passed is not None for a in attempts)
    assert WrongAnswer.objects.filter(user__username="resp_dept").exists()
    assert Exam.objects.filter(status="published").count() == 1
