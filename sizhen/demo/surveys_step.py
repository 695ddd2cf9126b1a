"""Demo step of the surveys (问卷调查): the 营商环境满意度调查 questionnaire (32 questions by
indicator, with skip logic, validation, a matrix and the consent to follow-up), its question
bank, one closed round of last half-year with more than the minimum sample of responses from
every district, county and park, its satisfaction index published into the indicators, one
answer turned into an enterprise request and one into a rectification item, and one open round
whose invitations include the demo enterprise accounts (they find it under 我的问卷).

Rows are seeds, written in bulk with the history rows the workflow engine would have written;
every generated answer set passes the questionnaire's own check (tests/test_demo_step.py). The
index and the follow-ups go through their services, as a coordinator would."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from sizhen.core.models import TransitionHistory
from sizhen.demo.people import office
from sizhen.enterprise_requests.models import EnterpriseRequest
from sizhen.indicators.catalogue.models import Indicator
from sizhen.indicators.ingestion.demo_records import region_quality
from sizhen.organisations.models import Enterprise
from sizhen.surveys.choices import (
    CONSENT_QUESTION,
    Channel,
    FollowUpKind,
    QuestionType,
    Topic,
    VersionSource,
)
from sizhen.surveys.models import (
    Answer,
    BankItem,
    FollowUp,
    Invitation,
    Question,
    Questionnaire,
    QuestionnaireVersion,
    Response,
    SurveyRound,
)
from sizhen.surveys.selectors import problem_of
from sizhen.surveys.services import answer_to_rectification, answer_to_request, publish_index
from sizhen.surveys.structure import (
    ChoiceData,
    FormData,
    QuestionData,
    SectionData,
    write_structure,
)
from sizhen.surveys.validation import numeric_value
from sizhen.surveys.workflow import CLOSED, OPEN, PUBLISHED, ROUND_WORKFLOW, VERSION_WORKFLOW

CODE = "satisfaction"
T = QuestionType
YES_NO = [ChoiceData("yes", "是"), ChoiceData("no", "否")]
LIKERT = [
    ChoiceData(str(n), label)
    for n, label in enumerate(("很不满意", "不满意", "一般", "满意", "很满意"), start=1)
]
SCALE_5 = {"start": 1, "end": 5, "step": 1}
SCALE_10 = {"start": 1, "end": 10, "step": 1}
#: Enterprises invited per region (district, county, park) in each round, and how many of the
#: closed round's answered in each region: above the index's minimum sample (30) everywhere.
CLOSED_PER_REGION = 40
CLOSED_ANSWERED = (32, 37)
OPEN_PER_REGION = 8


def _choices(*labels: str, names: tuple[str, ...] = ()) -> list[ChoiceData]:
    return [ChoiceData(names[i] if names else f"c{i + 1}", label) for i, label in enumerate(labels)]


def _rating(name: str, label: str, indicator: str, weight: float = 1.0, **extra: Any) -> Any:
    return (
        QuestionData(
            name=name,
            type=T.RATING,
            label=label,
            hint="1 分表示很不满意，5 分表示很满意",
            required=True,
            parameters=dict(SCALE_5),
            weight=weight,
            **extra,
        ),
        indicator,
    )


def _plain(question: QuestionData, indicator: str = "") -> Any:
    return (question, indicator)


#: (section name, label, topic, [(question, indicator code)]); 30 answerable questions.
SECTIONS: list[tuple[str, str, str, list[Any]]] = [
    (
        "basic",
        "一、企业基本情况",
        Topic.ENTERPRISE,
        [
            _plain(
                QuestionData(
                    "industry",
                    T.SINGLE,
                    "贵企业所属行业",
                    required=True,
                    choices=_choices(
                        "制造业", "批发和零售业", "信息技术服务业", "建筑业", "其他服务业", "其他"
                    ),
                )
            ),
            _plain(
                QuestionData(
                    "scale",
                    T.SINGLE,
                    "贵企业规模",
                    required=True,
                    choices=_choices("大型", "中型", "小型", "微型"),
                )
            ),
            _plain(
                QuestionData(
                    "employees",
                    T.INTEGER,
                    "目前在职员工人数",
                    required=True,
                    constraint=". >= 0 and . <= 1000000",
                    constraint_message="员工人数应在 0 到 1000000 之间",
                )
            ),
        ],
    ),
    (
        "government",
        "二、政务服务",
        Topic.GOVERNMENT_SERVICE,
        [
            _rating("gov_overall", "对政务服务中心“一窗受理、一次办成”的总体满意度", "BE15", 2.0),
            _rating("gov_online", "网上办事（“一网通办”）的便利程度", "BE15"),
            _plain(
                QuestionData(
                    "gov_problems",
                    T.MULTIPLE,
                    "近一年办事过程中遇到的主要问题（可多选）",
                    choices=_choices(
                        "提交材料多",
                        "多次跑腿",
                        "办理时间长",
                        "标准不统一",
                        "没有遇到问题",
                        "其他",
                        names=("materials", "trips", "slow", "standards", "none", "other"),
                    ),
                    constraint="not(selected(., 'none') and count-selected(.) > 1)",
                    constraint_message="选择“没有遇到问题”时不能再选其他问题",
                ),
                "BE15",
            ),
            _plain(
                QuestionData(
                    "gov_problem_detail",
                    T.TEXT,
                    "请具体说明遇到的其他问题",
                    relevant="selected(${gov_problems}, 'other')",
                ),
                "BE15",
            ),
        ],
    ),
    (
        "startup",
        "三、企业开办与工程建设",
        Topic.MARKET_ACCESS,
        [
            _rating("startup", "企业开办（登记、刻章、申领发票、社保登记）便利度", "BE01", 1.5),
            _plain(
                QuestionData(
                    "startup_days",
                    T.INTEGER,
                    "最近一次办理企业开办或变更登记用时（工作日）",
                    constraint=". >= 0 and . <= 60",
                    constraint_message="用时应在 0 到 60 个工作日之间",
                ),
                "BE01",
            ),
            _plain(
                QuestionData(
                    "permit_applied",
                    T.SINGLE,
                    "近两年是否办理过工程建设项目审批",
                    required=True,
                    choices=list(YES_NO),
                ),
                "BE02",
            ),
            _rating(
                "permit",
                "工程建设项目审批服务满意度",
                "BE02",
                relevant="${permit_applied} = 'yes'",
            ),
        ],
    ),
    (
        "factors",
        "四、要素保障",
        Topic.FACTORS,
        [
            _plain(
                QuestionData(
                    "utilities",
                    T.MATRIX,
                    "请对以下要素保障服务的满意度作出评价",
                    required=True,
                    rows=[
                        {"name": "u_power", "label": "用电报装（获得电力）"},
                        {"name": "u_water", "label": "用水报装"},
                        {"name": "u_gas", "label": "用气报装"},
                        {"name": "u_property", "label": "不动产登记"},
                    ],
                    choices=list(LIKERT),
                    list_name="likert",
                    weight=1.0,
                ),
                "BE03",
            ),
            _plain(
                QuestionData(
                    "power_outage",
                    T.SINGLE,
                    "过去一年是否经历过非计划停电",
                    required=True,
                    choices=_choices("没有", "1–2 次", "3 次及以上", names=("none", "few", "many")),
                ),
                "BE03",
            ),
            _rating("labour", "劳动用工（招聘、社保、劳动争议调解）服务满意度", "BE12"),
        ],
    ),
    (
        "finance",
        "五、融资信贷",
        Topic.FINANCING,
        [
            _plain(
                QuestionData(
                    "loan_applied",
                    T.SINGLE,
                    "过去一年是否向银行申请过贷款",
                    required=True,
                    choices=list(YES_NO),
                ),
                "BE06",
            ),
            _plain(
                QuestionData(
                    "loan_result",
                    T.SINGLE,
                    "贷款申请结果",
                    required=True,
                    relevant="${loan_applied} = 'yes'",
                    choices=_choices(
                        "全部获批", "部分获批", "未获批", names=("full", "partial", "refused")
                    ),
                ),
                "BE06",
            ),
            _rating(
                "finance",
                "融资服务（银行、担保、政策性贷款）满意度",
                "BE06",
                1.5,
                relevant="${loan_applied} = 'yes'",
            ),
            _plain(
                QuestionData(
                    "loan_days",
                    T.INTEGER,
                    "从申请到放款用时（天）",
                    relevant="${loan_applied} = 'yes' and ${loan_result} != 'refused'",
                    constraint=". >= 0 and . <= 365",
                    constraint_message="用时应在 0 到 365 天之间",
                ),
                "BE06",
            ),
        ],
    ),
    (
        "policy",
        "六、纳税与惠企政策",
        Topic.POLICY,
        [
            _rating("tax", "纳税缴费便利度（非接触式办税、退税速度）", "BE08", 1.5),
            _plain(
                QuestionData(
                    "policy_aware",
                    T.SINGLE,
                    "对本地惠企政策的知晓程度",
                    required=True,
                    choices=_choices(
                        "很清楚", "了解一些", "不了解", names=("well", "some", "none")
                    ),
                ),
                "BE18",
            ),
            _rating(
                "policy_benefit",
                "惠企政策兑现（“免申即享”“直达快享”）满意度",
                "BE18",
                relevant="${policy_aware} != 'none'",
            ),
            _rating(
                "public_services",
                "员工子女教育、医疗、住房等基本公共服务（人才安居配套）满意度",
                "BE18.04",
            ),
        ],
    ),
    (
        "regulation",
        "七、市场监管与法治环境",
        Topic.REGULATION,
        [
            _rating("inspection", "涉企检查（“综合查一次”、双随机抽查）的规范程度", "BE17"),
            _plain(
                QuestionData(
                    "inspection_count",
                    T.INTEGER,
                    "过去一年接受各类行政检查的次数",
                    constraint=". >= 0 and . <= 100",
                    constraint_message="检查次数应在 0 到 100 之间",
                ),
                "BE17",
            ),
            _rating("contract", "合同纠纷解决（诉讼、调解、执行）的效率", "BE10"),
            _rating("procurement", "政府采购和招标投标的公平公正程度", "BE14"),
            _rating("ip", "知识产权保护力度", "BE16.02"),
            _plain(
                QuestionData(
                    "arrears",
                    T.SINGLE,
                    "是否存在被政府部门或国有企业拖欠账款的情况",
                    required=True,
                    choices=_choices(
                        "没有", "有，已解决", "有，尚未解决", names=("none", "solved", "open")
                    ),
                ),
                "BE13",
            ),
        ],
    ),
    (
        "overall",
        "八、总体评价",
        Topic.OVERALL,
        [
            _plain(
                QuestionData(
                    "overall",
                    T.RATING,
                    "对本地营商环境的总体评价（1–10 分）",
                    hint="1 分最低，10 分最高",
                    required=True,
                    parameters=dict(SCALE_10),
                    weight=3.0,
                ),
                "BE",
            ),
            _plain(
                QuestionData(
                    "recommend",
                    T.SINGLE,
                    "是否愿意推荐其他企业来本地投资",
                    required=True,
                    choices=_choices("愿意", "不确定", "不愿意", names=("yes", "maybe", "no")),
                ),
                "BE",
            ),
            _plain(
                QuestionData(
                    "suggestions",
                    T.TEXT,
                    "对进一步优化营商环境的意见和建议",
                ),
                "BE",
            ),
            _plain(
                QuestionData(
                    CONSENT_QUESTION,
                    T.SINGLE,
                    "是否同意将贵企业在本问卷中反映的问题转交有关部门作为企业诉求办理"
                    "（有关部门可能与贵企业联系）",
                    required=True,
                    choices=list(YES_NO),
                )
            ),
            _plain(QuestionData("thanks", T.NOTE, "问卷到此结束，感谢贵企业的支持！")),
        ],
    ),
]

SUGGESTIONS = (
    "希望进一步压缩工程建设项目审批时间",
    "建议增加政务服务中心周末延时服务",
    "惠企政策申报材料仍然偏多，希望实现免申即享",
    "希望银行对小微企业的信用贷款放款更快",
    "涉企检查频次较高，希望统筹合并",
    "用电报装费用较高，希望进一步降低",
    "希望加强知识产权侵权的执法力度",
    "招投标中存在隐性门槛，希望清理",
    "",
    "",
    "",
)
GOV_OTHER = ("部分事项线上线下标准不一致", "窗口人员对新政策不熟悉", "预约号源紧张")


def _form() -> tuple[FormData, list[tuple[QuestionData, str, str]]]:
    form = FormData(
        code=CODE,
        title="营商环境满意度调查问卷",
        settings={"form_title": "营商环境满意度调查问卷", "form_id": CODE, "version": "1"},
    )
    planned: list[tuple[QuestionData, str, str]] = []
    for name, label, topic, questions in SECTIONS:
        section = SectionData(name=name, label=label)
        for question, indicator in questions:
            if question.type != T.NOTE:
                question.bank_code = f"SAT_{question.name.upper()}"
            section.questions.append(question)
            planned.append((question, indicator, topic))
        form.sections.append(section)
    return form, planned


def _bank(planned: list[tuple[QuestionData, str, str]]) -> dict[str, int]:
    indicators = dict(
        Indicator.objects.filter(code__in={i for _q, i, _t in planned if i}).values_list(
            "code", "pk"
        )
    )
    items = BankItem.objects.bulk_create(
        [
            BankItem(
                code=q.bank_code,
                topic=topic,
                indicator_id=indicators.get(indicator),
                type=q.type,
                label=q.label,
                hint=q.hint,
                choices=[{"name": c.name, "label": c.label} for c in q.choices],
                rows=q.rows,
                parameters=q.parameters,
                weight=q.weight,
            )
            for q, indicator, topic in planned
            if q.bank_code
        ]
    )
    return {item.code: item.pk for item in items}


def _answers(rng: random.Random, mood: float) -> dict[str, Any]:
    """One enterprise's answers, consistent with the skip logic; ``mood`` (about 3–4.5) is
    its region's average satisfaction on the 1–5 scale."""

    def rate(shift: float = 0.0) -> int:
        return max(1, min(5, round(rng.gauss(mood + shift, 0.8))))

    answers: dict[str, Any] = {
        "industry": rng.choice(["c1", "c1", "c2", "c3", "c4", "c5", "c6"]),
        "scale": rng.choice(["c2", "c3", "c3", "c4", "c4", "c4"]),
        "employees": rng.choice([3, 8, 15, 26, 40, 75, 120, 300]),
        "gov_overall": rate(0.2),
        "gov_online": rate(),
        "startup": rate(0.3),
        "permit_applied": "yes" if rng.random() < 0.3 else "no",
        "utilities": {
            row: str(rate(shift))
            for row, shift in (("u_power", 0), ("u_water", 0.1), ("u_gas", -0.1), ("u_property", 0))
        },
        "power_outage": rng.choice(["none", "none", "none", "few", "many"]),
        "labour": rate(-0.1),
        "loan_applied": "yes" if rng.random() < 0.45 else "no",
        "tax": rate(0.2),
        "policy_aware": rng.choice(["well", "some", "some", "none"]),
        "inspection": rate(),
        "inspection_count": rng.choice([0, 1, 1, 2, 3, 5]),
        "contract": rate(-0.3),
        "procurement": rate(-0.2),
        "ip": rate(-0.1),
        "public_services": rate(-0.2),
        "arrears": rng.choice(["none"] * 8 + ["solved", "open"]),
        "overall": max(1, min(10, round(rng.gauss(mood * 2, 1.4)))),
        "recommend": rng.choice(["yes", "yes", "maybe"] if mood >= 3.8 else ["yes", "maybe", "no"]),
        CONSENT_QUESTION: "yes" if rng.random() < 0.6 else "no",
    }
    if rng.random() < 0.8:
        answers["startup_days"] = rng.choice([1, 1, 2, 3, 5])
    problems = rng.sample(["materials", "trips", "slow", "standards", "other"], rng.randint(0, 2))
    answers["gov_problems"] = problems or ["none"]
    if "other" in problems:
        answers["gov_problem_detail"] = rng.choice(GOV_OTHER)
    if answers["permit_applied"] == "yes":
        answers["permit"] = rate(-0.3)
    if answers["loan_applied"] == "yes":
        answers["loan_result"] = rng.choice(["full", "full", "partial", "refused"])
        answers["finance"] = rate(-0.4)
        if answers["loan_result"] != "refused":
            answers["loan_days"] = rng.choice([7, 15, 20, 30, 45])
    if answers["policy_aware"] != "none":
        answers["policy_benefit"] = rate(-0.2)
    suggestion = rng.choice(SUGGESTIONS)
    if suggestion:
        answers["suggestions"] = suggestion
    return answers


def _history(ctx: Any, obj: Any, workflow: Any, steps: list[tuple[str, Any]]) -> list[Any]:
    """Questionnaires and rounds are published, opened and closed by the office (营商办)."""
    actor, actor_label = office(ctx)
    rows = []
    for action, at in steps:
        transition = next(t for t in workflow.transitions if t.action == action)
        rows.append(
            TransitionHistory(
                at=at,
                object_type=obj._meta.label_lower,
                object_id=str(obj.pk),
                workflow=workflow.name,
                action=action,
                action_label=transition.label,
                from_state=transition.source[0],
                to_state=transition.target,
                actor=actor,
                actor_label=actor_label,
            )
        )
    return rows


def _sample(
    rng: random.Random, by_region: dict[int, list[Enterprise]], per_region: int
) -> list[Any]:
    chosen = []
    for region_id in sorted(by_region):
        pool = by_region[region_id]
        chosen.extend(rng.sample(pool, min(per_region, len(pool))))
    return chosen


def build_surveys(ctx: Any) -> int:
    """Returns the number of submitted responses."""
    rng = ctx.rng("surveys")
    now = timezone.now()
    today = timezone.localdate()
    form, planned = _form()
    bank = _bank(planned)
    questionnaire = Questionnaire.objects.create(
        code=CODE,
        title=form.title,
        description="年度营商环境市场主体满意度调查（问诊），按指标体系设计题目，结果用于满意度指数和问题整改。",
        created_at=now - dt.timedelta(days=200),
    )
    version = QuestionnaireVersion.objects.create(
        questionnaire=questionnaire,
        number=1,
        status=PUBLISHED,
        source=VersionSource.BUILDER,
        form_settings=form.settings,
        created_at=now - dt.timedelta(days=200),
        published_at=now - dt.timedelta(days=195),
    )
    write_structure(version, form, bank)
    questions = {q.name: q for q in Question.objects.filter(version=version)}
    history = _history(ctx, version, VERSION_WORKFLOW, [("publish", now - dt.timedelta(days=195))])

    regions = [r for r in ctx.regions.values() if r.code != ctx.root.code]
    by_region: dict[int, list[Enterprise]] = {}
    for enterprise in ctx.enterprises:
        by_region.setdefault(enterprise.region_id, []).append(enterprise)
    # A region's satisfaction follows its quality in the records (东湖区 leads, 青石市 lags).
    mood = {
        r.pk: round(
            min(4.5, max(3.0, 3.8 - 2.0 * (region_quality(r.code, today) - 1)))
            + rng.uniform(-0.15, 0.15),
            2,
        )
        for r in sorted(regions, key=lambda r: r.code)
    }

    closed_deadline = today - dt.timedelta(days=75)
    closed = SurveyRound.objects.create(
        questionnaire=questionnaire,
        form_version=version,
        title=f"{closed_deadline.year}年营商环境满意度调查（第一轮）",
        region=ctx.root,
        deadline=closed_deadline,
        status=CLOSED,
        opened_at=now - dt.timedelta(days=110),
        closed_at=now - dt.timedelta(days=74),
        created_at=now - dt.timedelta(days=115),
        version=3,
    )
    open_round = SurveyRound.objects.create(
        questionnaire=questionnaire,
        form_version=version,
        title=f"{today.year}年营商环境满意度调查（第二轮）",
        region=ctx.root,
        deadline=today + dt.timedelta(days=21),
        status=OPEN,
        opened_at=now - dt.timedelta(days=9),
        created_at=now - dt.timedelta(days=12),
        version=2,
    )
    history += _history(
        ctx, closed, ROUND_WORKFLOW, [("open", closed.opened_at), ("close", closed.closed_at)]
    )
    history += _history(ctx, open_round, ROUND_WORKFLOW, [("open", open_round.opened_at)])

    showcase = set(e.pk for e in ctx.showcase.values())
    closed_invited = _sample(rng, by_region, CLOSED_PER_REGION)
    open_invited = _sample(
        rng,
        {k: [e for e in v if e.pk not in showcase] for k, v in by_region.items()},
        OPEN_PER_REGION,
    )
    # The demo enterprise accounts have an open invitation waiting under 我的问卷.
    open_invited += [e for e in ctx.showcase.values() if e.pk not in {x.pk for x in open_invited}]
    panel = {e.pk for e in closed_invited[::4]}
    # Every panel enterprise (企业监测点) answered, and enough others in each region.
    closed_answered: set[int] = set()
    for region_id in sorted(by_region):
        chosen = [e for e in closed_invited if e.region_id == region_id]
        chosen.sort(key=lambda e: e.pk not in panel)
        closed_answered.update(e.pk for e in chosen[: rng.randint(*CLOSED_ANSWERED)])
    invitations: list[Invitation] = []
    plans: list[tuple[Invitation, SurveyRound, dt.datetime | None]] = []
    for enterprise in closed_invited:
        answered = enterprise.pk in closed_answered
        at = now - dt.timedelta(days=rng.randint(76, 108), hours=rng.randint(0, 9))
        invitation = Invitation(
            round=closed,
            enterprise=enterprise,
            panel=enterprise.pk in panel,
            sent_at=closed.opened_at,
            answered_at=at if answered else None,
            created_at=closed.created_at,
        )
        invitations.append(invitation)
        plans.append((invitation, closed, at if answered else None))
    for enterprise in open_invited:
        answered = enterprise.pk not in showcase and rng.random() < 0.35
        at = now - dt.timedelta(days=rng.randint(0, 8), hours=rng.randint(0, 9))
        invitation = Invitation(
            round=open_round,
            enterprise=enterprise,
            panel=enterprise.pk in panel,
            sent_at=open_round.opened_at,
            answered_at=at if answered else None,
            created_at=open_round.created_at,
        )
        invitations.append(invitation)
        plans.append((invitation, open_round, at if answered else None))
    Invitation.objects.bulk_create(invitations)

    responses: list[Response] = []
    answer_sets: list[dict[str, Any]] = []
    for invitation, survey_round, answered_at in plans:
        if answered_at is None:
            continue
        at = answered_at
        enterprise = invitation.enterprise
        responses.append(
            Response(
                round=survey_round,
                form_version=version,
                enterprise=enterprise,
                region_id=enterprise.region_id,
                invitation=invitation,
                channel=rng.choice([Channel.ACCOUNT, Channel.LINK, Channel.LINK, Channel.PAPER]),
                source_key="system",
                started_at=at - dt.timedelta(minutes=rng.randint(6, 40)),
                updated_at=at,
                submitted_at=at,
            )
        )
        answer_sets.append(_answers(rng, mood[enterprise.region_id]))
    Response.objects.bulk_create(responses)
    _insert_answers(
        (response.pk, questions[name], value)
        for response, answers in zip(responses, answer_sets, strict=True)
        for name, value in answers.items()
    )
    TransitionHistory.objects.bulk_create(history)
    coordinator = ctx.users["coordinator"]
    publish_index(closed, actor=coordinator)
    _follow_ups(ctx, [r for r in responses if r.round_id == closed.pk], coordinator)
    return len(responses)


def _insert_answers(rows: Iterable[tuple[int, Question, Any]]) -> None:
    """Write the answers (about 15,000) in one prepared statement: building and compiling a
    model instance each was most of the step's time. The value goes through the JSON field's
    own adaptation, so that it is stored as ``Answer.objects.create`` would store it."""
    field = Answer._meta.get_field("value")
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in ("response_id", "question_id", "value", "number"))
    sql = f"INSERT INTO {quote(Answer._meta.db_table)} ({columns}) VALUES (%s, %s, %s, %s)"  # noqa: S608 - quoted names of the model
    params = [
        (
            response_id,
            question.pk,
            field.get_db_prep_save(value, connection),
            numeric_value(question.type, value),
        )
        for response_id, question, value in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _follow_ups(ctx: Any, responses: list[Response], coordinator: Any) -> None:
    """A written suggestion of an enterprise that consented becomes its request (问卷调查
    channel); a dissatisfied rating of IP protection becomes a ledger item of the market
    regulator."""
    consenting = set(
        Answer.objects.filter(
            response__in=responses, question__name=CONSENT_QUESTION, value="yes"
        ).values_list("response_id", flat=True)
    )
    suggestion = (
        Answer.objects.filter(
            response_id__in=consenting, question__name="suggestions", response__region__depth=1
        )
        .select_related("response__region", "question")
        .order_by("response_id")
        .first()
    )
    if suggestion is not None:
        answer_to_request(
            suggestion,
            actor=coordinator,
            kind="suggestion",
            text=f"{suggestion.response.region.name}企业在满意度调查中反映：{suggestion.value}",
        )
    for answer in (
        Answer.objects.filter(response__in=responses, question__name="ip", number__lte=2)
        .select_related("question", "response")
        .order_by("response_id")
    ):
        if problem_of(answer.question, answer.value):
            answer_to_rectification(
                answer,
                actor=coordinator,
                title="企业反映知识产权侵权维权难、保护力度不足",
                description="满意度调查中企业对知识产权保护力度评分低于“一般”。",
                lead_department=ctx.departments["SZ-SCJG"],
                measures="开通知识产权快速维权通道，开展侵权专项执法行动并公开典型案例",
                working_days=30,
            )
            break


#: Responses (and their answers) deleted per statement when the demo is loaded again.
WIPE_BATCH = 2000


def wipe_surveys(city_path: str) -> None:
    """The demo city's surveys (a demo database only), with their history rows."""
    rounds = SurveyRound.objects.filter(region__path__startswith=city_path)
    questionnaire_ids = set(rounds.values_list("questionnaire_id", flat=True))
    questionnaire_ids |= set(Questionnaire.objects.filter(code=CODE).values_list("pk", flat=True))
    versions = QuestionnaireVersion.objects.filter(questionnaire_id__in=questionnaire_ids)
    for model, ids in (
        (SurveyRound, rounds.values_list("pk", flat=True)),
        (QuestionnaireVersion, versions.values_list("pk", flat=True)),
    ):
        TransitionHistory.objects.filter(
            object_type=model._meta.label_lower, object_id__in=[str(pk) for pk in ids]
        ).delete()
    # By lists of ids rather than joined subqueries: right after the demo's bulk inserts
    # PostgreSQL has no statistics for these tables, and its plan for the joined delete ran
    # for more than forty minutes over the demo's answers.
    round_ids = list(rounds.values_list("pk", flat=True))
    version_ids = list(versions.values_list("pk", flat=True))
    response_ids = list(
        Response.objects.filter(
            Q(round_id__in=round_ids) | Q(form_version_id__in=version_ids)
        ).values_list("pk", flat=True)
    )
    # The requests the follow-ups created (the ledger items go with the rectification step's).
    follow_ups = FollowUp.objects.filter(response_id__in=response_ids)
    requests = EnterpriseRequest.objects.filter(
        pk__in=list(
            follow_ups.filter(kind=FollowUpKind.REQUEST).values_list("target_id", flat=True)
        )
    )
    TransitionHistory.objects.filter(
        object_type=EnterpriseRequest._meta.label_lower,
        object_id__in=[str(pk) for pk in requests.values_list("pk", flat=True)],
    ).delete()
    follow_ups.delete()
    requests.delete()
    for start in range(0, len(response_ids), WIPE_BATCH):
        batch = response_ids[start : start + WIPE_BATCH]
        Answer.objects.filter(response_id__in=batch).delete()
        Response.objects.filter(pk__in=batch).delete()
    question_ids = list(
        Question.objects.filter(version_id__in=version_ids).values_list("pk", flat=True)
    )
    Answer.objects.filter(question_id__in=question_ids).delete()
    SurveyRound.objects.filter(pk__in=round_ids).delete()
    SurveyRound.objects.filter(questionnaire_id__in=questionnaire_ids).delete()
    Questionnaire.objects.filter(pk__in=questionnaire_ids).delete()
    BankItem.objects.filter(code__startswith="SAT_").delete()


__all__ = ["build_surveys", "wipe_surveys"]
