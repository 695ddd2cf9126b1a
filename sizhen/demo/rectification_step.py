"""Demo step of the rectification ledger (整改清单): 48 items of the demo city, 33 closed
(68.8 %), four repeating a problem of the year before, four overdue.

The rows are seeds, not user actions: they are written in bulk with their states, and each state
gets the history rows the workflow engine would have written, so the item pages show a coherent
timeline. Closed items carry one shared sample evidence file and an effective review."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone

from sizhen.core.models import TransitionHistory
from sizhen.demo import data
from sizhen.demo.people import department_staff, office
from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.ingestion.demo_records import IMPROVER, TURNAROUND_CLOSED_ON
from sizhen.rectification.choices import Judgement, Source, Trend
from sizhen.rectification.effect import effect_rows
from sizhen.rectification.models import Evidence, RectificationItem, Review, evidence_storage
from sizhen.rectification.selectors import find_repeats
from sizhen.rectification.workflow import CLOSED, IN_PROGRESS, OPEN, SUBMITTED

TOTAL = 48
CLOSED_COUNT = 33
EARLIER = 8  # last year's items, all closed
OVERDUE = 4

#: (problem, measures, lead department code, source, indicator codes the problem shows in)
PROBLEMS: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    (
        "企业开办环节多、时间长",
        "推行企业开办一网通办，压缩至 1 个工作日",
        "SZ-SCJG",
        Source.EVALUATION,
        ("BE01.01", "BE01.02"),
    ),
    (
        "工程建设项目审批时间长",
        "推行并联审批和告知承诺制",
        "SZ-ZJJ",
        Source.EVALUATION,
        ("BE02.02",),
    ),
    (
        "不动产登记办理时间长",
        "登记、交易、缴税一窗受理",
        "SZ-ZRZY",
        Source.EVALUATION,
        ("BE05.02",),
    ),
    ("获得电力报装费用高", "低压小微企业零投资接入", "SZ-GDGS", Source.ALERT, ("BE03.03",)),
    (
        "纳税缴费申报时间长",
        "推广电子税务局全程网办",
        "SZ-SW",
        Source.EVALUATION,
        ("BE08.02", "BE08.05"),
    ),
    ("惠企资金兑现慢", "推行免申即享，资金直达企业", "SZ-CZJ", Source.REQUEST, ("BE15.09",)),
    ("政府采购付款不及时", "建立逾期付款督办机制", "SZ-CZJ", Source.INSPECTION, ("BE13.05",)),
    ("涉企行政检查频次多", "推行综合查一次", "SZ-SFJ", Source.SURVEY, ("BE17.02",)),
    (
        "招投标设置隐性门槛",
        "开展招标文件公平竞争审查",
        "SZ-FGW",
        Source.INSPECTION,
        ("BE14.03",),
    ),
    (
        "企业诉求回复不及时",
        "建立诉求首问负责和限时办结",
        "SZ-YSB",
        Source.REQUEST,
        ("BE15.08",),
    ),
    (
        "政务服务大厅窗口排队时间长",
        "增设综合窗口，推行预约办",
        "SZ-ZWFW",
        Source.SURVEY,
        ("BE15.04", "BE15.01"),
    ),
    ("用水报装环节多", "水电气网联合报装", "SZ-ZJJ", Source.ALERT, ("BE04.01", "BE04.02")),
)
#: City departments that share a problem with its lead department (the responsible
#: departments of the indicator, e.g. 开办企业's in the catalogue), by problem index.
PARTNERS: dict[int, tuple[str, ...]] = {
    0: ("SZ-GAJ", "SZ-SW", "SZ-RSJ"),
    4: ("SZ-RSJ",),
    10: ("SZ-RSJ", "SZ-SW"),
}
#: Items (indices) the coordinator exposed on the 曝光台: three of the four repeats.
PUBLISHED = (8, 9, 10)
DISTRICTS = ("449901", "449902", "449903", "449904", "449921", "449922", "449981", "P449951")
#: The item whose close-off turns the improving district round (南湾区's slow start-ups and
#: services): closed on the date from which its records get better (``demo_records``).
TURNAROUND_PROBLEM = 0


#: Steps of the ledger the lead department takes (the office takes the others).
DEPARTMENT_ACTIONS = frozenset({"accept", "submit"})


def _history(
    ctx: Any, item: RectificationItem, steps: list[tuple[str, str, str, str]], at: Any
) -> list[Any]:
    staff, the_office = department_staff(ctx, item.lead_department), office(ctx)
    rows = []
    for offset, (action, label, source, target) in enumerate(steps):
        actor, actor_label = staff if action in DEPARTMENT_ACTIONS else the_office
        rows.append(
            TransitionHistory(
                object_type=RectificationItem._meta.label_lower,
                object_id=str(item.pk),
                workflow="rectification",
                action=action,
                action_label=label,
                from_state=source,
                to_state=target,
                actor=actor,
                actor_label=actor_label,
                at=at + dt.timedelta(days=offset * 7),
            )
        )
    return rows


_ACCEPT = ("accept", "接收整改", OPEN, IN_PROGRESS)
_SUBMIT = ("submit", "申请销号", IN_PROGRESS, SUBMITTED)
_CLOSE = ("close", "审核销号", SUBMITTED, CLOSED)


def build_rectification(ctx: Any) -> int:
    rng = ctx.rng("rectification")
    today = timezone.localdate()
    year = today.year
    now = timezone.now()
    departments = ctx.departments
    fallback = departments.get("SZ-YSB") or next(iter(departments.values()))
    codes = {code for *_rest, problem_codes in PROBLEMS for code in problem_codes}
    indicators = {
        i.code: i for i in Indicator.objects.filter(code__in=codes, children__isnull=True)
    }
    items: list[RectificationItem] = []
    plan: list[tuple[str, list[tuple[str, str, str, str]]]] = []
    problems: list[int] = []
    turned = False
    for index in range(TOTAL):
        earlier = index < EARLIER
        # The four repeats are this year's items 8–11, reworded from last year's 0–3.
        repeat = EARLIER <= index < EARLIER + 4
        problem_index = index - EARLIER if repeat else index % len(PROBLEMS)
        title, measures, lead_code, source, _codes = PROBLEMS[problem_index]
        if earlier or repeat:
            region_code = DISTRICTS[problem_index % len(DISTRICTS)]
        else:
            # Shifted so that no other item meets last year's problem in the same district.
            region_code = DISTRICTS[(problem_index + 1 + index // 12) % len(DISTRICTS)]
        region = ctx.regions[region_code]
        closed = earlier or index < CLOSED_COUNT
        overdue = not closed and index >= TOTAL - OVERDUE
        if overdue:
            deadline = today - dt.timedelta(days=rng.randint(5, 40))
        elif closed:
            deadline = today + dt.timedelta(days=rng.randint(-120, 60))
        else:
            deadline = today + dt.timedelta(days=rng.randint(20, 150))
        if closed:
            status, steps = CLOSED, [_ACCEPT, _SUBMIT, _CLOSE]
        else:
            status, steps = rng.choice(
                [(OPEN, []), (IN_PROGRESS, [_ACCEPT]), (SUBMITTED, [_ACCEPT, _SUBMIT])]
            )
        wording = f"{region.name}{title}"
        if repeat:
            wording = f"{region.name}{title}问题仍然存在"
        created = now - dt.timedelta(days=400 if earlier else rng.randint(60, 200))
        if (
            closed
            and not (earlier or repeat or turned)
            and region_code == IMPROVER
            and problem_index == TURNAROUND_PROBLEM
        ):
            # Closed (15 days after it was raised, as every demo item) on the turnaround date.
            turned = True
            created = timezone.make_aware(
                dt.datetime.combine(TURNAROUND_CLOSED_ON - dt.timedelta(days=15), dt.time(9))
            )
            deadline = TURNAROUND_CLOSED_ON + dt.timedelta(days=4)
        items.append(
            RectificationItem(
                title=wording,
                description=f"{Source(source).label}反映：{wording}。",
                source=source,
                region=region,
                lead_department=departments.get(lead_code, fallback),
                measures=measures,
                deadline=deadline - dt.timedelta(days=365) if earlier else deadline,
                year=year - 1 if earlier else year,
                status=status,
                progress_note="已按期完成整改" if closed else "",
                closed_at=created + dt.timedelta(days=15) if closed else None,
                created_at=created,
            )
        )
        plan.append((status, steps))
        problems.append(problem_index)
    RectificationItem.objects.bulk_create(items)
    history: list[TransitionHistory] = []
    sample = evidence_storage.save(
        "rectification/demo/整改佐证示例.pdf", ContentFile(b"%PDF-1.4\n% demo evidence\n")
    )
    evidence: list[Evidence] = []
    reviews: list[Review] = []
    for index, (item, (status, steps)) in enumerate(zip(items, plan, strict=True)):
        # The indicators the problem shows in (a repeat shares them with last year's item, as
        # the scan would see it).
        linked = [indicators[c] for c in PROBLEMS[problems[index]][4] if c in indicators]
        if linked:
            item.indicators.set(linked)
        item.responsible_departments.set(_responsible(ctx, item, problems[index]))
        if index in PUBLISHED and status == CLOSED and item.closed_at is not None:
            # The coordinator exposes some repeated problems on the 曝光台 once closed, as
            # ``publish_item`` does (one audit event for the whole load instead).
            item.published = True
            item.public_summary = f"{item.title}，连续两年反复出现，已督促牵头部门整改并销号。"
            item.published_at = item.closed_at + dt.timedelta(days=3)
            item.save(update_fields=["published", "public_summary", "published_at"])
        history.extend(_history(ctx, item, steps, item.created_at + dt.timedelta(days=1)))
        if status in (SUBMITTED, CLOSED):
            evidence.append(
                Evidence(
                    item=item,
                    file=sample,
                    name="整改佐证示例.pdf",
                    size=24,
                    uploaded_by_label=department_staff(ctx, item.lead_department)[1],
                    # Between acceptance (day 1) and the close-off request (day 8).
                    uploaded_at=item.created_at + dt.timedelta(days=5),
                )
            )
        if status == CLOSED:
            # The before/after values of the linked indicators, as ``verify_effect`` freezes
            # them (``refresh_reviews`` freezes them again once the records are computed).
            rows = effect_rows(item)
            reviews.append(
                Review(
                    item=item,
                    round=item.round,
                    judgement=Judgement.EFFECTIVE,
                    comment=_review_comment(rows),
                    snapshot=rows,
                    reviewer=office(ctx)[0],
                    reviewer_label=office(ctx)[1],
                    at=item.created_at + dt.timedelta(days=12),
                )
            )
    TransitionHistory.objects.bulk_create(history)
    Evidence.objects.bulk_create(evidence)
    Review.objects.bulk_create(reviews)
    for item in items:
        if item.year != year:
            continue
        repeats = find_repeats(
            title=item.title,
            year=item.year,
            region_id=item.region_id,
            indicator_ids=[i.pk for i in item.indicators.all()],
            exclude_pk=item.pk,
        )
        if repeats:
            item.repeated = True
            item.repeat_reason = "；".join(reason for _, reason in repeats)[:200]
            item.save(update_fields=["repeated", "repeat_reason"])
            item.repeated_of.set([other for other, _ in repeats])
    return len(items)


def _responsible(ctx: Any, item: RectificationItem, problem: int) -> list[Any]:
    """The lead department's counterpart in the item's district (e.g. 东湖区市场监督管理局 for
    the city's market regulator) and the problem's partner departments, where they exist."""
    lead_code = item.lead_department.code
    prefix = next((r.prefix for r in data.REGIONS if r.code == item.region.code), "")
    codes = [f"{prefix}-{lead_code.split('-', 1)[1]}", *PARTNERS.get(problem, ())]
    return [ctx.departments[c] for c in codes if c in ctx.departments and c != lead_code]


def _review_comment(rows: list[dict[str, Any]]) -> str:
    trends = {row["trend"] for row in rows}
    if Trend.WORSE in trends:
        return "整改措施已落实；部分关联指标尚未好转，纳入常态化跟踪"
    if Trend.NO_DATA in trends:
        # "有效" without a before/after comparison is recorded with its reason, as the page asks.
        return "关联指标暂无整改前后可比的数据，依据佐证材料核验整改到位"
    if Trend.BETTER in trends:
        return "整改到位，关联指标较整改前向好"
    return "整改到位"


def refresh_reviews() -> int:
    """Freeze the demo verifications' before/after values again, once the records step has
    computed the indicator values (the load itself runs before them). Returns the reviews."""
    # A demo database holds only the demo's ledger (``wipe_rectification`` clears it whole).
    reviews = list(Review.objects.select_related("item"))
    for review in reviews:
        review.snapshot = effect_rows(review.item)
        review.comment = _review_comment(review.snapshot)
    Review.objects.bulk_update(reviews, ["snapshot", "comment"], batch_size=500)
    return len(reviews)


def wipe_rectification(city_path: str) -> None:
    """The demo city's ledger (a demo database only), with its history rows."""
    ids = [str(pk) for pk in RectificationItem.objects.values_list("pk", flat=True)]
    TransitionHistory.objects.filter(
        object_type=RectificationItem._meta.label_lower, object_id__in=ids
    ).delete()
    RectificationItem.objects.all().delete()
