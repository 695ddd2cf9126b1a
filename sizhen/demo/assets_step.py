"""Demo step of the data assets (数据资产): who owns each built-in dataset and which system it
comes from, three years (2023–2025) of archived evaluation results (参评数据) of the districts
and counties on the first-level indicators, the assessment key points (考核要点) of those years,
and one restricted dataset (不动产登记) with a pending and an approved extract request.

The results are seeds, not measurements: each district has a steady strength, each indicator
its own spread, and every district improves a little each year, so the ranks move believably."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from sizhen.assets import services
from sizhen.assets.choices import DocumentKind, ExtractFormat, ExtractKind, UpdateFrequency
from sizhen.assets.models import ArchiveDocument, AssetProfile, EvaluationResult, ExtractRequest
from sizhen.core.models import TransitionHistory
from sizhen.demo import data
from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.ingestion.models import Dataset
from sizhen.organisations.choices import RegionLevel

YEARS = (2023, 2024, 2025)
SOURCE = "省营商环境评价"
RESTRICTED = "property_registrations"

#: dataset code -> (owner department code, source system, update frequency)
PROFILES: dict[str, tuple[str, str, str]] = {
    "gov_service_cases": ("SZ-ZWFW", "一体化政务服务平台", UpdateFrequency.REALTIME),
    "enterprise_startup": ("SZ-SCJG", "企业开办一网通办平台", UpdateFrequency.DAILY),
    "bidding": ("SZ-GGZY", "公共资源交易平台", UpdateFrequency.DAILY),
    "utility_connections": ("SZ-GDGS", "电力营销系统", UpdateFrequency.DAILY),
    "construction_permits": ("SZ-ZJJ", "工程建设项目审批管理系统", UpdateFrequency.DAILY),
    "property_registrations": ("SZ-BDC", "不动产登记信息平台", UpdateFrequency.DAILY),
    "tax_filings": ("SZ-SW", "电子税务局", UpdateFrequency.MONTHLY),
    "court_cases": ("SZ-FY", "审判流程管理系统", UpdateFrequency.WEEKLY),
    "labour_cases": ("SZ-RSJ", "劳动人事争议仲裁办案系统", UpdateFrequency.WEEKLY),
    "procurement": ("SZ-CZJ", "政府采购云平台", UpdateFrequency.DAILY),
    "ip_pledges": ("SZ-ZSCQ", "知识产权质押登记系统", UpdateFrequency.MONTHLY),
    "market_supervision": ("SZ-SCJG", "市场监管信用信息系统", UpdateFrequency.DAILY),
}

KEY_POINTS: dict[int, tuple[str, str]] = {
    2023: (
        "2023年度营商环境考核要点",
        "一、企业开办压缩至 1 个工作日，推行“一网通办”。\n"
        "二、工程建设项目审批全流程控制在 90 个工作日以内。\n"
        "三、低压小微企业用电报装实现零投资、零上门。\n"
        "四、政务服务事项网上可办率达到 95%。",
    ),
    2024: (
        "2024年度营商环境考核要点",
        "一、推行“高效办成一件事”，首批 13 个事项全部上线。\n"
        "二、不动产登记、交易、缴税“一窗受理”，一般登记 3 个工作日办结。\n"
        "三、涉企诉求办结率、满意率纳入考核，按月通报。\n"
        "四、招标投标全流程电子化，保证金应退尽退。",
    ),
    2025: (
        "2025年度营商环境考核要点",
        "一、“无感监测”覆盖全部指标，数据按月自动采集。\n"
        "二、整改清单闭环管理，评价发现的问题 100% 销号。\n"
        "三、企业满意度调查样本覆盖所有县市区和园区。\n"
        "四、知识产权质押融资、政府采购支付时限纳入考核。",
    ),
}
POLICY = (
    2024,
    "营商环境政策沿革（2019—2024）",
    "2019年《优化营商环境条例》公布施行；2021年起开展营商环境创新试点；"
    "2023年推行“高效办成一件事”；2024年建立营商环境监测评价常态化机制。",
)


def build_assets(ctx: Any) -> int:
    rng = ctx.rng("assets")
    profiles = []
    for dataset in Dataset.objects.filter(code__in=PROFILES).order_by("code"):
        owner, system, frequency = PROFILES[dataset.code]
        profiles.append(
            AssetProfile(
                dataset=dataset,
                owner_department=ctx.departments.get(owner),
                source_system=system,
                update_frequency=frequency,
                restricted=dataset.code == RESTRICTED,
                description=f"由{system}推送或定期导入。",
            )
        )
    AssetProfile.objects.bulk_create(profiles)
    districts = [
        ctx.regions[spec.code]
        for spec in data.REGIONS
        if spec.level in (RegionLevel.DISTRICT, RegionLevel.COUNTY)
    ]
    firsts = list(Indicator.objects.filter(level=1).order_by("sort_order", "code"))
    strength = {r.pk: rng.uniform(-6.0, 6.0) for r in districts}
    results = []
    for indicator in firsts:
        spread = rng.uniform(3.0, 8.0)
        for offset, year in enumerate(YEARS):
            scores = {
                r.pk: min(99.0, 72.0 + strength[r.pk] + 2.5 * offset + rng.gauss(0, spread / 2))
                for r in districts
            }
            ranked = sorted(districts, key=lambda r: -scores[r.pk])
            for rank, region in enumerate(ranked, start=1):
                score = round(scores[region.pk], 2)
                results.append(
                    EvaluationResult(
                        year=year,
                        region=region,
                        indicator=indicator,
                        value=score,
                        score=score,
                        rank=rank,
                        rank_total=len(districts),
                        source=SOURCE,
                    )
                )
    EvaluationResult.objects.bulk_create(results, batch_size=1000)
    office = ctx.users.get("coordinator")
    ArchiveDocument.objects.bulk_create(
        [
            *(
                ArchiveDocument(
                    kind=DocumentKind.KEY_POINTS,
                    year=year,
                    title=title,
                    body=body,
                    reference="市优化营商环境工作领导小组办公室",
                    created_by=office,
                )
                for year, (title, body) in KEY_POINTS.items()
            ),
            ArchiveDocument(
                kind=DocumentKind.POLICY,
                year=POLICY[0],
                title=POLICY[1],
                body=POLICY[2],
                reference="《优化营商环境条例》（国务院令第722号）",
                created_by=office,
            ),
        ]
    )
    _extract_requests(ctx)
    return len(results)


def _extract_requests(ctx: Any) -> None:
    """One restricted dataset with a pending request (a district officer's) and one the
    coordinator approved (the leader's), through the services, so their history is real."""
    dataset = Dataset.objects.filter(code=RESTRICTED).first()
    leader, officer, office = (ctx.users.get(n) for n in ("leader", "district_dh", "coordinator"))
    if dataset is None or leader is None or officer is None or office is None:
        return
    today = timezone.localdate()
    start = dt.date(today.year - 1, 1, 1)
    approved = services.submit_extract(
        actor=leader,
        kind=ExtractKind.RECORDS,
        dataset=dataset,
        region=ctx.root,
        period_start=start,
        period_end=today,
        purpose="年度营商环境评价：核查登记财产指标",
        file_format=ExtractFormat.XLSX,
    )
    services.approve_extract(approved, actor=office, note="同意，仅用于评价核查")
    services.submit_extract(
        actor=officer,
        kind=ExtractKind.RECORDS,
        dataset=dataset,
        region=ctx.regions["449901"],
        period_start=start,
        period_end=today,
        purpose="东湖区不动产登记时长分析",
        file_format=ExtractFormat.CSV,
    )


def wipe_assets(city_path: str) -> None:
    requests = ExtractRequest.objects.filter(region__path__startswith=city_path)
    TransitionHistory.objects.filter(
        object_type=ExtractRequest._meta.label_lower,
        object_id__in=[str(pk) for pk in requests.values_list("pk", flat=True)],
    ).delete()
    requests.delete()
    EvaluationResult.objects.filter(region__path__startswith=city_path).delete()
    titles = [title for title, _ in KEY_POINTS.values()] + [POLICY[1]]
    ArchiveDocument.objects.filter(title__in=titles).delete()
    AssetProfile.objects.filter(owner_department__region__path__startswith=city_path).delete()
