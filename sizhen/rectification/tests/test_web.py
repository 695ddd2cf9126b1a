"""Pages: scope (404 for another district, audited, nothing changed), the list filters, the
item page's steps with their refusals, evidence download, from-alert, stats and the public list."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from sizhen.core.models import AuditEvent, TransitionHistory
from sizhen.core.tests.files import csv_file
from sizhen.indicators.catalogue.models import Indicator
from sizhen.monitoring.models import Alert
from sizhen.rectification import services
from sizhen.rectification.choices import Judgement, Source
from sizhen.rectification.models import Evidence, ProgressReport, RectificationItem
from sizhen.rectification.tests.conftest import BY_EVIDENCE, pdf

pytestmark = pytest.mark.django_db


def _detail(item: Any) -> str:
    return reverse("rectification:item_detail", args=[item.pk])


def test_other_district_gets_404_on_page_and_actions(item: Any, client_for: Any) -> None:
    client = client_for("district_b")
    assert client.get(_detail(item)).status_code == 404
    response = client.post(
        reverse("rectification:item_step", args=[item.pk, "accept"]), {"status": "open"}
    )
    assert response.status_code == 404
    response = client.post(
        reverse("rectification:item_progress", args=[item.pk]), {"note": "伪造进展"}
    )
    assert response.status_code == 404
    item.refresh_from_db()
    assert item.status == "open"
    assert TransitionHistory.objects.count() == 0
    assert ProgressReport.objects.count() == 0
    assert AuditEvent.objects.filter(action="access.denied", object_id=str(item.pk)).count() == 3
    listing = client.get(reverse("rectification:item_list"))
    assert listing.status_code == 200
    assert item.title not in listing.content.decode()


def test_own_district_sees_and_accepts(item: Any, client_for: Any) -> None:
    client = client_for("district_a")
    page = client.get(_detail(item))
    assert page.status_code == 200
    assert 'data-testid="do-accept"' in page.content.decode()
    response = client.post(
        reverse("rectification:item_step", args=[item.pk, "accept"]), {"status": "open"}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "in_progress"


def test_enterprise_and_anonymous_refused(item: Any, client_for: Any) -> None:
    assert client_for("enterprise").get(reverse("rectification:item_list")).status_code == 404
    assert client_for("enterprise").get(_detail(item)).status_code == 404
    anonymous = client_for(None).get(_detail(item))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("accounts:login"))


def test_department_scope(item: Any, client_for: Any) -> None:
    # The responsible department sees the item but may not act as the lead unit.
    client = client_for("responsible_department")
    assert client.get(_detail(item)).status_code == 200
    response = client.post(
        reverse("rectification:item_step", args=[item.pk, "accept"]), {"status": "open"}
    )
    assert response.status_code == 404
    item.refresh_from_db()
    assert item.status == "open"


def test_close_without_evidence_or_review_shows_message(
    item: Any, client_for: Any, personas: dict[str, Any]
) -> None:
    lead = personas["lead_department"]
    services.transition_item(item, "accept", actor=lead)
    client = client_for("lead_department")
    response = client.post(
        reverse("rectification:item_step", args=[item.pk, "submit"]),
        {"status": "in_progress"},
        follow=True,
    )
    assert "申请销号前请先上传整改佐证材料" in response.content.decode()
    item.refresh_from_db()
    assert item.status == "in_progress"
    upload = client.post(
        reverse("rectification:item_evidence", args=[item.pk]), {"file": pdf(), "description": "x"}
    )
    assert upload.status_code == 302
    services.transition_item(item, "submit", actor=lead)
    coordinator = client_for("coordinator")
    response = coordinator.post(
        reverse("rectification:item_step", args=[item.pk, "close"]),
        {"status": "submitted"},
        follow=True,
    )
    assert "尚未进行整改效果核验（关联指标整改前后对比），不能销号" in response.content.decode()
    item.refresh_from_db()
    assert item.status == "submitted"


def test_full_path_on_pages(item: Any, client_for: Any, values: None) -> None:
    lead = client_for("lead_department")
    coordinator = client_for("coordinator")
    lead.post(reverse("rectification:item_step", args=[item.pk, "accept"]), {"status": "open"})
    lead.post(
        reverse("rectification:item_progress", args=[item.pk]), {"note": "已部署", "percent": 50}
    )
    lead.post(reverse("rectification:item_evidence", args=[item.pk]), {"file": pdf()})
    lead.post(
        reverse("rectification:item_step", args=[item.pk, "submit"]),
        {"status": "in_progress", "note": "申请销号"},
    )
    page = coordinator.get(_detail(item)).content.decode()
    assert 'data-testid="effect"' in page
    assert "向好" in page
    assert "暂不能销号：尚未进行整改效果核验（关联指标整改前后对比），不能销号" in page
    assert 'data-testid="do-close"' not in page
    coordinator.post(
        reverse("rectification:item_review", args=[item.pk]),
        {"judgement": "effective", "comment": "开办时间由 5 天降至 3 天"},
    )
    assert 'data-testid="do-close"' in coordinator.get(_detail(item)).content.decode()
    coordinator.post(
        reverse("rectification:item_step", args=[item.pk, "close"]), {"status": "submitted"}
    )
    item.refresh_from_db()
    assert item.status == "closed"
    assert item.reviews.get().snapshot[0]["after"] == 3.0
    timeline = coordinator.get(_detail(item)).content.decode()
    for text in (
        "接收整改",
        "报送进展（进度 50%）",
        "上传佐证材料：佐证.pdf",
        "效果核验：有效",
        "审核销号",
    ):
        assert text in timeline
    # After close-off the frozen verification stays on the page for everyone who may see it.
    for viewer in ("coordinator", "leader", "district_a"):
        page = client_for(viewer).get(_detail(item)).content.decode()
        assert page.count('data-testid="review"') == 1
        assert "第 1 轮：有效" in page
        assert "开办时间由 5 天降至 3 天" in page
        assert "<td>5.00天（" in page and "<td>3.00天（" in page and "<td>-2.00</td>" in page


def test_evidence_download_is_scoped(item: Any, client_for: Any, personas: dict[str, Any]) -> None:
    lead = personas["lead_department"]
    services.transition_item(item, "accept", actor=lead)
    evidence = services.add_evidence(item, actor=lead, upload=pdf(content=b"%PDF-1.4 secret"))
    url = reverse("rectification:evidence_download", args=[evidence.pk])
    assert client_for("district_b").get(url).status_code == 404
    response = client_for("district_a").get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 secret"


def test_evidence_bad_extension_on_page(
    item: Any, client_for: Any, personas: dict[str, Any]
) -> None:
    services.transition_item(item, "accept", actor=personas["lead_department"])
    response = client_for("lead_department").post(
        reverse("rectification:item_evidence", args=[item.pk]),
        {"file": pdf("脚本.sh", b"rm -rf /"), "description": "整改通知"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        '<div data-testid="evidence-file-errors"><ul class="errorlist" id="id_file_error">'
        "<li>文件“脚本.sh”的类型不允许上传（允许："
    ) in page
    assert 'name="description" maxlength="200" value="整改通知"' in page
    assert Evidence.objects.count() == 0


def test_evidence_renamed_file_is_refused_and_csv_accepted(
    item: Any, client_for: Any, personas: dict[str, Any]
) -> None:
    services.transition_item(item, "accept", actor=personas["lead_department"])
    lead = client_for("lead_department")
    url = reverse("rectification:item_evidence", args=[item.pk])
    refused = lead.post(url, {"file": pdf("截图.png", b"%PDF-1.4 not a png")})
    assert refused.status_code == 200
    assert "文件“截图.png”的内容不是 图片 文件，类型不允许上传" in refused.content.decode()
    assert Evidence.objects.count() == 0
    accepted = lead.post(url, {"file": csv_file("台账.csv"), "description": "台账"})
    assert accepted.status_code == 302
    assert list(Evidence.objects.values_list("name", "description")) == [("台账.csv", "台账")]


def test_list_filters(
    item: Any, personas: dict[str, Any], city: dict[str, Any], client_for: Any
) -> None:
    overdue = services.create_item(
        actor=personas["coordinator"],
        title="西山区物流车辆通行证办理慢",
        source=Source.REQUEST,
        region=city["district_b"],
        lead_department=city["b_dept"],
        measures="网上办理",
        deadline=timezone.localdate() + dt.timedelta(days=1),
    )
    RectificationItem.objects.filter(pk=overdue.pk).update(
        deadline=timezone.localdate() - dt.timedelta(days=3)
    )
    client = client_for("coordinator")
    url = reverse("rectification:item_list")

    def titles(query: dict[str, Any]) -> list[str]:
        html = client.get(url, query).content.decode()
        return [t for t in (item.title, overdue.title) if t in html]

    assert titles({}) == [item.title, overdue.title]
    assert titles({"overdue": "yes"}) == [overdue.title]
    assert titles({"source": "evaluation"}) == [item.title]
    assert titles({"region": city["district_b"].pk}) == [overdue.title]
    assert titles({"lead_department": city["market"].pk}) == [item.title]
    assert titles({"status": "closed"}) == []

    def exported(query: dict[str, Any], who: Any = client) -> list[tuple[Any, ...]]:
        response = who.get(url, {**query, "export": "xlsx"})
        assert response.status_code == 200
        sheet = load_workbook(io.BytesIO(response.content)).active
        return list(sheet.iter_rows(values_only=True))

    header, *rows = exported({})
    assert header == (
        "编号",
        "问题",
        "来源",
        "区划",
        "牵头部门",
        "整改时限",
        "状态",
        "年度",
        "标记",
    )
    assert sorted((r[1], r[3], r[8]) for r in rows) == [
        (item.title, "东湖区", None),
        (overdue.title, "西山区", "逾期"),
    ]
    # The export follows the filters and the scope of the page.
    assert [r[1] for r in exported({"overdue": "yes"})[1:]] == [overdue.title]
    assert [r[1] for r in exported({"source": "evaluation"})[1:]] == [item.title]
    assert [r[1] for r in exported({}, client_for("district_a"))[1:]] == [item.title]
    assert AuditEvent.objects.filter(action="export.xlsx").count() == 4


def test_stats_export_xlsx(
    item: Any, personas: dict[str, Any], city: dict[str, Any], client_for: Any
) -> None:
    services.create_item(
        actor=personas["coordinator"],
        title="西山区物流车辆通行证办理慢",
        source=Source.REQUEST,
        region=city["district_b"],
        lead_department=city["b_dept"],
        measures="网上办理",
        deadline=timezone.localdate() + dt.timedelta(days=10),
    )
    lead, coordinator = personas["lead_department"], personas["coordinator"]
    services.transition_item(item, "accept", actor=lead)
    services.add_evidence(item, actor=lead, upload=pdf())
    services.transition_item(item, "submit", actor=lead)
    services.verify_effect(
        item, actor=coordinator, judgement=Judgement.EFFECTIVE, comment=BY_EVIDENCE
    )
    services.transition_item(item, "close", actor=coordinator)
    response = client_for("leader").get(reverse("rectification:stats"), {"export": "xlsx"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["按牵头部门", "按问题来源"]
    by_source = list(book["按问题来源"].iter_rows(values_only=True))
    assert by_source == [
        ("名称", "事项数", "已销号", "完成率（%）", "反复出现", "逾期"),
        ("评估反馈问题", 1, 1, 100, 0, 0),
        ("企业诉求分析", 1, 0, 0, 0, 0),
        ("合计", 2, 1, 50, 0, 0),
    ]
    # Filters carry over, and a district officer's figures are its own.
    filtered = client_for("leader").get(
        reverse("rectification:stats"), {"export": "xlsx", "source": "request"}
    )
    rows = list(
        load_workbook(io.BytesIO(filtered.content))["按牵头部门"].iter_rows(values_only=True)
    )
    assert [r[:2] for r in rows[1:]] == [("西山区市场监督管理局", 1), ("合计", 1)]
    own = client_for("district_a").get(reverse("rectification:stats"), {"export": "xlsx"})
    rows = list(load_workbook(io.BytesIO(own.content))["按牵头部门"].iter_rows(values_only=True))
    assert [r[:2] for r in rows[1:]] == [("市场监督管理局", 1), ("合计", 1)]
    assert client_for("enterprise").get(reverse("rectification:stats")).status_code == 404


def test_create_page_validates(client_for: Any, city: dict[str, Any]) -> None:
    client = client_for("coordinator")
    response = client.post(
        reverse("rectification:item_create"),
        {"title": "", "source": "evaluation", "region": city["district_a"].pk, "year": 2026},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "请填写问题" in html
    assert "请选择牵头部门" in html
    assert "请填写整改时限（日期或工作日数）" in html
    assert RectificationItem.objects.count() == 0
    assert client_for("district_a").get(reverse("rectification:item_create")).status_code == 404
    ok = client.post(
        reverse("rectification:item_create"),
        {
            "title": "东湖区水电气报装慢",
            "source": "inspection",
            "region": city["district_a"].pk,
            "lead_department": city["a_dept"].pk,
            "measures": "联合报装",
            "working_days": 20,
            "year": 2026,
        },
    )
    assert ok.status_code == 302
    assert RectificationItem.objects.get().title == "东湖区水电气报装慢"


def test_from_alert_converts_the_alert(
    client_for: Any, city: dict[str, Any], indicator: Indicator
) -> None:
    alert = Alert.objects.create(
        indicator=indicator,
        region=city["district_a"],
        kind="goalpost_breach",
        severity="red",
        value=6.0,
        method="goalpost",
        score=1.5,
        explanation="企业开办时间 6 天，未达目标",
    )
    client = client_for("coordinator")
    alert_page = client.get(reverse("monitoring:alert_detail", args=[alert.pk])).content.decode()
    assert 'data-testid="to-rectification"' in alert_page
    url = reverse("rectification:item_from_alert", args=[alert.pk])
    form = client.get(url)
    assert form.status_code == 200
    response = client.post(
        url,
        {
            "title": "东湖区企业开办时间未达目标",
            "source": "alert",
            "region": city["district_a"].pk,
            "lead_department": city["market"].pk,
            "measures": "压缩环节",
            "deadline": (timezone.localdate() + dt.timedelta(days=60)).isoformat(),
            "indicators": [indicator.pk],
            "year": timezone.localdate().year,
        },
    )
    assert response.status_code == 302
    item = RectificationItem.objects.get()
    alert.refresh_from_db()
    assert (alert.status, alert.converted_kind, alert.converted_id) == (
        "converted",
        "rectification",
        item.pk,
    )
    assert alert.assigned_department == city["market"]
    assert item.source_alert_id == alert.pk
    again = client.get(url)
    assert again.status_code == 302
    assert RectificationItem.objects.count() == 1


def test_stats_page(item: Any, client_for: Any) -> None:
    html = client_for("leader").get(reverse("rectification:stats")).content.decode()
    assert "共 1 项，已销号 0 项，完成率 0.0%" in html
    assert "市场监督管理局" in html
    assert "评估反馈问题" in html


def test_public_list_shows_only_published(
    item: Any, personas: dict[str, Any], city: dict[str, Any], client_for: Any
) -> None:
    hidden = services.create_item(
        actor=personas["coordinator"],
        title="内部问题不公开",
        source=Source.SURVEY,
        region=city["district_b"],
        lead_department=city["b_dept"],
        measures="措施",
        deadline=dt.date(2030, 1, 1),
    )
    coordinator = client_for("coordinator")
    response = coordinator.post(
        reverse("rectification:item_publish", args=[item.pk]), {"summary": "企业开办时间偏长"}
    )
    assert response.status_code == 302
    denied = client_for("district_a").post(
        reverse("rectification:item_publish", args=[hidden.pk]), {"summary": "x"}
    )
    assert denied.status_code == 404
    html = client_for(None).get(reverse("rectification:public_list")).content.decode()
    assert "企业开办时间偏长" in html
    assert hidden.title not in html
    assert item.description not in html
    assert "coordinator" not in html
    coordinator.post(reverse("rectification:item_unpublish", args=[item.pk]))
    html = client_for(None).get(reverse("rectification:public_list")).content.decode()
    assert "企业开办时间偏长" not in html
    assert "暂无公开曝光的问题" in html


def test_repeated_shown_in_list_and_page(
    item: Any, personas: dict[str, Any], client_for: Any, city: dict[str, Any]
) -> None:
    RectificationItem.objects.filter(pk=item.pk).update(year=timezone.localdate().year - 1)
    again = services.create_item(
        actor=personas["coordinator"],
        title="东湖区企业开办环节多、时间长",
        source=Source.EVALUATION,
        region=city["district_a"],
        lead_department=city["market"],
        measures="再整改",
        deadline=dt.date(2030, 1, 1),
    )
    client = client_for("coordinator")
    listing = client.get(reverse("rectification:item_list"), {"repeated": "yes"}).content.decode()
    assert "连续两年反复出现" in listing
    page = client.get(_detail(again)).content.decode()
    assert 'data-testid="repeated"' in page
    item.refresh_from_db()
    assert item.number in page


def test_reopened_item_keeps_timeline(item: Any, personas: dict[str, Any], client_for: Any) -> None:
    lead, coordinator = personas["lead_department"], personas["coordinator"]
    services.transition_item(item, "accept", actor=lead)
    services.add_evidence(item, actor=lead, upload=pdf())
    services.transition_item(item, "submit", actor=lead)
    services.verify_effect(
        item, actor=coordinator, judgement=Judgement.EFFECTIVE, comment=BY_EVIDENCE
    )
    services.transition_item(item, "close", actor=coordinator)
    response = client_for("coordinator").post(
        reverse("rectification:item_step", args=[item.pk, "reopen"]),
        {"status": "closed", "note": "问题反弹"},
    )
    assert response.status_code == 302
    html = client_for("coordinator").get(_detail(item)).content.decode()
    assert "第 2 轮整改" in html
    # The first round's verification is kept, beside the new round.
    assert "第 1 轮：有效" in html
    for text in ("审核销号", "重新打开", "问题反弹", "上传佐证材料：佐证.pdf", "效果核验：有效"):
        assert text in html
