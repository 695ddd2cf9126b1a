"""suggest(), record_choice() and retraining."""

from __future__ import annotations

from typing import Any

import pytest

from sizhen.core.models import AuditEvent
from sizhen.dispatch import services
from sizhen.dispatch.models import DispatchCatalogueEntry, DispatchExample, DispatchModel
from sizhen.organisations import services as org
from sizhen.organisations.choices import DepartmentType
from sizhen.organisations.models import Department

pytestmark = pytest.mark.django_db


def test_suggest_from_the_catalogue_alone_ranks_calibrated_confidences(
    catalogue_city: dict[str, Any],
) -> None:
    result = services.suggest("我们公司想办理营业执照变更，法定代表人换了，窗口说材料不全")

    assert result.model_version == services.CATALOGUE_VERSION
    assert len(result.departments) == 3
    assert len(result.categories) == 3
    first = result.departments[0]
    assert first.department == catalogue_city["market"]
    assert first.label == "市场监督管理局"
    assert result.categories[0].label == "0102"
    confidences = [g.confidence for g in result.departments]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert sum(confidences) <= 1.0 + 1e-6
    assert confidences[0] > 0.5


def test_suggest_before_any_catalogue_uses_department_duties(city: dict[str, Any]) -> None:
    org.update_department(city["tax"], actor=None, responsibilities="负责税费征收和发票管理。")

    result = services.suggest("增值税专用发票领不到")

    assert result.departments[0].department == city["tax"]


def test_record_choice_stores_the_example_and_whether_it_changed_the_suggestion(
    catalogue_city: dict[str, Any], personas: dict[str, Any]
) -> None:
    text = "员工社保转移接续一直办不下来"
    suggestion = services.suggest(text)
    suggested = suggestion.departments[0].department
    assert suggested is not None

    services.record_choice(
        text=text,
        department=suggested,
        category_code="0303",
        suggestion=suggestion,
        actor=personas["coordinator"],
    )
    services.record_choice(
        text=text,
        department=catalogue_city["tax"],
        category_code="0403",
        suggestion=suggestion,
        actor=personas["coordinator"],
    )
    services.record_choice(
        text="外地的一个部门",
        department=None,
        dept_label="邻市商务局",
        category_code="",
        suggestion=None,
        actor=personas["coordinator"],
    )

    rows = list(DispatchExample.objects.order_by("id"))
    assert [(r.source, r.department, r.dept_label) for r in rows] == [
        ("confirmed", suggested, suggested.name),
        ("changed", catalogue_city["tax"], "税务局"),
        ("changed", None, "邻市商务局"),
    ]
    assert rows[0].suggested_label == suggested.code
    assert rows[0].actor == personas["coordinator"]
    assert AuditEvent.objects.filter(action="dispatch.choice_recorded").count() == 3


def test_record_choice_ignores_empty_text(catalogue_city: dict[str, Any]) -> None:
    services.record_choice(
        text="  ",
        department=catalogue_city["tax"],
        category_code="",
        suggestion=None,
        actor=None,
    )

    assert DispatchExample.objects.count() == 0


_DRONE_TEXTS = [
    "无人机航线申请一直批不下来",
    "我们想在园区开展无人机配送，空域怎么申请",
    "低空飞行器起降点建设找谁",
    "无人机试飞场地审批流程",
    "eVTOL 低空航线试点政策咨询",
    "无人机物流航线需要哪些手续",
    "低空经济产业园入驻补贴",
    "无人机表演报备在哪里办",
    "通航机场低空空域协调",
    "企业无人机巡检飞行计划报备",
    "低空物流无人机起降场规划",
    "无人机培训机构设立咨询",
]


def test_retraining_learns_a_department_known_only_from_examples(
    catalogue_city: dict[str, Any], personas: dict[str, Any]
) -> None:
    drone = org.create_department(
        actor=None,
        code="SZ-DKJ",
        name="低空经济发展办公室",
        type=DepartmentType.CITY_DEPARTMENT,
        region=catalogue_city["root"],
    )
    query = "无人机航线起降点报备怎么办"
    before = services.suggest(query)
    assert drone not in [g.department for g in before.departments]

    for text in _DRONE_TEXTS:
        services.record_choice(
            text=text,
            department=drone,
            category_code="0402",
            suggestion=None,
            actor=personas["coordinator"],
        )
    result = services.train_model(actor=personas["coordinator"])

    assert result.activated is True
    assert result.model.n_examples == len(_DRONE_TEXTS)
    assert DispatchModel.objects.get(is_active=True) == result.model
    after = services.suggest(query)
    assert after.model_version == result.model.version
    assert after.departments[0].department == drone
    assert AuditEvent.objects.filter(action="dispatch.model_trained").count() == 1


def test_a_worse_model_is_stored_but_not_activated(catalogue_city: dict[str, Any]) -> None:
    best = DispatchModel.objects.create(
        version="best", metrics={"department": {"cv_top1": 0.99}}, blob=b"", is_active=True
    )

    activated, reason = services._should_activate(best, {"cv_top1": 0.90}, 100, False)
    kept, _ = services._should_activate(best, {"cv_top1": 0.985}, 100, False)
    forced, _ = services._should_activate(best, {"cv_top1": 0.5}, 100, True)

    assert activated is False
    assert "低于现有模型" in reason
    assert kept is True
    assert forced is True


def test_catalogue_entry_is_versioned_and_audited(
    catalogue_city: dict[str, Any], personas: dict[str, Any]
) -> None:
    entry = DispatchCatalogueEntry.objects.get(department=catalogue_city["tax"])
    old_keywords = entry.keywords

    saved = services.save_catalogue_entry(
        department=catalogue_city["tax"],
        responsibilities="负责税费征收。",
        typical_matters="发票\n退税",
        keywords="发票；退税；发票",
        is_active=True,
        actor=personas["coordinator"],
    )

    assert saved.version == entry.version + 1
    assert saved.keywords == "发票\n退税"
    event = AuditEvent.objects.filter(action="dispatch.catalogue_saved").get()
    assert event.before["keywords"] == old_keywords
    assert event.after["keywords"] == "发票\n退税"


def test_default_catalogue_reports_departments_the_platform_lacks(city: dict[str, Any]) -> None:
    result = services.load_default_catalogue(actor=None)

    assert result.created == 2  # 市场监督管理局 and 税务局 exist in the persona city
    assert "供电公司" in result.unmatched
    assert set(DispatchCatalogueEntry.objects.values_list("department__code", flat=True)) == {
        "SZ-SCJG",
        "SZ-SW",
    }
    assert Department.objects.filter(name="供电公司").count() == 0
    again = services.load_default_catalogue(actor=None)
    assert (again.created, again.unchanged) == (0, 2)


def test_training_job_trains_and_a_second_model_activates_when_not_worse(
    catalogue_city: dict[str, Any], personas: dict[str, Any]
) -> None:
    from sizhen.core.jobs import SCHEDULES, run_pending
    from sizhen.core.models import Job
    from sizhen.dispatch import synthetic

    for request in synthetic.generate("train", per_department=2):
        department = Department.objects.get(name=request.dept, region=catalogue_city["root"])
        services.record_choice(
            text=request.text,
            department=department,
            category_code=request.category,
            suggestion=None,
            actor=None,
        )
    services.request_training(actor=personas["coordinator"])

    ran = run_pending()

    assert ran == 1
    assert Job.objects.get(name="dispatch.train").status == "succeeded"
    first = DispatchModel.objects.get()
    assert first.is_active is True
    assert first.n_examples == 2 * len(synthetic.DEPARTMENTS)
    assert 0.0 <= first.metrics["department"]["cv_top1"] <= 1.0
    assert SCHEDULES["dispatch.train"].every.days == 1

    second = services.train_model(actor=None)

    assert second.activated is True
    assert list(DispatchModel.objects.filter(is_active=True)) == [second.model]


def test_suggest_on_an_empty_platform_offers_categories_only(db: Any) -> None:
    result = services.suggest("增值税发票领不到")

    assert result.departments == []
    assert result.categories[0].label == "0403"
    assert result.model_version == services.CATALOGUE_VERSION


def _choose(text: str, department: Department, category: str, suggestion: Any, actor: Any) -> None:
    services.record_choice(
        text=text, department=department, category_code=category, suggestion=suggestion, actor=actor
    )


def test_a_redispatch_supersedes_the_earlier_decision_and_corrections_weigh_more(
    catalogue_city: dict[str, Any], personas: dict[str, Any]
) -> None:
    text = "我们厂门口的下水道堵了，一下雨就倒灌"
    coordinator, tax = personas["coordinator"], catalogue_city["tax"]
    first = services.suggest(text)
    _choose(text, catalogue_city["market"], "0302", None, coordinator)
    _choose("增值税专用发票领不到", tax, "0403", None, coordinator)
    # Returned by the unit (退单) and dispatched again, with the suggestion in hand.
    _choose(f" {text}", tax, "0403", first, coordinator)

    examples = services.training_set()

    assert examples.texts == ["增值税专用发票领不到", text]
    assert examples.departments == [tax.code, tax.code]
    assert examples.categories == ["0403", "0403"]
    # Recorded without a suggestion: "changed" as well, so both count double.
    assert examples.weights == [services.CORRECTION_WEIGHT, services.CORRECTION_WEIGHT]
    assert services.training_examples() == (
        examples.texts,
        examples.departments,
        examples.categories,
    )
    result = services.train_model(actor=None)
    assert result.model.n_examples == 2
    assert result.model.metrics["n_corrections"] == 2


def test_confirmed_examples_weigh_one(
    catalogue_city: dict[str, Any], personas: dict[str, Any]
) -> None:
    text = "增值税专用发票领不到，税务局窗口说要核查"
    suggestion = services.suggest(text)
    assert suggestion.departments[0].department == catalogue_city["tax"]

    _choose(text, catalogue_city["tax"], "0403", suggestion, personas["coordinator"])

    assert services.training_set().weights == [1.0]
