"""The satisfaction index (企业满意度指数) against a hand computation: per region with n, the
95 % interval and the reason below the minimum sample; published as survey values of BE18.07
and BE16.02, scored and shown on the indicator page; republishing is idempotent and drops a
value that fell below the minimum; only the office publishes, only closed rounds; closing a
round queues the publication."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse

from sizhen.core.jobs import run_pending
from sizhen.core.models import AuditEvent, Job
from sizhen.core.periods import Period
from sizhen.indicators.catalogue.changes import values_version
from sizhen.indicators.catalogue.models import IndicatorValue
from sizhen.surveys import services
from sizhen.surveys.models import IndexResult, SurveyRound
from sizhen.surveys.services.common import SurveyConflict, SurveyError
from sizhen.surveys.tests.support import make_round

pytestmark = pytest.mark.django_db

# The five enterprises' scores (support.INDEX_ANSWERS): 71.875, 57.142857…, 75 (东湖区 with its
# park), 90.625, 43.75 (西山区). The city: n = 5, mean 67.678571…, s = 17.897833…,
# t(0.975, 4) = 2.776445, half width t·s/√5 = 22.223095 → 45.455476…–89.901666….
# 东湖区: n = 3, mean 68.005952…, s = 9.536589…, t(0.975, 2) = 4.302653, half 23.690201.
# BE16.02 takes the ip item alone: 75, 50, 75, 25 → the city n = 4, mean 56.25, s = 23.935678,
# t(0.975, 3) = 3.182446, half 38.087005; each district has 2 (below the minimum 3).
CITY = ("449900", 67.68, 5, 17.9, 45.46, 89.9, "", True)
DONGHU = ("449901", 68.01, 3, 9.54, 44.32, 91.7, "", True)
XISHAN = ("449902", None, 2, None, None, None, "样本量不足（n=2，至少 3）", False)
PARK = ("P449951", None, 1, None, None, None, "样本量不足（n=1，至少 3）", False)


def _rows(survey_round: SurveyRound, code: str) -> list[tuple[Any, ...]]:
    return [
        (r.region.code, r.value, r.respondents, r.std, r.ci_low, r.ci_high, r.reason, r.published)
        for r in IndexResult.objects.filter(round=survey_round, indicator_code=code).order_by(
            "region__path"
        )
    ]


def _values() -> dict[tuple[str, str], tuple[Any, ...]]:
    return {
        (v.indicator.code, v.region.code): (v.period, v.value, v.observations, v.score, v.rank)
        for v in IndicatorValue.objects.filter(source_kind="survey").select_related(
            "indicator", "region"
        )
    }


def test_the_index_matches_the_hand_computation_and_is_published(
    index_round: SurveyRound, personas: dict[str, Any]
) -> None:
    before = values_version()
    results = services.publish_index(index_round, actor=personas["coordinator"])
    assert len(results) == 8  # two indices × four regions
    assert _rows(index_round, "BE18.07") == [CITY, DONGHU, PARK, XISHAN]
    assert _rows(index_round, "BE16.02") == [
        ("449900", 56.25, 4, 23.94, 18.16, 94.34, "", True),
        ("449901", None, 2, None, None, None, "样本量不足（n=2，至少 3）", False),
        ("P449951", None, 1, None, None, None, "样本量不足（n=1，至少 3）", False),
        ("449902", None, 2, None, None, None, "样本量不足（n=2，至少 3）", False),
    ]
    # The values, with the sample as their observations, scored on the 0–100 goalposts and
    # ranked among the districts (东湖区 alone has one).
    year = Period.containing(index_round.deadline, "year").start
    assert _values() == {
        ("BE18.07", "449900"): (year, 67.68, 5, 67.68, None),
        ("BE18.07", "449901"): (year, 68.01, 3, 68.01, 1),
        ("BE16.02", "449900"): (year, 56.25, 4, 56.25, None),
    }
    assert values_version() > before  # the cached indicator pages refresh
    # Scoring composes the parents from them: BE18 of the city in the year's first month.
    composite = IndicatorValue.objects.get(
        indicator__code="BE18", region__code="449900", period=year, source_kind="composite"
    )
    assert composite.value == 67.68
    event = AuditEvent.objects.get(action="survey.index_publish")
    assert (event.actor_id, event.object_id) == (personas["coordinator"].pk, str(index_round.pk))
    assert event.after == {
        "minimum": 3,
        "indicators": ["BE18.07", "BE16.02"],
        "regions": 4,
        "with_value": 2,
        "below_minimum": ["P449951", "449902"],
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
    }
    published = AuditEvent.objects.get(action="indicator_value.publish")
    assert published.after["source_kind"] == "survey"


def test_republishing_changes_nothing_and_a_raised_minimum_removes_values(
    index_round: SurveyRound, personas: dict[str, Any], settings: Any
) -> None:
    coordinator = personas["coordinator"]
    services.publish_index(index_round, actor=coordinator)
    first = {
        (v.indicator_id, v.region_id): (v.pk, v.computed_at)
        for v in IndicatorValue.objects.filter(source_kind="survey")
    }
    version = values_version()
    services.publish_index(index_round, actor=coordinator)
    again = {
        (v.indicator_id, v.region_id): (v.pk, v.computed_at)
        for v in IndicatorValue.objects.filter(source_kind="survey")
    }
    assert again == first and values_version() == version
    assert (
        AuditEvent.objects.filter(action="survey.index_publish")
        .order_by("pk")
        .last()
        .after["unchanged"]
        == 3
    )
    # With a minimum of 4, 东湖区 (n = 3) loses its value, here and in the indicators.
    settings.SIZHEN_SURVEY_MIN_SAMPLE = 4
    services.publish_index(index_round, actor=coordinator)
    assert _rows(index_round, "BE18.07")[1] == (
        "449901",
        None,
        3,
        None,
        None,
        None,
        "样本量不足（n=3，至少 4）",
        False,
    )
    assert set(_values()) == {("BE18.07", "449900"), ("BE16.02", "449900")}
    assert (
        AuditEvent.objects.filter(action="survey.index_publish")
        .order_by("pk")
        .last()
        .after["deleted"]
        == 1
    )


def test_only_the_office_publishes_and_only_a_closed_round(
    index_round: SurveyRound, personas: dict[str, Any], city: dict[str, Any]
) -> None:
    with pytest.raises(SurveyError):
        services.publish_index(index_round, actor=personas["district_a"])
    assert not IndexResult.objects.exists() and not _values()
    assert not AuditEvent.objects.filter(action="survey.index_publish").exists()
    open_round = make_round(
        index_round.questionnaire,
        personas["coordinator"],
        city["root"],
        "进行中的调查",
        open_it=True,
    )
    with pytest.raises(SurveyConflict):
        services.publish_index(open_round, actor=personas["coordinator"])
    assert not IndexResult.objects.exists() and not _values()


def test_closing_a_round_queues_the_publication_that_the_job_runs(
    index_round: SurveyRound, personas: dict[str, Any]
) -> None:
    job = Job.objects.get(name="surveys.publish_index")
    assert job.kwargs == {"round_id": index_round.pk, "actor_id": personas["coordinator"].pk}
    assert job.key == f"surveys.publish_index:{index_round.pk}"
    run_pending()
    job.refresh_from_db()
    assert (job.status, job.result) == (
        "succeeded",
        {"round": index_round.pk, "regions": 4, "with_value": 2, "published": 3},
    )
    assert _rows(index_round, "BE18.07") == [CITY, DONGHU, PARK, XISHAN]
    event = AuditEvent.objects.get(action="survey.index_publish")
    assert event.actor_id == personas["coordinator"].pk


def test_the_daily_closing_queues_the_publication_as_the_system(
    index_round: SurveyRound, personas: dict[str, Any], city: dict[str, Any]
) -> None:
    Job.objects.all().delete()
    due = make_round(
        index_round.questionnaire, personas["coordinator"], city["root"], "到期调查", open_it=True
    )
    # The closed round is the only other one; the second closes by the job once its day passes.
    closed = services.close_due_rounds(today=due.deadline + dt.timedelta(days=1))
    assert closed == 1
    job = Job.objects.get(name="surveys.publish_index")
    assert job.kwargs == {"round_id": due.pk, "actor_id": None}
    run_pending()
    job.refresh_from_db()
    # Nobody answered it: every region is below the minimum, nothing is published.
    assert job.result == {"round": due.pk, "regions": 4, "with_value": 0, "published": 0}
    event = AuditEvent.objects.get(action="survey.index_publish")
    assert (event.actor_id, event.after["below_minimum"]) == (
        None,
        ["449900", "449901", "P449951", "449902"],
    )


def test_the_results_page_shows_the_index_and_why_a_region_has_none(
    index_round: SurveyRound, client_for: Any
) -> None:
    url = reverse("surveys:round_results", args=[index_round.pk])
    page = client_for("coordinator").get(url).content.decode()
    assert 'data-testid="index-pending"' in page and 'data-testid="publish-index"' in page
    response = client_for("coordinator").post(
        reverse("surveys:round_index_publish", args=[index_round.pk])
    )
    assert response.status_code == 302 and response["Location"] == url
    page = client_for("coordinator").get(url).content.decode()
    table = page[page.index('data-testid="index-BE18.07"') :]
    table = table[: table.index("</table>")]
    assert (
        "<td>示范市</td>\n      <td>67.68</td>\n      <td>5</td>\n      <td>45.46–89.90</td>"
        in table
    )
    assert "样本量不足（n=2，至少 3）" in table and "已发布到指标" in table
    # A district officer reads its own subtree and the city's figure, and may not publish.
    page = client_for("district_b").get(url).content.decode()
    table = page[page.index('data-testid="index-BE18.07"') :]
    table = table[: table.index("</table>")]
    assert "示范市" in table and "西山区" in table and "东湖区" not in table
    assert 'data-testid="publish-index"' not in page


def test_a_district_officer_may_not_publish_and_nothing_changes(
    index_round: SurveyRound, client_for: Any
) -> None:
    response = client_for("district_a").post(
        reverse("surveys:round_index_publish", args=[index_round.pk])
    )
    assert response.status_code == 404
    assert not IndexResult.objects.exists() and not _values()


def test_the_indicator_page_shows_the_published_value_with_its_sample(
    index_round: SurveyRound, personas: dict[str, Any], client_for: Any
) -> None:
    services.publish_index(index_round, actor=personas["coordinator"])
    url = reverse("dashboards:indicator", args=["BE18.07"])
    page = client_for("leader").get(f"{url}?region=449900").content.decode()
    assert 'data-testid="current-value">67.68分' in page
    basis = page[page.index('data-testid="survey-basis"') :].split("</p>")[0]
    assert "满意度指数测试" in basis and "样本量 5 家企业" in basis
    assert "95% 置信区间 45.46–89.90" in basis
    # 西山区 has no value; the page says why.
    page = client_for("leader").get(f"{url}?region=449902").content.decode()
    basis = page[page.index('data-testid="survey-basis"') :].split("</p>")[0]
    assert "未计值：样本量不足（n=2，至少 3）" in basis


def test_the_index_api_answers_the_stored_index_in_the_callers_scope(
    index_round: SurveyRound, personas: dict[str, Any], client_for: Any
) -> None:
    url = "/api/v1/surveys/index_test/index"
    assert client_for("leader").get(url).status_code == 200  # closed, not yet published
    services.publish_index(index_round, actor=personas["coordinator"])
    body = client_for("leader").get(url).json()
    assert (body["round"], body["minimum"]) == (index_round.pk, 3)
    overall = body["indices"][0]
    assert (overall["indicator"], overall["label"]) == ("BE18.07", "企业满意度指数")
    assert [
        (r["region"], r["value"], r["n"], r["ci_low"], r["ci_high"], r["reason"])
        for r in overall["regions"]
    ] == [(c[0], c[1], c[2], c[4], c[5], c[6]) for c in (CITY, DONGHU, PARK, XISHAN)]
    assert [i["indicator"] for i in body["indices"]] == ["BE18.07", "BE16.02"]
    # 西山区's officer: the city's figure and its own.
    body = client_for("district_b").get(url).json()
    assert [r["region"] for r in body["indices"][0]["regions"]] == ["449900", "449902"]
    # An enterprise may not read it; an unknown round or questionnaire is not found.
    assert client_for("enterprise").get(url).status_code == 404
    assert client_for("leader").get(f"{url}?round=987654").status_code == 404
    assert client_for("leader").get("/api/v1/surveys/nothing/index").status_code == 404
