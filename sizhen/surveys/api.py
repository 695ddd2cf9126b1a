"""问卷 over the API (/api/v1/surveys): responses entered for enterprises (paper questionnaires
by staff sessions, or machine clients with the ``surveys:write`` scope) and results per
question for a region's subtree, and the published satisfaction index (docs/surveys.md, "API")."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema
from ninja.responses import Status
from pydantic import Field

from sizhen.core.access import VIEW, Actor, get_visible_or_404, role_of
from sizhen.core.api import ErrorOut, actor_of, bounded_by, require_token_scope
from sizhen.core.permissions import require_capability
from sizhen.core.roles import Role
from sizhen.organisations.models import Enterprise, Region
from sizhen.surveys import services
from sizhen.surveys.choices import Channel
from sizhen.surveys.index import minimum_sample
from sizhen.surveys.models import Questionnaire, Response
from sizhen.surveys.selectors import (
    default_region,
    index_tables,
    region_in_scope,
    results_round,
    rounds_of,
    survey_results,
)
from sizhen.surveys.workflow import CLOSED

router = Router(tags=["问卷调查"])

WRITE_SCOPE = "surveys:write"
READ_SCOPE = "read"


class ResponseIn(Schema):
    enterprise: Annotated[str, bounded_by(Enterprise, "uscc")]
    answers: dict[Annotated[str, Field(max_length=60)], Any]
    client_key: Annotated[str, bounded_by(Response, "client_key")] | None = None


class ResponseOut(Schema):
    id: int
    round: int
    round_title: str
    enterprise: str
    enterprise_name: str
    sequence: int
    channel: str
    submitted_at: dt.datetime | None
    created: bool


class AnswerErrorOut(Schema):
    field: str
    question: str
    code: str
    message: str


class AnswersRejectedOut(Schema):
    detail: str
    errors: list[AnswerErrorOut]


class ChoiceCount(Schema):
    name: str
    label: str
    count: int


class MatrixRow(Schema):
    name: str
    label: str
    n: int
    counts: list[ChoiceCount]


class QuestionResult(Schema):
    name: str
    label: str
    type: str
    n: int
    counts: list[ChoiceCount] | None = None
    rows: list[MatrixRow] | None = None
    mean: float | None = None
    median: float | None = None


class ResultsOut(Schema):
    questionnaire: str
    round: int
    round_title: str
    region: str
    region_name: str
    responses: int
    questions: list[QuestionResult]


class ResultFilters(Schema):
    region: Annotated[str, bounded_by(Region, "code")] = ""
    round: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None


def _results_reader(request: HttpRequest, target: str) -> Actor:
    """Results are read by staff with ``survey.results`` and by tokens with ``read``."""
    actor = actor_of(request)
    if role_of(actor) == Role.MACHINE:
        require_token_scope(request, READ_SCOPE)
        require_capability(actor, "staff.api", target=target)
    else:
        require_capability(actor, "survey.results", target=target)
    return actor


def _questionnaire(actor: Actor, code: str) -> Questionnaire:
    return get_visible_or_404(Questionnaire, actor, VIEW, code=code)


def _out(response: Response, created: bool) -> dict[str, Any]:
    return {
        "id": response.pk,
        "round": response.round_id,
        "round_title": response.round.title,
        "enterprise": response.enterprise.uscc,
        "enterprise_name": response.enterprise.name,
        "sequence": response.sequence,
        "channel": response.channel,
        "submitted_at": response.submitted_at,
        "created": created,
    }


@router.post(
    "/surveys/{code}/responses",
    response={
        200: ResponseOut,
        201: ResponseOut,
        400: ErrorOut,
        404: ErrorOut,
        409: ErrorOut,
        422: AnswersRejectedOut,
    },
    summary="提交一份答卷（纸质问卷录入、系统对接）",
    description=(
        "enterprise 为统一社会信用代码，answers 以题目名称为键；提交到该问卷进行中的调查轮次。"
        "同一调用方的同一 client_key 只保存一次，重复提交返回 200 和第一次的答卷。"
        "422 的 errors 逐条列出题目名称（question）、错误代码（code）和中文说明（message）。"
        "接口令牌需要 surveys:write 权限；登录用户需要录入纸质问卷的权限。"
    ),
)
def post_response(request: HttpRequest, code: str, body: ResponseIn) -> Status[Any]:
    actor = actor_of(request)
    if role_of(actor) == Role.MACHINE:
        require_token_scope(request, WRITE_SCOPE)
        require_capability(actor, "staff.api", target="问卷接口")
        channel = Channel.API
    else:
        require_capability(actor, "survey.enter", target="问卷录入接口")
        channel = Channel.PAPER
    questionnaire = _questionnaire(actor, code)
    enterprise = get_visible_or_404(
        Enterprise.objects.select_related("region"),
        actor,
        VIEW,
        uscc=body.enterprise.strip().upper(),
    )
    survey_round = services.open_round_of(questionnaire)
    if survey_round is None:
        raise services.SurveyConflict("该问卷当前没有进行中的调查")
    response, created = services.submit_response(
        survey_round,
        actor=actor,
        enterprise=enterprise,
        answers=body.answers,
        channel=channel,
        client_key=body.client_key,
    )
    return Status(201 if created else 200, _out(response, created))


@router.get(
    "/surveys/{code}/results",
    response={200: ResultsOut, 404: ErrorOut},
    summary="调查结果（按区划及其下级汇总）",
    description=(
        "每道题的作答数 n、各选项计数（矩阵题按行），数值题和评分题的平均数与中位数。"
        "region 为区划代码（默认：调用方的范围或调查范围），round 为调查轮次编号（默认：最近开始的一轮）。"
    ),
)
def get_results(request: HttpRequest, code: str, filters: Query[ResultFilters]) -> dict[str, Any]:
    actor = _results_reader(request, "问卷结果接口")
    questionnaire = _questionnaire(actor, code)
    survey_round = results_round(questionnaire, actor, filters.round)
    if survey_round is None:
        raise Http404("未找到")
    if filters.region:
        region = get_visible_or_404(Region, actor, VIEW, code=filters.region)
        if not region_in_scope(actor, region):
            raise Http404("未找到")
    else:
        found = default_region(actor, survey_round)
        if found is None:
            raise Http404("未找到")
        region = found
    return {"questionnaire": questionnaire.code, **survey_results(survey_round, region)}


class IndexRegionOut(Schema):
    region: str
    region_name: str
    value: float | None
    n: int
    std: float | None
    ci_low: float | None
    ci_high: float | None
    reason: str
    published: bool


class IndexOut(Schema):
    indicator: str
    label: str
    period: dt.date
    regions: list[IndexRegionOut]


class IndexResultsOut(Schema):
    questionnaire: str
    round: int
    round_title: str
    minimum: int
    indices: list[IndexOut]


class IndexFilters(Schema):
    round: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None


@router.get(
    "/surveys/{code}/index",
    response={200: IndexResultsOut, 404: ErrorOut},
    summary="企业满意度指数（按区划，含样本量和置信区间）",
    description=(
        "调查轮次发布的满意度指数：总指数（SIZHEN_SURVEY_INDEX_INDICATOR）和各问卷调查类末级指标的分项指数，"
        "每个区划（含下级）的指数值、样本量 n、标准差、95% 置信区间，样本量不足时 value 为空并给出 reason。"
        "round 为调查轮次编号（默认：最近结束的一轮）。只返回调用方范围内的区划（及全市）。"
    ),
)
def get_index(request: HttpRequest, code: str, filters: Query[IndexFilters]) -> dict[str, Any]:
    actor = _results_reader(request, "满意度指数接口")
    questionnaire = _questionnaire(actor, code)
    rounds = rounds_of(questionnaire, actor).filter(status=CLOSED)
    if filters.round is not None:
        rounds = rounds.filter(pk=filters.round)
    survey_round = rounds.order_by("-closed_at", "-pk").first()
    if survey_round is None:
        raise Http404("未找到")
    return {
        "questionnaire": questionnaire.code,
        "round": survey_round.pk,
        "round_title": survey_round.title,
        "minimum": minimum_sample(),
        "indices": [
            {
                "indicator": table.code,
                "label": table.label,
                "period": table.period,
                "regions": [
                    {
                        "region": r.region.code,
                        "region_name": r.region.name,
                        "value": r.value,
                        "n": r.respondents,
                        "std": r.std,
                        "ci_low": r.ci_low,
                        "ci_high": r.ci_high,
                        "reason": r.reason,
                        "published": r.published,
                    }
                    for r in table.rows
                ],
            }
            for table in index_tables(survey_round, actor)
        ],
    }
