"""Effect verification (整改效果核验) on the item page: the linked indicator's values before and
after are shown; when there are none the page says so and "有效" needs the reviewer's reason,
which the review and the audit log keep. Values are read through the indicators' selectors."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from sizhen.core.models import AuditEvent
from sizhen.core.tests.pages import submit_form
from sizhen.indicators.catalogue.choices import SourceKind
from sizhen.indicators.catalogue.models import Indicator, IndicatorValue
from sizhen.indicators.catalogue.selectors import BeforeAfter, get_before_after
from sizhen.rectification import services
from sizhen.rectification.effect import effect_rows
from sizhen.rectification.models import RectificationItem, Review
from sizhen.rectification.tests.conftest import month_shift, to_submitted

pytestmark = pytest.mark.django_db


def _review_url(item: RectificationItem) -> str:
    return f"/rectification/{item.pk}/review/"


def _page_url(item: RectificationItem) -> str:
    return f"/rectification/{item.pk}/"


def test_effective_without_data_needs_a_reason(
    item: RectificationItem, personas: dict[str, Any], client_for: Any
) -> None:
    to_submitted(item, personas)
    coordinator = client_for("coordinator")
    page = coordinator.get(_page_url(item)).content.decode()
    assert (
        "<tr><td>T01 企业开办时间</td><td>—</td><td>—</td><td>—</td>"
        "<td>无数据（整改前后均无数据）</td></tr>"
    ) in page
    assert (
        '<p class="warn" data-testid="effect-no-data">关联指标“T01 企业开办时间”没有整改前后'
        "可比的数据，不能用数据证明整改效果；核验结论为“有效”时须填写理由（所依据的佐证材料"
        "或其他证据）。</p>"
    ) in page
    events = AuditEvent.objects.count()

    refused = submit_form(coordinator, _page_url(item), _review_url(item), judgement="effective")

    assert refused.status_code == 200
    body = refused.content.decode()
    assert (
        '<div data-testid="review-comment-errors"><ul class="errorlist" id="id_comment_error">'
        "<li>关联指标“T01 企业开办时间”（整改前后均无数据）没有整改前后可比的数据，核验结论为"
        "“有效”时请填写理由（所依据的佐证材料或其他证据）</li></ul></div>"
    ) in body
    assert '<option value="effective" selected>有效</option>' in body
    assert (Review.objects.count(), AuditEvent.objects.count()) == (0, events)

    submit_form(
        coordinator,
        _page_url(item),
        _review_url(item),
        judgement="effective",
        comment="窗口实测开办 2 天，见佐证材料",
    )

    review = Review.objects.get()
    assert (review.judgement, review.comment, review.reviewer) == (
        "effective",
        "窗口实测开办 2 天，见佐证材料",
        personas["coordinator"],
    )
    assert review.snapshot[0]["missing"] == "整改前后均无数据"
    event = AuditEvent.objects.get(action="rectification.verify")
    assert (event.message, event.after) == (
        "窗口实测开办 2 天，见佐证材料",
        {"judgement": "effective", "round": 1, "indicators": 1, "indicators_without_data": ["T01"]},
    )
    shown = coordinator.get(_page_url(item)).content.decode()
    assert "第 1 轮：有效</strong>（coordinator（coordinator）" in shown
    assert "窗口实测开办 2 天，见佐证材料" in shown


def test_partial_or_ineffective_judgements_keep_their_own_rule(
    item: RectificationItem, personas: dict[str, Any]
) -> None:
    to_submitted(item, personas)
    coordinator = personas["coordinator"]
    with pytest.raises(ValidationError, match="结论为部分有效或无效时请填写核验意见"):
        services.verify_effect(item, actor=coordinator, judgement="partial")
    review = services.verify_effect(item, actor=coordinator, judgement="partial", comment="待观察")
    assert review.judgement == "partial"


def test_values_before_and_after_are_shown_and_need_no_reason(
    item: RectificationItem, personas: dict[str, Any], client_for: Any, values: None
) -> None:
    to_submitted(item, personas)
    coordinator = client_for("coordinator")
    page = coordinator.get(_page_url(item)).content.decode()
    before = month_shift(timezone.localdate().replace(day=1), -2)
    after = timezone.localdate().replace(day=1)
    assert (
        f"<tr><td>T01 企业开办时间</td><td>5.00天（{before:%Y-%m}）</td>"
        f"<td>3.00天（{after:%Y-%m}）</td><td>-2.00</td><td>向好</td></tr>"
    ) in page
    assert 'data-testid="effect-no-data"' not in page

    submit_form(coordinator, _page_url(item), _review_url(item), judgement="effective")

    assert Review.objects.get().judgement == "effective"
    assert (
        AuditEvent.objects.get(action="rectification.verify").after["indicators_without_data"] == []
    )


def test_a_value_only_before_the_item_is_no_comparison(
    item: RectificationItem, indicator: Indicator, city: dict[str, Any], personas: dict[str, Any]
) -> None:
    opened = timezone.localdate().replace(day=1)
    IndicatorValue.objects.create(
        indicator=indicator, region=city["district_a"], period=month_shift(opened, -1),
        frequency="month", source_kind=SourceKind.RECORDS, value=5.0,
    )  # fmt: skip
    (row,) = effect_rows(to_submitted(item, personas))
    assert (row["before"], row["after"], row["trend"], row["missing"]) == (
        5.0,
        None,
        "no_data",
        "整改后无数据",
    )
    with pytest.raises(ValidationError, match="“T01 企业开办时间”（整改后无数据）"):
        services.verify_effect(item, actor=personas["coordinator"], judgement="effective")


def test_before_after_reads_one_value_a_period_by_source_preference(
    indicator: Indicator, city: dict[str, Any]
) -> None:
    since = timezone.localdate().replace(day=1)
    rows = [
        (month_shift(since, -3), SourceKind.RECORDS, 6.0),
        (month_shift(since, -1), SourceKind.FILLING, 4.5),
        (month_shift(since, -1), SourceKind.RECORDS, 5.0),
        (since, SourceKind.FILLING, 3.5),
        (month_shift(since, 1), SourceKind.AGGREGATE, None),
    ]
    for period, kind, value in rows:
        IndicatorValue.objects.create(
            indicator=indicator, region=city["district_a"], period=period, frequency="month",
            source_kind=kind, value=value,
        )  # fmt: skip
    assert get_before_after(indicator, city["district_a"].pk, since) == BeforeAfter(
        before_period=month_shift(since, -1), before=5.0, after_period=since, after=3.5
    )
    assert get_before_after(indicator, city["district_b"].pk, since) == BeforeAfter(
        None, None, None, None
    )
