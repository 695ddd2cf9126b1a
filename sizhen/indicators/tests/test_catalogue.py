"""The default catalogue (指标体系), edits with revisions, goalposts per cycle and benchmarks:
the services, with exact assertions on what they write and on what a refused write leaves."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from openpyxl import Workbook

from sizhen.core.models import AuditEvent
from sizhen.indicators.catalogue import defaults, imports, selectors, services
from sizhen.indicators.catalogue.choices import Direction, Frequency, SourceKind
from sizhen.indicators.catalogue.models import (
    Benchmark,
    EvaluationCycle,
    Goalpost,
    Indicator,
    IndicatorRevision,
)
from sizhen.indicators.ingestion.engine.definitions import DEFINITIONS
from sizhen.organisations import services as org
from sizhen.organisations.choices import DepartmentType

CYCLE = "2024-2026"
FIRST_LEVEL = [f"BE{n:02d}" for n in range(1, 19)]


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def state() -> dict[str, Any]:
    """Everything the catalogue loader may write, for before/after comparisons."""
    return {
        "indicators": [
            (services.indicator_snapshot(i), i.pk, i.updated_at)
            for i in Indicator.objects.order_by("code")
        ],
        "goalposts": sorted(
            Goalpost.objects.values_list("indicator__code", "cycle__code", "best", "worst", "note")
        ),
        "revisions": sorted(IndicatorRevision.objects.values_list("indicator__code", "version")),
        "cycles": sorted(EvaluationCycle.objects.values_list("code", "is_current")),
        "benchmarks": sorted(
            Benchmark.objects.values_list("indicator__code", "city", "period", "value", "source")
        ),
    }


@pytest.fixture
def loaded(city: dict[str, Any]) -> imports.CatalogueLoadReport:
    return imports.load_default_catalogue(CYCLE, actor=None)


# --- the cleaned file ------------------------------------------------------------------------


def test_default_catalogue_has_the_18_first_level_indicators_and_clean_leaves() -> None:
    entries = defaults.read_catalogue()
    by_code = {e.code: e for e in entries}
    assert len(entries) == len(by_code) == 105
    assert [e.code for e in entries if e.parent == "BE"] == FIRST_LEVEL
    assert [by_code[c].name for c in ("BE01", "BE09", "BE15", "BE18")] == [
        "开办企业",
        "跨境贸易",
        "政务服务",
        "包容普惠创新",
    ]
    leaves = [e for e in entries if e.is_leaf]
    assert len(leaves) == 86
    for leaf in leaves:
        assert leaf.parent in FIRST_LEVEL, leaf.code
        assert leaf.unit and leaf.direction in Direction.values, leaf.code
        assert leaf.frequency in Frequency.values, leaf.code
        assert leaf.source_kind in set(SourceKind.values) - {SourceKind.COMPOSITE}, leaf.code
        assert leaf.best is not None and leaf.worst is not None and leaf.best != leaf.worst
        assert defaults.goalpost_problem(leaf.direction, leaf.best, leaf.worst) == ""
        assert leaf.lead_department_name and leaf.definition and leaf.goalpost_note, leaf.code
    for code in ["BE", *FIRST_LEVEL]:
        assert by_code[code].source_kind == SourceKind.COMPOSITE
    # Informational leaves are in the tree but carry no weight.
    assert sorted(e.code for e in leaves if e.weight == 0) == [
        "BE01.05",
        "BE11.01",
        "BE11.02",
        "BE15.06",
    ]


def test_every_engine_definition_maps_to_a_record_based_leaf_of_the_same_frequency() -> None:
    by_code = {e.code: e for e in defaults.read_catalogue()}
    for definition in DEFINITIONS:
        entry = by_code[definition["indicator"]]
        assert entry.is_leaf
        assert entry.source_kind == SourceKind.RECORDS
        assert entry.frequency == definition["frequency"]
    assert {
        c: by_code[c].name for c in ("BE15.01", "BE15.02", "BE15.03", "BE15.06", "BE15.07")
    } == {
        "BE15.01": "全程网办率",
        "BE15.02": "承诺时限压缩率",
        "BE15.03": "按时办结率",
        "BE15.06": "办结量",
        "BE15.07": "平均办理时间",
    }
    assert (by_code["BE15.07"].unit, by_code["BE15.07"].direction) == ("工作日", "lower_is_better")
    assert (by_code["BE15.06"].unit, by_code["BE15.06"].weight) == ("件", 0.0)
    assert (by_code["BE01.03"].unit, by_code["BE01.03"].best, by_code["BE01.03"].worst) == (
        "元",
        0.0,
        1000.0,
    )
    # "1 (CN≈1 via 一表申请)" became 1.
    assert (by_code["BE01.01"].best, by_code["BE01.01"].worst) == (1.0, 18.0)


def test_a_broken_catalogue_file_is_refused_with_every_problem(tmp_path: Any) -> None:
    path = tmp_path / "bad.csv"
    header = ",".join(defaults.CSV_COLUMNS)
    path.write_text(
        header + "\n"
        "BE,总分,,,分,higher_is_better,month,composite,,,,,1,,\n"
        "BE01,开办企业,,BE,分,higher_is_better,month,composite,,,,,1,,\n"
        "BE01.01,环节,,BE01,个,lower_is_better,month,records,,,18,1,1,,\n"
        "BE01.02,时间,,BE09,工作日,sideways,month,records,,,1,1,1,,\n",
        encoding="utf-8",
    )
    with pytest.raises(defaults.CatalogueError) as caught:
        defaults.read_catalogue(path)
    assert str(caught.value) == (
        "第 4 行（BE01.01）：负向指标（越低越好）的最优值应小于最差值；"
        "第 5 行（BE01.02）：上级指标须为之前出现的指标（仅第一行为顶级）；"
        "第 5 行（BE01.02）：方向或频度无效；"
        "第 5 行（BE01.02）：最优值与最差值不能相同"
    )


# --- loading ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_loading_builds_the_tree_with_departments_and_current_goalposts(
    city: dict[str, Any], loaded: imports.CatalogueLoadReport
) -> None:
    assert Indicator.objects.count() == 105
    root = Indicator.objects.get(code="BE")
    assert (root.parent_id, root.level) == (None, 0)
    assert list(root.children.order_by("sort_order").values_list("code", flat=True)) == FIRST_LEVEL
    cycle = EvaluationCycle.objects.get()
    assert (cycle.code, cycle.name, cycle.starts_on, cycle.ends_on, cycle.is_current) == (
        CYCLE,
        "2024–2026 年评价周期",
        dt.date(2024, 1, 1),
        dt.date(2026, 12, 31),
        True,
    )
    leaves = Indicator.objects.filter(level=2)
    assert leaves.count() == 86
    for leaf in leaves:
        assert not leaf.children.exists()
        assert leaf.unit and leaf.direction and leaf.frequency, leaf.code
        assert leaf.source_kind != SourceKind.COMPOSITE, leaf.code
        goalpost = Goalpost.objects.get(indicator=leaf, cycle=cycle)
        assert goalpost.best != goalpost.worst, leaf.code
    assert Goalpost.objects.count() == 86
    on_time = Indicator.objects.get(code="BE15.03")
    assert (on_time.name, on_time.unit, on_time.direction, on_time.frequency) == (
        "按时办结率",
        "%",
        "higher_is_better",
        "month",
    )
    assert Goalpost.objects.filter(indicator=on_time).values_list("best", "worst").get() == (
        100.0,
        80.0,
    )
    # Departments are matched by name among the city's departments; missing ones stay empty.
    start_up = Indicator.objects.get(code="BE01")
    assert start_up.lead_department == city["market"]
    assert list(start_up.responsible_departments.all()) == [city["tax"]]
    assert Indicator.objects.get(code="BE08").lead_department == city["tax"]
    assert Indicator.objects.get(code="BE03").lead_department is None
    assert loaded.missing_departments["供电公司"] == [
        "BE03",
        "BE03.01",
        "BE03.02",
        "BE03.03",
        "BE03.04",
    ]
    assert loaded.missing_departments["海关"] == [
        "BE09",
        "BE09.01",
        "BE09.02",
        "BE09.03",
        "BE09.04",
        "BE09.05",
        "BE18.03",
    ]
    assert "市场监督管理局" not in loaded.missing_departments
    assert (len(loaded.created), loaded.kept, loaded.goalposts_created) == (105, 0, 86)
    [event] = events("indicator.catalogue_load")
    assert event.actor_label == "系统"
    assert event.after["created"] == 105
    assert event.after["goalposts_created"] == 86
    # District departments with a matching name do not count: only the city's own.
    assert Indicator.objects.filter(lead_department=city["a_dept"]).count() == 0


@pytest.mark.django_db
def test_loading_twice_changes_nothing(loaded: imports.CatalogueLoadReport) -> None:
    before = state()
    again = imports.load_default_catalogue(CYCLE, actor=None)
    assert state() == before
    assert (again.created, again.kept, again.filled, again.goalposts_created) == ([], 105, [], 0)
    assert again.cycle_created is False
    assert not again.changed_anything


@pytest.mark.django_db
def test_loading_never_overwrites_an_edit(personas: dict[str, Any], loaded: Any) -> None:
    indicator = Indicator.objects.get(code="BE01.02")
    services.update_indicator(
        indicator, actor=personas["coordinator"], reason="改用本市口径", name="企业开办时间"
    )
    imports.load_default_catalogue(CYCLE, actor=None)
    indicator.refresh_from_db()
    assert (indicator.name, indicator.version) == ("企业开办时间", 2)


@pytest.mark.django_db
def test_a_department_created_later_is_filled_in_on_unedited_indicators(
    city: dict[str, Any], personas: dict[str, Any], loaded: Any
) -> None:
    edited = Indicator.objects.get(code="BE03.01")
    services.update_indicator(edited, actor=personas["coordinator"], reason="口径调整", weight=2)
    power = org.create_department(
        actor=None,
        code="SZ-GDGS",
        name="供电公司",
        type=DepartmentType.UTILITY,
        region=city["root"],
    )
    report = imports.load_default_catalogue(CYCLE, actor=None)
    assert report.filled == ["BE03", "BE03.02", "BE03.03", "BE03.04"]
    assert "供电公司" not in report.missing_departments
    filled = Indicator.objects.get(code="BE03.02")
    assert (filled.lead_department, filled.version) == (power, 2)
    revision = filled.revisions.get()
    assert (revision.version, revision.reason, revision.changed_by) == (
        1,
        imports.FILL_REASON,
        None,
    )
    assert revision.snapshot["lead_department"] is None
    # A person edited BE03.01 after the first load, so the loader leaves it to them.
    edited.refresh_from_db()
    assert (edited.lead_department, edited.version) == (None, 2)
    assert imports.load_default_catalogue(CYCLE, actor=None).filled == []


@pytest.mark.django_db
def test_an_unparseable_new_cycle_code_writes_nothing(city: dict[str, Any]) -> None:
    with pytest.raises(defaults.CatalogueError, match="评价周期编码“下一期”无效"):
        imports.load_default_catalogue("下一期", actor=None)
    assert (Indicator.objects.count(), EvaluationCycle.objects.count()) == (0, 0)
    assert events("indicator.catalogue_load") == []


# --- edits -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_edit_keeps_the_old_version_as_a_revision(
    city: dict[str, Any], personas: dict[str, Any], loaded: Any
) -> None:
    coordinator = personas["coordinator"]
    indicator = Indicator.objects.get(code="BE01.02")
    services.update_indicator(
        indicator,
        actor=coordinator,
        reason="依据 2025 年评价方案",
        unit="天",
        weight=2.0,
        responsible_departments=[city["tax"], city["office"]],
    )
    indicator.refresh_from_db()
    assert (indicator.unit, indicator.weight, indicator.version) == ("天", 2.0, 2)
    revision = IndicatorRevision.objects.get(indicator=indicator)
    assert (revision.version, revision.reason, revision.changed_by) == (
        1,
        "依据 2025 年评价方案",
        coordinator,
    )
    assert revision.snapshot["unit"] == "工作日"
    assert revision.snapshot["weight"] == 1.0
    assert revision.snapshot["version"] == 1
    assert revision.snapshot["responsible_departments"] == [{"code": "SZ-SW", "name": "税务局"}]
    assert list(revision.snapshot["goalposts"]) == [CYCLE]
    goalpost = revision.snapshot["goalposts"][CYCLE]
    assert (goalpost["best"], goalpost["worst"], goalpost["target"]) == (0.5, 100.0, None)
    assert goalpost["note"].startswith("世界银行营商环境报告（DB2020）")
    [event] = events("indicator.update")
    assert event.object_id == str(indicator.pk)
    assert event.message == "依据 2025 年评价方案"
    assert event.before == {
        "unit": "工作日",
        "weight": 1.0,
        "responsible_departments": [{"code": "SZ-SW", "name": "税务局"}],
    }
    assert event.after == {
        "unit": "天",
        "weight": 2.0,
        "responsible_departments": [
            {"code": "SZ-SW", "name": "税务局"},
            {"code": "SZ-YSB", "name": "营商环境建设局"},
        ],
    }
    # A second edit keeps version 2 as it was.
    services.update_indicator(indicator, actor=coordinator, reason="改回", unit="工作日")
    assert list(indicator.revisions.order_by("version").values_list("version", flat=True)) == [1, 2]
    assert indicator.revisions.get(version=2).snapshot["unit"] == "天"
    indicator.refresh_from_db()
    assert indicator.version == 3


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"source_kind": SourceKind.COMPOSITE}, "末级指标没有下级指标，不能选择“下级指标合成”"),
        ({"weight": -1.0}, "权重应在 0 到 100 之间"),
        ({"unit": ""}, "末级指标须填写单位"),
        ({"direction": "sideways"}, None),
    ],
)
def test_an_invalid_edit_changes_nothing(
    personas: dict[str, Any], loaded: Any, fields: dict[str, Any], message: str | None
) -> None:
    before = state()
    indicator = Indicator.objects.get(code="BE15.03")
    with pytest.raises(ValidationError) as caught:
        services.update_indicator(indicator, actor=personas["coordinator"], reason="试", **fields)
    if message:
        assert message in caught.value.messages
    assert state() == before
    assert events("indicator.update") == []


@pytest.mark.django_db
def test_an_edit_without_changes_or_reason_is_refused(
    personas: dict[str, Any], loaded: Any
) -> None:
    before = state()
    indicator = Indicator.objects.get(code="BE15.03")
    with pytest.raises(ValidationError, match="未修改任何内容"):
        services.update_indicator(
            indicator, actor=personas["coordinator"], reason="无", name="按时办结率"
        )
    with pytest.raises(ValidationError, match="请填写修改说明"):
        services.update_indicator(indicator, actor=personas["coordinator"], reason=" ", name="x")
    with pytest.raises(ValidationError, match="不能修改这些字段：code"):
        services.update_indicator(indicator, actor=personas["coordinator"], reason="改", code="X")
    assert state() == before


@pytest.mark.django_db
def test_a_parent_must_stay_composite(personas: dict[str, Any], loaded: Any) -> None:
    before = state()
    with pytest.raises(ValidationError) as caught:
        services.update_indicator(
            Indicator.objects.get(code="BE15"),
            actor=personas["coordinator"],
            reason="改",
            source_kind=SourceKind.RECORDS,
        )
    assert caught.value.message_dict == {"source_kind": ["有下级指标的指标只能由下级指标合成"]}
    assert state() == before


# --- goalposts and cycles --------------------------------------------------------------------


@pytest.mark.django_db
def test_a_goalpost_edit_is_a_new_version(personas: dict[str, Any], loaded: Any) -> None:
    indicator = Indicator.objects.get(code="BE15.07")
    cycle = EvaluationCycle.objects.get(code=CYCLE)
    services.update_goalpost(
        indicator,
        cycle,
        actor=personas["coordinator"],
        best=0.5,
        worst=15,
        target=3,
        note="本市基线 P99",
        reason="基线年数据到位",
    )
    goalpost = Goalpost.objects.get(indicator=indicator, cycle=cycle)
    assert (goalpost.best, goalpost.worst, goalpost.target, goalpost.note) == (
        0.5,
        15.0,
        3.0,
        "本市基线 P99",
    )
    indicator.refresh_from_db()
    assert indicator.version == 2
    old = indicator.revisions.get(version=1).snapshot["goalposts"][CYCLE]
    assert (old["best"], old["worst"], old["target"]) == (0.0, 20.0, None)
    [event] = events("indicator.goalpost_update")
    assert event.after == {
        "cycle": CYCLE,
        "best": 0.5,
        "worst": 15.0,
        "target": 3.0,
        "note": "本市基线 P99",
    }
    assert (event.before["best"], event.before["worst"]) == (0.0, 20.0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "best", "worst", "message"),
    [
        ("BE15.07", 20, 0, "负向指标（越低越好）的最优值应小于最差值"),
        ("BE15.03", 80, 100, "正向指标（越高越好）的最优值应大于最差值"),
        ("BE15.03", 90, 90, "最优值与最差值不能相同"),
        ("BE15", 100, 0, "只有末级指标设置最优值和最差值；上级指标的得分由下级指标合成"),
    ],
)
def test_an_invalid_goalpost_changes_nothing(
    personas: dict[str, Any], loaded: Any, code: str, best: float, worst: float, message: str
) -> None:
    before = state()
    with pytest.raises(ValidationError) as caught:
        services.update_goalpost(
            Indicator.objects.get(code=code),
            EvaluationCycle.objects.get(code=CYCLE),
            actor=personas["coordinator"],
            best=best,
            worst=worst,
            reason="试",
        )
    assert caught.value.messages == [message]
    assert state() == before


@pytest.mark.django_db
def test_goalposts_of_an_ended_cycle_are_frozen(personas: dict[str, Any], loaded: Any) -> None:
    old = services.create_cycle(
        actor=personas["coordinator"],
        code="2021-2023",
        name="2021–2023 年评价周期",
        starts_on=dt.date(2021, 1, 1),
        ends_on=dt.date(2023, 12, 31),
    )
    before = state()
    with pytest.raises(ValidationError, match="目标值已冻结"):
        services.update_goalpost(
            Indicator.objects.get(code="BE15.03"),
            old,
            actor=personas["coordinator"],
            best=100,
            worst=50,
            reason="追溯调整",
        )
    assert state() == before


@pytest.mark.django_db
def test_a_new_cycle_starts_from_the_current_goalposts(
    personas: dict[str, Any], loaded: Any
) -> None:
    coordinator = personas["coordinator"]
    current = EvaluationCycle.objects.get(code=CYCLE)
    services.update_goalpost(
        Indicator.objects.get(code="BE15.03"),
        current,
        actor=coordinator,
        best=100,
        worst=90,
        reason="收紧",
    )
    cycle = services.create_cycle(
        actor=coordinator,
        code="2027-2029",
        name="2027–2029 年评价周期",
        starts_on=dt.date(2027, 1, 1),
        ends_on=dt.date(2029, 12, 31),
        make_current=True,
    )
    assert cycle.goalposts.count() == 86
    assert cycle.goalposts.filter(indicator__code="BE15.03").values_list("best", "worst").get() == (
        100.0,
        90.0,
    )
    assert sorted(EvaluationCycle.objects.values_list("code", "is_current")) == [
        (CYCLE, False),
        ("2027-2029", True),
    ]
    services.set_current_cycle(current, actor=coordinator)
    assert selectors.get_current_cycle() == current
    assert [e.after for e in events("evaluation_cycle.set_current")] == [{"current": CYCLE}]
    with pytest.raises(ValidationError):
        services.create_cycle(
            actor=coordinator,
            code="2027-2029",
            name="重复",
            starts_on=dt.date(2027, 1, 1),
            ends_on=dt.date(2027, 12, 31),
        )
    assert EvaluationCycle.objects.count() == 2


# --- benchmarks ------------------------------------------------------------------------------


def _xlsx(
    rows: list[list[Any]],
    header: tuple[str, ...] = ("指标编码", "标杆城市", "期间", "数值", "来源"),
) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(list(header))
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


@pytest.mark.django_db
def test_benchmarks_are_unique_per_indicator_city_and_month(
    personas: dict[str, Any], loaded: Any
) -> None:
    coordinator = personas["coordinator"]
    indicator = Indicator.objects.get(code="BE01.02")
    benchmark = services.create_benchmark(
        actor=coordinator,
        indicator=indicator,
        city=" 深圳市 ",
        period=dt.date(2025, 6, 17),
        value=0.5,
        source="年度评价报告",
    )
    assert (benchmark.city, benchmark.period, benchmark.value) == (
        "深圳市",
        dt.date(2025, 6, 1),
        0.5,
    )
    with pytest.raises(ValidationError, match="该指标 2025-06 已有“深圳市”的标杆值"):
        services.create_benchmark(
            actor=coordinator,
            indicator=indicator,
            city="深圳市",
            period=dt.date(2025, 6, 1),
            value=1,
        )
    services.update_benchmark(benchmark, actor=coordinator, value=0.4)
    assert Benchmark.objects.values_list("city", "value").get() == ("深圳市", 0.4)
    assert [
        e.action for e in AuditEvent.objects.filter(action__startswith="benchmark.").order_by("id")
    ] == [
        "benchmark.create",
        "benchmark.update",
    ]
    assert events("benchmark.update")[0].before == {"value": 0.5}


@pytest.mark.django_db
def test_benchmark_import_is_all_or_nothing_with_row_errors(
    personas: dict[str, Any], loaded: Any
) -> None:
    coordinator = personas["coordinator"]
    bad = _xlsx(
        [
            ["BE01.02", "深圳市", "2025-06", 0.5, "报告"],
            ["BE99.01", "上海市", "2025-06", 1, ""],
            ["BE01.02", "广州市", "2025-13", "快", ""],
            ["BE01.02", "深圳市", "2025/6", 0.6, ""],
            ["BE15.03", "", dt.datetime(2025, 7, 1), 99.5, ""],
        ]
    )
    report = imports.import_benchmarks(bad, actor=coordinator)
    assert [(e.row, e.column, e.code) for e in report.errors] == [
        (3, "指标编码", "unknown_indicator"),
        (4, "期间", "invalid_period"),
        (4, "数值", "invalid_value"),
        (5, "指标编码、标杆城市与期间", "duplicate"),
        (6, "标杆城市", "invalid_city"),
    ]
    assert report.errors[0].message == "指标编码“BE99.01”不存在"
    assert (
        report.errors[3].message
        == "与第 2 行重复（指标编码、标杆城市与期间：('BE01.02', '深圳市', '2025-06')）"
    )
    assert Benchmark.objects.count() == 0
    assert events("benchmark.import") == []

    good = _xlsx(
        [
            ["BE01.02", "深圳市", "2025-06", 0.5, "报告"],
            ["BE15.03", "杭州市", dt.datetime(2025, 7, 1), 99.5, ""],
        ]
    )
    checked = imports.import_benchmarks(good, actor=coordinator, dry_run=True)
    assert (checked.ok, Benchmark.objects.count()) == (True, 0)
    report = imports.import_benchmarks(good, actor=coordinator)
    assert (report.created, report.updated, report.unchanged) == (2, 0, 0)
    assert sorted(Benchmark.objects.values_list("indicator__code", "city", "period", "value")) == [
        ("BE01.02", "深圳市", dt.date(2025, 6, 1), 0.5),
        ("BE15.03", "杭州市", dt.date(2025, 7, 1), 99.5),
    ]
    changed = _xlsx(
        [
            ["BE01.02", "深圳市", "2025年6月", 0.4, "报告"],
            ["BE15.03", "杭州市", "2025-07", 99.5, ""],
        ]
    )
    report = imports.import_benchmarks(changed, actor=coordinator)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert Benchmark.objects.get(city="深圳市").value == 0.4
    assert [e.after for e in events("benchmark.import")] == [
        {"total": 2, "created": 2, "updated": 0},
        {"total": 2, "created": 0, "updated": 1},
    ]


@pytest.mark.django_db
def test_benchmark_import_refuses_a_file_without_required_columns(
    personas: dict[str, Any], loaded: Any
) -> None:
    report = imports.import_benchmarks(
        _xlsx([["BE01.02", "深圳市"]], header=("指标编码", "标杆城市")),
        actor=personas["coordinator"],
    )
    assert report.fatal == "缺少必填列：期间、数值（请使用下载的模板）"
    assert Benchmark.objects.count() == 0


# --- the management command ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_command_loads_and_reports_missing_departments(city: dict[str, Any]) -> None:
    from django.core.management import CommandError, call_command

    out, err = io.StringIO(), io.StringIO()
    call_command("load_catalogue", "--cycle", CYCLE, stdout=out, stderr=err)
    assert out.getvalue() == (
        f"评价周期 {CYCLE}（新建）：新增 105 个指标，保留已有 0 个，新增 86 组目标值，补充部门 0 个指标\n"
    )
    lines = err.getvalue().splitlines()
    missing = imports.load_default_catalogue(CYCLE, actor=None).missing_departments
    assert lines[0] == (
        f"本市没有以下 {len(missing)} 个部门，相关指标的牵头/责任部门暂为空"
        "（建好部门后重新运行本命令即可补上）："
    )
    assert "  供电公司：BE03、BE03.01、BE03.02、BE03.03、BE03.04" in lines
    assert len(lines) == len(missing) + 1
    out = io.StringIO()
    call_command("load_catalogue", stdout=out, stderr=io.StringIO())
    assert out.getvalue().startswith(f"评价周期 {CYCLE}：新增 0 个指标，保留已有 105 个")
    with pytest.raises(CommandError, match="评价周期编码“20x5”无效"):
        call_command("load_catalogue", "--cycle", "20x5", stdout=io.StringIO())
