"""Publishing the satisfaction index (企业满意度指数) of a finished round into the indicators:
the figures per region are kept as ``IndexResult`` rows (with n, the confidence interval and
the reason for a region without value) and written as ``IndicatorValue(source_kind="survey")``
through the indicators' value-publishing service, which re-scores the period."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from sizhen.core.access import Actor
from sizhen.core.audit import record_event
from sizhen.core.periods import Period
from sizhen.core.permissions import ensure_capability
from sizhen.indicators.catalogue.choices import SourceKind
from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.filling.imports import PublishedValue, PublishReport, publish_values
from sizhen.organisations.models import Region
from sizhen.surveys import index
from sizhen.surveys.models import IndexResult, SurveyRound
from sizhen.surveys.services.common import SurveyConflict, SurveyError
from sizhen.surveys.workflow import CLOSED


@dataclass(frozen=True)
class _Target:
    """An index and the catalogue leaf it is published to (None: not in the catalogue)."""

    code: str
    label: str
    items: list[index.Item]
    leaf: Indicator | None


def _survey_leaves(codes: set[str]) -> dict[str, Indicator]:
    """The active survey leaves among ``codes``: the only leaves the index is published to."""
    return {
        leaf.code: leaf
        for leaf in Indicator.objects.filter(
            code__in=codes,
            is_active=True,
            children__isnull=True,
            source_kind=SourceKind.SURVEY,
        )
    }


def _targets(items: list[index.Item]) -> list[_Target]:
    overall = index.overall_indicator()
    leaves = _survey_leaves({overall} | {item.informs for item in items if item.informs})
    targets = [_Target(overall, index.OVERALL_LABEL, items, leaves.get(overall))]
    for code in sorted(set(leaves) - {overall}):
        informing = [item for item in items if item.informs == code]
        targets.append(_Target(code, leaves[code].name, informing, leaves[code]))
    return targets


def index_period(survey_round: SurveyRound, frequency: str) -> dt.date:
    """The indicator period a round publishes to: the one containing its deadline."""
    return Period.containing(survey_round.deadline, frequency).start


def publish_index(survey_round: SurveyRound, *, actor: Actor | None) -> list[IndexResult]:
    """Compute the satisfaction index of a closed round for its region and every region of its
    subtree, keep it with n, the 95 % interval and the reason for regions below the minimum
    sample, and publish the values into the catalogue's survey leaves (the overall
    ``SIZHEN_SURVEY_INDEX_INDICATOR`` and each survey leaf that a weighted item's bank item
    informs), to the period containing the round's deadline. Publishing again replaces the
    round's own figures: unchanged values stay, a region that lost its value loses it in the
    indicators too; values another round published are replaced only where this one has a
    value. ``actor=None``: the system (the job that follows a round's closing)."""
    if actor is not None:
        ensure_capability(
            actor, "survey.publish_index", SurveyError("只有营商办可以发布企业满意度指数")
        )
    if survey_round.status != CLOSED:
        raise SurveyConflict("调查结束后才能计算和发布满意度指数")
    minimum = index.minimum_sample()
    items = index.index_items(survey_round)
    if not items:
        raise SurveyError("问卷没有设置权重的评分题或矩阵题，无法计算满意度指数")
    regions = list(
        Region.objects.filter(path__startswith=survey_round.region.path, is_active=True).order_by(
            "path"
        )
    )
    now = timezone.now()
    results: list[IndexResult] = []
    values: list[PublishedValue] = []
    targets = _targets(items)
    for target in targets:
        frequency = target.leaf.frequency if target.leaf is not None else "year"
        period = index_period(survey_round, frequency)
        scores = index.enterprise_scores(survey_round, target.items)
        summaries = index.region_summaries(regions, scores, minimum)
        for region in regions:
            summary = summaries[region.pk]
            reason = summary.reason
            published = target.leaf is not None and summary.value is not None
            if summary.value is not None and target.leaf is None:
                reason = f"指标体系中没有启用的问卷调查末级指标 {target.code}，未发布"
            results.append(
                IndexResult(
                    round=survey_round,
                    region=region,
                    indicator_code=target.code,
                    label=target.label,
                    period=period,
                    value=summary.value,
                    respondents=summary.n,
                    std=summary.std,
                    ci_low=summary.ci_low,
                    ci_high=summary.ci_high,
                    reason=reason,
                    published=published,
                    computed_at=now,
                )
            )
            if published and summary.value is not None:
                values.append(
                    PublishedValue(target.code, region.code, period, summary.value, summary.n)
                )
    with transaction.atomic():
        # Two publications of one round at once: the second waits and writes the same rows.
        SurveyRound.objects.select_for_update().filter(pk=survey_round.pk).first()
        earlier = IndexResult.objects.filter(round=survey_round, published=True)
        replace = [
            (r.indicator_code, r.region.code, r.period) for r in earlier.select_related("region")
        ]
        IndexResult.objects.filter(round=survey_round).delete()
        IndexResult.objects.bulk_create(results)
        written = (
            publish_values(
                values,
                source_kind=SourceKind.SURVEY,
                replace=replace,
                actor=actor,
                system=actor is None,
            )
            if values or replace
            else PublishReport()
        )
        overall = [r for r in results if r.indicator_code == index.overall_indicator()]
        record_event(
            "survey.index_publish",
            actor=actor,
            obj=survey_round,
            after={
                "minimum": minimum,
                "indicators": [t.code for t in targets if t.leaf is not None],
                "regions": len(overall),
                "with_value": sum(1 for r in overall if r.value is not None),
                "below_minimum": [r.region.code for r in overall if r.value is None],
                **written.as_dict(),
            },
            message=(
                f"发布企业满意度指数：{len(values)} 个指标值（新增 {written.created}，"
                f"更新 {written.updated}，删除 {written.deleted}）"
            ),
        )
    return results
