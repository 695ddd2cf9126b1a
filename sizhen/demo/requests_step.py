"""Demo step of enterprise requests (企业诉求): 300 requests of the last twelve months across
channels, categories, departments and states, six face-to-face forums, revisits and replies.

The rows are seeds, not user actions: they are written in bulk with their states, and each state
gets the history rows the workflow engine would have written, so request pages show a coherent
timeline. Older requests are mostly closed; recent ones are still on their way; a few are
overdue, returned, merged, assigned a second time or referred."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from sizhen.core.models import TransitionHistory
from sizhen.core.periods import Period
from sizhen.core.workcalendar import get_calendar
from sizhen.demo.people import department_staff, office
from sizhen.demo.requests_clocks import FIELDS as CLOCK_FIELDS
from sizhen.demo.requests_clocks import seed_clocks
from sizhen.enterprise_requests.choices import Channel, MessageKind, RevisitMethod
from sizhen.enterprise_requests.models import (
    EnterpriseRequest,
    Forum,
    RequestCategory,
    RequestMessage,
    Revisit,
)
from sizhen.enterprise_requests.workflow import STATES

TOTAL = 300
DEMO_SOURCE = "demo"

#: What enterprises write under each second-level category of the request taxonomy (诉求词条),
#: and who handles it: (subject, city department code, district department suffix or ""). The
#: handling department is the subject's own (用电增容 goes to the power company, 招工 to the
#: human resources bureau), a district's counterpart when the suffix names one.
TOPICS: dict[str, list[tuple[str, str, str]]] = {
    "0101": [("企业开办", "SZ-SCJG", "SCJG"), ("设立登记", "SZ-SCJG", "SCJG"),
             ("新办企业发票申领", "SZ-SW", "SW")],
    "0102": [("经营范围变更", "SZ-SCJG", "SCJG"), ("简易注销", "SZ-SCJG", "SCJG"),
             ("清税注销", "SZ-SW", "SW")],
    "0103": [("食品经营许可证", "SZ-SCJG", "SCJG"), ("道路运输经营许可证", "SZ-JTJ", ""),
             ("公共场所卫生许可证", "SZ-WJW", "")],
    "0104": [("建筑业企业资质", "SZ-ZJJ", "ZJJ"), ("危险化学品经营许可", "SZ-YJJ", ""),
             ("排污许可", "SZ-STHJ", "STHJ")],
    "0201": [("不动产登记", "SZ-ZWFW", "ZWFW"), ("企业投资项目备案", "SZ-ZWFW", "ZWFW"),
             ("住房公积金单位开户", "SZ-GJJ", "")],
    "0202": [("政务服务大厅综合窗口", "SZ-ZWFW", "ZWFW"), ("不动产登记窗口", "SZ-ZRZY", "ZRZY"),
             ("办税服务厅窗口", "SZ-SW", "SW")],
    "0203": [("一网通办平台", "SZ-ZWFW", "ZWFW"), ("电子税务局", "SZ-SW", "SW"),
             ("社保登记网上经办系统", "SZ-RSJ", "RSJ")],
    "0204": [("社保登记", "SZ-RSJ", "RSJ"), ("不动产转移登记", "SZ-ZRZY", "ZRZY"),
             ("税务登记", "SZ-SW", "SW")],
    "0301": [("工业用地指标", "SZ-ZRZY", "ZRZY"), ("土地出让手续", "SZ-ZRZY", "ZRZY"),
             ("厂房不动产首次登记", "SZ-ZRZY", "ZRZY")],
    "0302": [("用电增容", "SZ-GDGS", ""), ("用水报装", "SZ-SWJT", ""),
             ("天然气报装", "SZ-RQGS", ""), ("集中供热接入", "SZ-RL", "")],
    "0303": [("招工", "SZ-RSJ", "RSJ"), ("季节性招工", "SZ-RSJ", "RSJ"),
             ("技能人才招工", "SZ-RSJ", "RSJ")],
    "0304": [("贷款续贷", "SZ-JRJ", ""), ("应急转贷", "SZ-JRJ", ""), ("融资担保", "SZ-JRJ", "")],
    "0401": [("研发费用加计扣除", "SZ-SW", "SW"), ("高新技术企业认定", "SZ-KJJ", ""),
             ("专精特新企业认定", "SZ-GXJ", "")],
    "0402": [("技改奖补", "SZ-GXJ", ""), ("稳岗补贴", "SZ-RSJ", "RSJ"),
             ("招商引资奖励", "SZ-TCJ", "")],
    "0403": [("留抵退税", "SZ-SW", "SW"), ("出口退税", "SZ-SW", "SW"),
             ("小微企业税费减免", "SZ-SW", "SW")],
    "0501": [("建设工程规划许可", "SZ-ZRZY", "ZRZY"), ("环评审批", "SZ-STHJ", "STHJ"),
             ("项目立项核准", "SZ-FGW", "FGJ")],
    "0502": [("施工许可", "SZ-ZJJ", "ZJJ"), ("施工图审查", "SZ-ZJJ", "ZJJ")],
    "0503": [("竣工联合验收", "SZ-ZJJ", "ZJJ"), ("消防验收", "SZ-ZJJ", "ZJJ")],
    "0601": [("行政执法检查", "SZ-SFJ", ""), ("安全生产检查", "SZ-YJJ", ""),
             ("环保检查", "SZ-STHJ", "STHJ")],
    "0602": [("市场监管行政处罚", "SZ-SCJG", "SCJG"), ("环保行政处罚", "SZ-STHJ", "STHJ"),
             ("交通运输行政处罚", "SZ-JTJ", "")],
    "0603": [("商标侵权", "SZ-SCJG", "SCJG"), ("专利侵权", "SZ-ZSCQ", "")],
    "0604": [("招投标", "SZ-FGW", "FGJ"), ("政府采购", "SZ-CZJ", "")],
    "0701": [("政府合同履约", "SZ-SFJ", ""), ("招商协议兑现", "SZ-TCJ", "")],
    "0702": [("国有企业拖欠的工程款", "SZ-GZW", ""), ("政府采购货款", "SZ-CZJ", "")],
    "0703": [("合同纠纷", "SZ-SFJ", ""), ("知识产权", "SZ-SFJ", ""), ("劳动用工", "SZ-SFJ", "")],
    "0801": [("公交线路", "SZ-JTJ", ""), ("物流通道", "SZ-JTJ", ""), ("道路修缮", "SZ-JTJ", "")],
    "0802": [("园区道路", "SZ-ZJJ", "ZJJ"), ("污水管网", "SZ-ZJJ", "ZJJ"),
             ("员工宿舍", "SZ-ZJJ", "ZJJ")],
    "0803": [("环评审批", "SZ-STHJ", "STHJ"), ("排污许可", "SZ-STHJ", "STHJ"),
             ("厂区周边异味", "SZ-STHJ", "STHJ")],
    "0901": [("推行免申即享", "SZ-YSB", "YSB"), ("增加夜间延时服务", "SZ-ZWFW", "ZWFW"),
             ("简化企业年报", "SZ-SCJG", "SCJG")],
    "0902": [("企业搬迁协调", "SZ-YSB", "YSB"), ("厂区周边停车管理", "SZ-CGJ", "")],
}  # fmt: skip
#: Sentences for each first-level category; ``{x}`` is the subject.
TEXTS = {
    "01": ["办理{x}时需要多次往返窗口，希望一次办结", "{x}网上申报材料被多次退回，希望给予指导"],
    "02": ["{x}办理时间超过承诺时限，希望加快", "{x}服务需要改进，办事体验不好"],
    "03": ["企业扩产急需解决{x}问题，希望协调", "{x}迟迟没有落实，影响项目投产"],
    "04": ["去年申报的{x}至今没有兑现到位", "想了解{x}政策的申报条件和流程"],
    "05": ["项目{x}办理时间长，希望加快", "{x}环节需要的材料不清楚，请给予指导"],
    "06": ["反映{x}问题，请依法处理", "对{x}有异议，请求复核"],
    "07": ["{x}问题长期得不到解决，企业资金周转困难", "需要{x}方面的帮助"],
    "08": ["企业周边{x}问题需要协调解决", "园区{x}不完善，影响生产经营"],
    "09": ["对优化营商环境的建议：{x}", "其他事项：{x}"],
}
#: Second-level categories whose subjects need sentences of their own.
CATEGORY_TEXTS = {
    "0203": ["{x}经常卡顿，材料无法上传", "{x}查询不到办理进度"],
    "0204": ["办理{x}被要求重复提交已提供过的证明材料", "{x}要求提供的证明材料过多"],
    "0603": ["企业遭遇{x}，希望依法查处", "{x}维权周期长，希望加快处理"],
    "0604": ["参与{x}时遇到隐性门槛，希望公平竞争", "{x}中存在地方保护倾向，请核查"],
    "0702": ["{x}至今尚未结清，企业资金周转困难", "多次催要{x}无果，请协调解决"],
    "0703": ["需要{x}方面的法律咨询", "希望提供{x}方面的法律指导"],
    "0803": ["反映{x}问题，希望尽快协调处理"],
}
REPLIES = [
    "经核实，已协调相关单位办理完毕，并电话告知企业。",
    "已安排专人对接，问题已解决，企业表示认可。",
    "经研究，按政策规定予以解释说明，并提供了替代办理方案。",
]
#: (channel, weight)
CHANNELS = [
    (Channel.PORTAL, 35),
    (Channel.HOTLINE_12345, 25),
    (Channel.STAFF_WINDOW, 15),
    (Channel.STAFF_FORUM, 10),
    (Channel.WECHAT_GROUP, 10),
    (Channel.API, 5),
]
FORUMS = [
    ("449901", "民营企业面对面座谈会", "区委书记、区长"),
    ("449902", "物流企业专题座谈会", "副市长"),
    ("449901", "科技型中小企业座谈会", "市营商办主任"),
    ("P449951", "园区企业家恳谈会", "园区管委会主任"),
    ("449902", "外贸企业座谈会", "副区长"),
    ("449901", "个体工商户代表座谈会", "区长"),
]
# States by the age of the request (days): older ones have mostly finished.
OLD = [
    ("closed", 80),
    ("replied", 5),
    ("unsatisfied", 2),
    ("referred", 1),
    ("merged", 4),
    ("withdrawn", 3),
    ("rejected", 3),
    ("handling", 2),
]
MIDDLE = [
    ("closed", 50),
    ("replied", 15),
    ("handling", 20),
    ("dispatched", 5),
    ("returned", 5),
    ("reply_review", 5),
]
RECENT = [
    ("submitted", 15),
    ("registered", 10),
    ("dispatched", 25),
    ("handling", 30),
    ("reply_review", 5),
    ("replied", 15),
]
# The transitions leading to each state (action, label, from, to).
_STEPS = {
    "register": ("register", "登记分类", "submitted", "registered"),
    "dispatch": ("dispatch", "派单", "registered", "dispatched"),
    "accept": ("accept", "签收", "dispatched", "handling"),
    "return": ("return", "退单", "handling", "returned"),
    "reply": ("reply", "答复企业", "handling", "replied"),
    "for_review": ("reply_for_review", "提交答复审核", "handling", "reply_review"),
    "good": ("revisit_satisfied", "回访（满意）", "replied", "closed"),
    "bad": ("revisit_unsatisfied", "回访（不满意）", "replied", "unsatisfied"),
    "second": ("second_assignment", "二次交办", "unsatisfied", "handling"),
    "refer": ("refer_discipline", "转纪委监委", "unsatisfied", "referred"),
    "merge": ("merge", "并单", "registered", "merged"),
    "withdraw": ("withdraw", "撤回", "registered", "withdrawn"),
    "reject": ("reject", "不予受理", "registered", "rejected"),
}
#: Steps the lead department takes; the office (营商办) takes the others, the enterprise withdraws.
DEPARTMENT_STEPS = frozenset({"accept", "return", "reply", "for_review"})
PATHS = {
    "submitted": [],
    "registered": ["register"],
    "dispatched": ["register", "dispatch"],
    "handling": ["register", "dispatch", "accept"],
    "returned": ["register", "dispatch", "accept", "return"],
    "reply_review": ["register", "dispatch", "accept", "for_review"],
    "replied": ["register", "dispatch", "accept", "reply"],
    "closed": ["register", "dispatch", "accept", "reply", "good"],
    "unsatisfied": ["register", "dispatch", "accept", "reply", "bad"],
    "referred": [
        "register",
        "dispatch",
        "accept",
        "reply",
        "bad",
        "second",
        "reply",
        "bad",
        "refer",
    ],
    "merged": ["register", "merge"],
    "withdrawn": ["register", "withdraw"],
    "rejected": ["register", "reject"],
}
SECOND_ASSIGNMENT_CLOSED = [
    "register",
    "dispatch",
    "accept",
    "reply",
    "bad",
    "second",
    "reply",
    "good",
]


def _pick(rng: Any, weighted: list[tuple[Any, int]]) -> Any:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def build_requests(ctx: Any) -> int:
    rng = ctx.rng("requests")
    calendar = get_calendar()
    now = timezone.now()
    today = timezone.localdate()
    categories = list(
        RequestCategory.objects.filter(parent__isnull=False, active=True).select_related("parent")
    )
    if not categories or not ctx.enterprises:
        return 0
    departments = ctx.departments
    by_region_suffix = {
        (d.region_id, d.code.split("-", 1)[-1]): d for d in departments.values() if "-" in d.code
    }
    fallback = departments.get("SZ-YSB") or next(iter(departments.values()))
    forums = Forum.objects.bulk_create(
        [
            Forum(
                held_on=today - dt.timedelta(days=30 + 55 * i),
                topic=topic,
                leaders=leaders,
                region=ctx.regions.get(code, ctx.root),
                location="政务服务中心会议室",
                note="企业代表围绕要素保障、惠企政策、审批服务提出意见建议，现场登记诉求。",
            )
            for i, (code, topic, leaders) in enumerate(FORUMS)
        ]
    )
    requests: list[EnterpriseRequest] = []
    plans: list[list[str]] = []
    enterprises = ctx.enterprises
    for index in range(TOTAL):
        age = rng.randint(0, 364)
        submitted = now - dt.timedelta(
            days=age, hours=rng.randint(0, 9), minutes=rng.randint(0, 59)
        )
        status = _pick(rng, OLD if age > 45 else MIDDLE if age > 15 else RECENT)
        path = list(PATHS[status])
        if status == "closed" and rng.random() < 0.06:
            path = list(SECOND_ASSIGNMENT_CLOSED)
        category = rng.choice(categories)
        top = category.parent.code if category.parent else category.code[:2]
        enterprise = rng.choice(enterprises)
        # The demo enterprise accounts follow a dozen requests each.
        showcase = ("donghu", "xishan", None, None, None, None, None, None, None, None)[index % 10]
        if showcase is not None and index % 20 < 10 and showcase in ctx.showcase:
            enterprise = ctx.showcase[showcase]
        channel = _pick(rng, CHANNELS)
        forum = None
        if channel == Channel.STAFF_FORUM:
            forum = rng.choice(forums)
            submitted = min(
                submitted,
                timezone.make_aware(dt.datetime.combine(forum.held_on, dt.time(15, 0))),
            )
        template = rng.choice(CATEGORY_TEXTS.get(category.code) or TEXTS.get(top, TEXTS["09"]))
        subject, city_code, suffix = rng.choice(TOPICS.get(category.code) or TOPICS["0902"])
        text = template.format(x=subject)
        lead = (
            by_region_suffix.get((enterprise.region_id, suffix))
            if suffix and rng.random() < 0.4
            else None
        ) or departments.get(city_code, fallback)
        dispatched_on = (submitted + dt.timedelta(days=1)).date()
        limit = category.time_limit_days
        due = calendar.add_working_days(dispatched_on, limit) if "dispatch" in path else None
        replied = submitted + dt.timedelta(days=max(1, limit * 1.2 * rng.random() + 1))
        bad_count = path.count("bad")
        closed_at = None
        if status in ("closed", "referred", "merged", "withdrawn", "rejected"):
            closed_at = (
                replied + dt.timedelta(days=2)
                if "reply" in path
                else submitted + dt.timedelta(days=2)
            )
            closed_at = min(closed_at, now)
        satisfaction = None
        if "good" in path:
            satisfaction = _pick(rng, [(5, 60), (4, 30), (3, 10)])
        elif bad_count:
            satisfaction = rng.choice([1, 2])
        requests.append(
            EnterpriseRequest(
                number=f"DEMO-{index:05d}",
                channel=channel,
                kind=category.default_kind,
                category=category,
                title=text[:30],
                text=f"{enterprise.name}反映：{text}。",
                enterprise=enterprise,
                contact_name=enterprise.contact_name or "联系人",
                contact_phone=enterprise.contact_phone or f"1380000{index:04d}",
                region=enterprise.region,
                publishable=rng.random() < 0.5,
                published=status == "closed" and rng.random() < 0.3,
                status=status,
                difficulty=category.difficulty if "dispatch" in path else "",
                time_limit_days=limit if "dispatch" in path else None,
                lead_department=lead if "dispatch" in path else None,
                deadline=due.date if due else None,
                deadline_provisional=due.provisional if due else False,
                submitted_at=submitted,
                dispatched_at=submitted + dt.timedelta(days=1) if "dispatch" in path else None,
                accepted_at=submitted + dt.timedelta(days=1, hours=3) if "accept" in path else None,
                first_accepted_at=submitted + dt.timedelta(days=1, hours=3)
                if "accept" in path
                else None,
                replied_at=min(replied, now) if "reply" in path else None,
                closed_at=closed_at,
                reply_text=rng.choice(REPLIES) if "reply" in path or "for_review" in path else "",
                satisfaction=satisfaction,
                resolved=(satisfaction >= 3) if satisfaction else None,
                second_assignment="second" in path,
                return_count=path.count("return"),
                supervised=status in ("handling", "unsatisfied") and rng.random() < 0.08,
                supervision_note="跨部门事项，营商办牵头协调" if status == "handling" else "",
                referred_at=closed_at if status == "referred" else None,
                submitted_by=ctx.users.get("enterprise")
                if channel == Channel.PORTAL and enterprise == ctx.showcase.get("donghu")
                else None,
                source_key=DEMO_SOURCE,
                external_id=f"12345-{submitted:%Y%m%d}-{index:04d}"
                if channel == Channel.HOTLINE_12345
                else "",
                forum=forum,
            )
        )
        plans.append(path)
    EnterpriseRequest.objects.bulk_create(requests)
    for r in requests:
        r.number = f"SQ{timezone.localtime(r.submitted_at).year}-{r.pk:06d}"
    EnterpriseRequest.objects.bulk_update(requests, ["number"])
    # Merged ones follow an earlier open request of the same category.
    open_by_category: dict[int, EnterpriseRequest] = {}
    merged: list[EnterpriseRequest] = []
    for r in requests:
        if r.status in ("handling", "dispatched", "registered") and r.category_id is not None:
            open_by_category.setdefault(r.category_id, r)
    for r in requests:
        if r.status == "merged":
            main = open_by_category.get(r.category_id or 0)
            if main is not None and main.pk != r.pk:
                r.duplicate_of = main
                merged.append(r)
    EnterpriseRequest.objects.bulk_update(merged, ["duplicate_of"])
    history: list[TransitionHistory] = []
    revisits: list[Revisit] = []
    messages: list[RequestMessage] = []
    label = EnterpriseRequest._meta.label_lower
    office_actor = office(ctx)
    for r, path in zip(requests, plans, strict=True):
        at = r.submitted_at
        revisit_round = 0
        staff = department_staff(ctx, r.lead_department)
        for step in path:
            action, action_label, source, target = _STEPS[step]
            if step == "reply" and r.replied_at:
                at = max(at, r.replied_at - dt.timedelta(hours=1))
            at = min(at + dt.timedelta(hours=6), now)
            note = {
                "return": "非本单位职责，申请改派",
                "second": "企业不满意，二次交办",
                "refer": "推诿拖延，转纪委监委",
            }.get(step, "")
            if step in DEPARTMENT_STEPS:
                actor, actor_label = staff
            elif step == "withdraw":
                actor, actor_label = (
                    None,
                    f"{r.enterprise.name if r.enterprise else '企业'}（企业）",
                )
            else:
                actor, actor_label = office_actor
            history.append(
                TransitionHistory(
                    object_type=label,
                    object_id=str(r.pk),
                    workflow="enterprise_request",
                    action=action,
                    action_label=action_label,
                    from_state=source,
                    to_state=target,
                    actor=actor,
                    actor_label=actor_label,
                    note=note,
                    at=at,
                )
            )
            if step == "reply":
                messages.append(
                    RequestMessage(
                        request=r,
                        kind=MessageKind.REPLY,
                        text=r.reply_text,
                        author=staff[0],
                        author_label=staff[1],
                        department=r.lead_department,
                        created_at=at,
                    )
                )
            if step in ("good", "bad"):
                revisit_round += 1
                satisfied = step == "good"
                revisits.append(
                    Revisit(
                        request=r,
                        round=revisit_round,
                        method=rng.choice([RevisitMethod.PHONE, RevisitMethod.RATING]),
                        satisfaction=(r.satisfaction or 4) if satisfied else rng.choice([1, 2]),
                        resolved=satisfied,
                        note="企业表示满意" if satisfied else "企业认为问题未解决",
                        by=office_actor[0],
                        by_label=office_actor[1],
                        at=at,
                    )
                )
            if step == "bad" and r.status in ("unsatisfied", "referred", "closed"):
                messages.append(
                    RequestMessage(
                        request=r,
                        kind=MessageKind.EXPLANATION,
                        text="因涉及多部门协调，办理进度滞后，已制定整改措施。",
                        author=staff[0],
                        author_label=staff[1],
                        department=r.lead_department,
                        created_at=at + dt.timedelta(hours=2),
                    )
                )
    seed_clocks(ctx, requests, history, messages)
    EnterpriseRequest.objects.bulk_update(requests, CLOCK_FIELDS)
    TransitionHistory.objects.bulk_create(history)
    Revisit.objects.bulk_create(revisits)
    RequestMessage.objects.bulk_create(messages)
    assert set(STATES) >= {r.status for r in requests}
    return len(requests)


def wipe_requests(city_path: str) -> None:
    """The demo requests (marked by their source), their history rows and the demo forums."""
    demo = EnterpriseRequest.objects.filter(source_key=DEMO_SOURCE)
    ids = [str(pk) for pk in demo.values_list("pk", flat=True)]
    TransitionHistory.objects.filter(
        object_type=EnterpriseRequest._meta.label_lower, object_id__in=ids
    ).delete()
    demo.update(duplicate_of=None)
    forum_ids = list(demo.exclude(forum=None).values_list("forum_id", flat=True).distinct())
    demo.delete()
    Forum.objects.filter(pk__in=forum_ids, requests__isnull=True).delete()
    Forum.objects.filter(region__path__startswith=city_path, requests__isnull=True).delete()


def demo_rate_months(today: dt.date | None = None) -> list[dt.date]:
    """The complete months of the demo requests: from the month of the first one to the month
    before today (the current month is still open, as for the scheduled publication), and no
    later than the last month of the demo records (their "today" is fixed), so that the newest
    period of the dashboards is one with every indicator, not one with the rates alone. Should
    the requests (dated from the real today) all come after the records, every complete month
    is published."""
    from sizhen.indicators.ingestion.demo_records import month_starts

    first = (
        EnterpriseRequest.objects.filter(source_key=DEMO_SOURCE)
        .order_by("submitted_at")
        .values_list("submitted_at", flat=True)
        .first()
    )
    if first is None:
        return []
    month = timezone.localtime(first).date().replace(day=1)
    last = Period.containing(today or timezone.localdate()).shift(-1).start
    months = []
    while month <= last:
        months.append(month)
        month = Period(month).shift(1).start
    records_last = month_starts()[-1]
    return [m for m in months if m <= records_last] or months


def publish_rates(ctx: Any) -> int:
    """Publish the 三率 of every demo month to the indicator leaves (BE15.08/09/10) through the
    same service as the daily job ``enterprise_requests.publish_rates``, as the system. Each
    month is one aggregate import (and its audit event) that scores the month; this step runs
    inside the demo load, before the records step computes and re-scores every period, so the
    published values are scored with the record-based ones. Returns the values written."""
    from sizhen.enterprise_requests import report

    written = 0
    for month in demo_rate_months():
        result = report.publish_rates(actor=None, month=month)
        written += int(result.get("created", 0)) + int(result.get("updated", 0))
    return written


def wipe_rates(city_path: str) -> None:
    """The published request rates (aggregate values of the mapped leaves)."""
    from sizhen.enterprise_requests.analysis import rate_settings
    from sizhen.indicators.catalogue.choices import SourceKind
    from sizhen.indicators.catalogue.models import IndicatorValue

    codes = list((rate_settings()["publish"] or {}).values())
    IndicatorValue.objects.filter(
        indicator__code__in=codes,
        source_kind=SourceKind.AGGREGATE,
        region__path__startswith=city_path,
    ).delete()
