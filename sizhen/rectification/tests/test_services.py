"""The lifecycle through the services: accept, evidence, submit, verify, close, reopen."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from sizhen.core.models import AuditEvent
from sizhen.core.workflow import TransitionConflict, WorkflowError, history_of
from sizhen.rectification import services
from sizhen.rectification.choices import Judgement, Source
from sizhen.rectification.models import Evidence, RectificationItem, Review
from sizhen.rectification.selectors import ledger_summary, similarity
from sizhen.rectification.tests.conftest import BY_EVIDENCE, pdf, to_submitted

pytestmark = pytest.mark.django_db


def test_full_path_to_close_with_effect_snapshot(
    item: Any, personas: dict[str, Any], values: None
) -> None:
    coordinator = personas["coordinator"]
    to_submitted(item, personas)
    assert item.status == "submitted"
    review = services.verify_effect(item, actor=coordinator, judgement=Judgement.EFFECTIVE)
    assert len(review.snapshot) == 1
    row = review.snapshot[0]
    assert (row["code"], row["before"], row["after"], row["trend"]) == ("T01", 5.0, 3.0, "better")
    services.transition_item(item, "close", actor=coordinator, note="效果明显")
    item.refresh_from_db()
    assert item.status == "closed"
    assert item.closed_at is not None
    actions = [h.action for h in history_of(item)]
    assert actions == ["accept", "submit", "close"]
    assert ledger_summary(coordinator) == {
        "total": 1,
        "closed": 1,
        "rate": 100.0,
        "repeated": 0,
        "overdue": 0,
    }


def test_submit_without_evidence_is_refused(item: Any, personas: dict[str, Any]) -> None:
    lead = personas["lead_department"]
    services.transition_item(item, "accept", actor=lead)
    with pytest.raises(WorkflowError, match="申请销号前请先上传整改佐证材料"):
        services.transition_item(item, "submit", actor=lead)
    item.refresh_from_db()
    assert item.status == "in_progress"


def test_close_without_review_is_refused(item: Any, personas: dict[str, Any]) -> None:
    to_submitted(item, personas)
    with pytest.raises(WorkflowError, match="尚未进行整改效果核验"):
        services.transition_item(item, "close", actor=personas["coordinator"])
    item.refresh_from_db()
    assert item.status == "submitted"
    assert item.closed_at is None


def test_close_with_ineffective_judgement_is_refused(item: Any, personas: dict[str, Any]) -> None:
    coordinator = personas["coordinator"]
    to_submitted(item, personas)
    services.verify_effect(item, actor=coordinator, judgement="ineffective", comment="未见改善")
    with pytest.raises(WorkflowError, match="效果核验结论为“无效”"):
        services.transition_item(item, "close", actor=coordinator)
    services.transition_item(item, "return", actor=coordinator, note="继续整改")
    item.refresh_from_db()
    assert item.status == "in_progress"


def test_close_without_evidence_is_refused_even_with_review(
    item: Any, personas: dict[str, Any]
) -> None:
    coordinator = personas["coordinator"]
    to_submitted(item, personas)
    services.verify_effect(
        item, actor=coordinator, judgement=Judgement.EFFECTIVE, comment=BY_EVIDENCE
    )
    Evidence.objects.filter(item=item).delete()
    with pytest.raises(WorkflowError, match="没有整改佐证材料，不能销号"):
        services.transition_item(item, "close", actor=coordinator)
    item.refresh_from_db()
    assert item.status == "submitted"


def test_lead_department_cannot_close(item: Any, personas: dict[str, Any]) -> None:
    to_submitted(item, personas)
    with pytest.raises(WorkflowError, match="您的角色无权执行“审核销号”"):
        services.transition_item(item, "close", actor=personas["lead_department"])
    item.refresh_from_db()
    assert item.status == "submitted"


def test_reopen_keeps_history_and_starts_a_new_round(item: Any, personas: dict[str, Any]) -> None:
    coordinator = personas["coordinator"]
    to_submitted(item, personas)
    services.verify_effect(
        item, actor=coordinator, judgement=Judgement.EFFECTIVE, comment=BY_EVIDENCE
    )
    services.transition_item(item, "close", actor=coordinator)
    with pytest.raises(WorkflowError, match="需要填写理由"):
        services.reopen_item(item, actor=coordinator, reason="")
    services.reopen_item(item, actor=coordinator, reason="2026 年第二季度问题反弹")
    item.refresh_from_db()
    assert (item.status, item.round, item.closed_at) == ("reopened", 2, None)
    assert [h.action for h in history_of(item)] == ["accept", "submit", "close", "reopen"]
    assert Evidence.objects.filter(item=item, round=1).count() == 1
    assert Review.objects.filter(item=item, round=1).count() == 1
    # The first round's evidence and review do not close the second round.
    lead = personas["lead_department"]
    services.transition_item(item, "accept", actor=lead)
    with pytest.raises(WorkflowError, match="申请销号前请先上传整改佐证材料"):
        services.transition_item(item, "submit", actor=lead)


def test_reopen_by_recurrence_needs_no_role(item: Any, personas: dict[str, Any]) -> None:
    coordinator = personas["coordinator"]
    to_submitted(item, personas)
    services.verify_effect(
        item, actor=coordinator, judgement=Judgement.EFFECTIVE, comment=BY_EVIDENCE
    )
    services.transition_item(item, "close", actor=coordinator)
    with pytest.raises(WorkflowError, match="只有营商办可以重新打开"):
        services.reopen_item(item, actor=personas["lead_department"], reason="反弹")
    services.reopen_item(item, actor=None, reason="关联预警再次出现", recurrence=True)
    item.refresh_from_db()
    assert item.status == "reopened"


def test_stale_page_decision_is_refused(item: Any, personas: dict[str, Any]) -> None:
    stale = RectificationItem.objects.get(pk=item.pk)
    services.transition_item(item, "accept", actor=personas["lead_department"])
    with pytest.raises(TransitionConflict):
        services.transition_item(stale, "accept", actor=personas["coordinator"])
    assert [h.action for h in history_of(item)] == ["accept"]


def test_other_district_officer_cannot_accept(item: Any, personas: dict[str, Any]) -> None:
    with pytest.raises(WorkflowError, match="只有牵头单位或营商办"):
        services.transition_item(item, "accept", actor=personas["district_b"])
    item.refresh_from_db()
    assert item.status == "open"
    services.transition_item(item, "accept", actor=personas["district_a"])
    item.refresh_from_db()
    assert item.status == "in_progress"


def test_progress_only_in_progress_and_by_lead_unit(item: Any, personas: dict[str, Any]) -> None:
    lead = personas["lead_department"]
    with pytest.raises(WorkflowError, match="只有整改中的事项可以报送进展"):
        services.report_progress(item, actor=lead, note="已部署")
    services.transition_item(item, "accept", actor=lead)
    with pytest.raises(WorkflowError, match="只有牵头单位或营商办可以报送整改进展"):
        services.report_progress(item, actor=personas["responsible_department"], note="x")
    report = services.report_progress(item, actor=lead, note="已完成系统改造", percent=60)
    item.refresh_from_db()
    assert (report.percent, item.progress_note) == (60, "已完成系统改造")
    assert item.progress.count() == 1


def test_evidence_extension_and_size(item: Any, personas: dict[str, Any]) -> None:
    lead = personas["lead_department"]
    services.transition_item(item, "accept", actor=lead)
    with pytest.raises(ValidationError) as excinfo:
        services.add_evidence(item, actor=lead, upload=pdf("run.exe"))
    assert excinfo.value.message_dict["file"][0].startswith("文件“run.exe”的类型不允许上传（允许：")
    assert Evidence.objects.count() == 0


def test_create_validates_in_chinese(personas: dict[str, Any], city: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.create_item(
            actor=personas["coordinator"],
            title="",
            source="nope",
            region=None,
            lead_department=city["market"],
            measures="",
        )
    assert excinfo.value.message_dict == {
        "title": ["请填写问题"],
        "source": ["问题来源应为 评估反馈问题、监测预警、企业诉求分析、督查检查、问卷调查 之一"],
        "region": ["请选择所属区划"],
        "measures": ["请填写整改措施"],
        "deadline": ["请填写整改时限（日期或工作日数）"],
    }
    assert RectificationItem.objects.count() == 0


def test_only_coordinator_creates(personas: dict[str, Any], city: dict[str, Any]) -> None:
    with pytest.raises(WorkflowError, match="只有营商办可以登记整改事项"):
        services.create_item(
            actor=personas["district_a"],
            title="问题",
            source=Source.SURVEY,
            region=city["district_a"],
            lead_department=city["market"],
            measures="措施",
            deadline=dt.date(2026, 12, 31),
        )
    assert RectificationItem.objects.count() == 0


def test_working_day_deadline(personas: dict[str, Any], city: dict[str, Any]) -> None:
    item = services.create_item(
        actor=personas["coordinator"],
        title="问题",
        source=Source.SURVEY,
        region=city["district_a"],
        lead_department=city["market"],
        measures="措施",
        working_days=10,
    )
    assert item.deadline > timezone.localdate() + dt.timedelta(days=10)


def test_repeated_by_indicator_and_region(
    item: Any, personas: dict[str, Any], city: dict[str, Any], indicator: Any
) -> None:
    RectificationItem.objects.filter(pk=item.pk).update(year=timezone.localdate().year - 1)
    again = services.create_item(
        actor=personas["coordinator"],
        title="完全不同的表述",
        source=Source.ALERT,
        region=city["district_a"],
        lead_department=city["market"],
        measures="措施",
        deadline=dt.date(2030, 1, 1),
        indicators=[indicator],
    )
    assert again.repeated is True
    assert list(again.repeated_of.all()) == [item]
    other_region = services.create_item(
        actor=personas["coordinator"],
        title="完全不同的表述二",
        source=Source.ALERT,
        region=city["district_b"],
        lead_department=city["market"],
        measures="措施",
        deadline=dt.date(2030, 1, 1),
        indicators=[indicator],
    )
    assert other_region.repeated is False


def test_repeated_by_similar_text(
    item: Any, personas: dict[str, Any], city: dict[str, Any]
) -> None:
    RectificationItem.objects.filter(pk=item.pk).update(year=timezone.localdate().year - 2)
    elsewhere = services.create_item(
        actor=personas["coordinator"],
        title="东湖区企业开办环节多、耗时长",
        source=Source.EVALUATION,
        region=city["district_b"],
        lead_department=city["market"],
        measures="措施",
        deadline=dt.date(2030, 1, 1),
    )
    assert elsewhere.repeated is False
    again = services.create_item(
        actor=personas["coordinator"],
        title="东湖区企业开办环节多、耗时长",
        source=Source.EVALUATION,
        region=city["district_a"],
        lead_department=city["market"],
        measures="措施",
        deadline=dt.date(2030, 1, 1),
    )
    assert again.repeated is True
    assert "问题表述相似" in again.repeat_reason
    # The same year is not a repetition, only earlier years are.
    same_year = services.create_item(
        actor=personas["coordinator"],
        title="东湖区企业开办环节多、耗时长",
        source=Source.EVALUATION,
        region=city["district_a"],
        lead_department=city["market"],
        measures="措施",
        deadline=dt.date(2030, 1, 1),
    )
    assert list(same_year.repeated_of.all()) == [item]


def test_similarity_threshold_examples() -> None:
    assert similarity("企业开办时间长", "企业开办耗时长") == 0.5
    assert round(similarity("企业开办时间长", "企业开办流程复杂"), 2) == 0.46
    assert round(similarity("企业开办时间长", "企业注销程序繁琐"), 2) == 0.15


def test_publish_and_unpublish_are_audited(item: Any, personas: dict[str, Any]) -> None:
    with pytest.raises(WorkflowError):
        services.publish_item(item, actor=personas["district_a"], summary="x")
    item.refresh_from_db()
    assert item.published is False
    services.publish_item(item, actor=personas["coordinator"], summary="企业开办时间长")
    assert (item.published, item.public_summary) == (True, "企业开办时间长")
    services.unpublish_item(item, actor=personas["coordinator"])
    assert item.published is False
    assert list(
        AuditEvent.objects.filter(action__startswith="rectification.pub")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["rectification.publish"]
    assert AuditEvent.objects.filter(action="rectification.unpublish").count() == 1


def test_from_alert_is_all_or_nothing(
    personas: dict[str, Any], city: dict[str, Any], indicator: Any
) -> None:
    from sizhen.monitoring.models import Alert
    from sizhen.monitoring.services import transition_alert

    alert = Alert.objects.create(
        indicator=indicator,
        region=city["district_a"],
        kind="goalpost_breach",
        severity="red",
        value=6.0,
        method="goalpost",
        score=1.5,
        explanation="未达目标",
    )
    coordinator = personas["coordinator"]
    transition_alert(alert, "dismiss", actor=coordinator, note="误报")
    fields = {
        "title": "东湖区企业开办未达目标",
        "lead_department": city["market"],
        "measures": "压缩环节",
        "deadline": dt.date(2030, 1, 1),
    }
    with pytest.raises(WorkflowError, match="终结状态"):
        services.create_item_from_alert(alert, actor=coordinator, **fields)
    assert RectificationItem.objects.count() == 0
    fresh = Alert.objects.create(
        indicator=indicator,
        region=city["district_b"],
        kind="goalpost_breach",
        severity="red",
        value=6.0,
        method="goalpost",
        score=1.5,
        explanation="未达目标",
    )
    item = services.create_item_from_alert(fresh, actor=coordinator, **fields)
    fresh.refresh_from_db()
    assert (item.source, item.region, list(item.indicators.all())) == (
        "alert",
        city["district_b"],
        [indicator],
    )
    assert (fresh.status, fresh.converted_id, fresh.assigned_department) == (
        "converted",
        item.pk,
        city["market"],
    )
