"""The demo city's training (营商培训): an interpretation document (PDF, generated from the
catalogue's definitions) for every first-level indicator, 个性 work notes (PDF) for the lead
departments of a few, a short interpretation video (a WebM made offline with Chromium's
MediaRecorder, committed under sizhen/training/demo/), a question bank generated from the
catalogue (units, directions, lead departments, the indicator tree) plus hand-written
questions on business-environment policy, a compulsory course assigned to units with progress,
one finished exam with results for several demo people (and so a wrong-answer book for the
department account 刘芳), and an open practice exam."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone

from sizhen.core.documents import build_pdf, pdf_font
from sizhen.core.models import TransitionHistory
from sizhen.indicators.catalogue.models import Indicator
from sizhen.training import services
from sizhen.training.choices import Audience, Difficulty, MaterialKind, QuestionKind
from sizhen.training.models import (
    Attempt,
    Course,
    CourseMaterial,
    Exam,
    Material,
    MaterialProgress,
    Question,
    WrongAnswer,
)

VIDEO = Path(__file__).resolve().parents[1] / "training" / "demo" / "kaiban-jiedu.webm"
DIRECTION_TEXT = {"higher_is_better": "越高越好", "lower_is_better": "越低越好"}

#: Hand-written questions on business-environment policy: (kind, stem, options, answer,
#: explanation, difficulty, tags).
POLICY_QUESTIONS: tuple[tuple[str, str, list[str], str, str, str, str], ...] = (
    ("single", "《优化营商环境条例》自哪一年起施行？", ["2018 年", "2019 年", "2020 年", "2021 年"], "C",
     "《优化营商环境条例》于 2019 年 10 月公布，自 2020 年 1 月 1 日起施行。", "easy", "政策法规"),
    ("single", "营商环境评价中“前沿距离”得分的满分是多少？", ["10 分", "60 分", "100 分", "120 分"], "C",
     "前沿距离法把指标值换算为 0–100 分，最优值得 100 分。", "easy", "评价方法"),
    ("multiple", "企业开办“一网通办”通常包括哪些事项？",
     ["营业执照", "公章刻制", "涉税事项", "不动产登记"], "ABC",
     "企业开办一般包括设立登记、公章刻制、申领发票和税控设备、社保和公积金登记等，不含不动产登记。",
     "medium", "开办企业"),
    ("multiple", "企业诉求“三率”指的是哪三项？", ["响应率", "解决率", "满意率", "回访率"], "ABC",
     "“三率”为诉求响应率、解决率和满意率。", "easy", "企业诉求"),
    ("true_false", "法定时限按自然日计算，不扣除法定节假日。", [], "错误",
     "法定办理时限一般按工作日计算，扣除法定节假日并计入调休上班日。", "medium", "办理时限"),
    ("true_false", "“双随机、一公开”指随机抽取检查对象、随机选派执法检查人员、抽查情况及查处结果及时向社会公开。",
     [], "正确", "这是“双随机、一公开”监管的定义。", "easy", "事中事后监管"),
    ("fill", "营商环境评价通常把各指标的原始值换算为得分，所用方法称为“____法”。", [], "前沿距离|前沿距离法",
     "世界银行营商环境评价采用前沿距离（DTF）法。", "medium", "评价方法"),
    ("fill", "政务服务“好差评”采用____级评价。", [], "五|5|五级",
     "“好差评”分为非常满意、满意、基本满意、不满意、非常不满意五级。", "easy", "政务服务"),
    ("fill", "整改清单中的问题经核验整改效果后方可____。", [], "销号",
     "整改事项须有佐证材料并经效果核验后才能销号。", "easy", "整改清单"),
    ("fill", "企业诉求办结后对企业进行电话或上门询问满意度，称为____。", [], "回访",
     "回访是诉求闭环的最后一步。", "easy", "企业诉求"),
    ("single", "对连续两年反复出现的整改问题，平台的处理是？",
     ["自动删除", "标记为反复出现", "降低优先级", "转为企业诉求"], "B",
     "整改清单对与往年同类问题标记“反复出现”，供督办重点关注。", "medium", "整改清单"),
    ("single", "以下哪项是“无感监测”的含义？",
     ["企业填报问卷", "从业务系统自动采集办件数据", "电话抽查", "现场检查"], "B",
     "无感监测指不增加企业和部门负担，直接从业务系统采集全量办件数据。", "medium", "监测方法"),
    ("true_false", "比率类指标向上汇总时，应先汇总分子和分母再相除，而不是对下级比率取平均。", [], "正确",
     "比率汇总按“比率的和之比”，避免小样本地区权重过大。", "hard", "评价方法"),
    ("multiple", "提醒函一般写明哪些内容？", ["指标表现", "整改要求", "完成时限", "企业名单"], "ABC",
     "提醒函写明指标表现与对标差距、整改要求和完成时限。", "medium", "提醒函"),
    ("fill", "工作任务逾期未办结时，由营商办进行____。", [], "督办|挂牌督办",
     "逾期或进展缓慢的任务由营商办督办，重点任务挂牌督办。", "medium", "督办"),
    ("single", "“一件事一次办”的目标是？", ["多次跑动", "一次告知、一表申请、一次办成", "线下办理", "邮寄办理"], "B",
     "“一件事一次办”通过集成服务实现一次告知、一表申请、一次办成。", "easy", "政务服务"),
    ("true_false", "企业满意度调查的结果可以作为营商环境指标值发布。", [], "正确",
     "满意度指数按调查轮次计算后发布为指标值。", "medium", "问卷调查"),
    ("fill", "诉求受理后应在规定时限内联系企业，这一时限内联系的比例称为诉求____率。", [], "响应",
     "响应率是规定时限内联系企业的诉求占比。", "medium", "企业诉求"),
    ("multiple", "以下哪些属于整改事项的来源？", ["评估反馈问题", "监测预警", "企业诉求分析", "天气预报"], "ABC",
     "整改事项来自评估反馈、监测预警、诉求分析、督查检查和问卷调查。", "easy", "整改清单"),
    ("single", "工作日历中因节假日调整而上班的周末称为？", ["休息日", "调休上班日", "法定节假日", "补休日"], "B",
     "调休上班日按工作日计算时限。", "easy", "办理时限"),
)  # fmt: skip


def _pdf(title: str, paragraphs: Sequence[str]) -> bytes:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph, Spacer

    font = pdf_font()
    heading = ParagraphStyle("h", fontName=font, fontSize=16, leading=24, spaceAfter=10)
    body = ParagraphStyle("b", fontName=font, fontSize=11, leading=18, wordWrap="CJK")
    story: list[Any] = [Paragraph(title, heading)]
    for text in paragraphs:
        story += [Paragraph(text, body), Spacer(1, 6)]
    return build_pdf(story, title=title)


def _interpretation(indicator: Indicator, children: Sequence[Indicator]) -> list[str]:
    lead = indicator.lead_department.name if indicator.lead_department else "营商办"
    paragraphs = [
        f"一、指标说明：{indicator.definition or indicator.name}",
        f"二、牵头部门：{lead}。责任部门按各二级指标分工负责。",
        "三、二级指标：",
    ]
    for child in children:
        unit = f"（单位：{child.unit}，{DIRECTION_TEXT.get(child.direction, '')}）"
        paragraphs.append(f"{child.code} {child.name}{unit}：{child.definition or child.name}")
    paragraphs.append(
        "四、学习要点：对照指标定义梳理本单位的办理环节、时限和材料，"
        "关注与标杆城市的差距，在日常工作中落实“无感监测”的数据质量要求。"
    )
    return paragraphs


def _materials(ctx: Any, user: Any) -> list[Material]:
    firsts = list(Indicator.objects.filter(level=1).order_by("sort_order", "code"))
    children: dict[int, list[Indicator]] = {}
    for child in Indicator.objects.filter(parent__in=firsts).order_by("sort_order", "code"):
        children.setdefault(child.parent_id or 0, []).append(child)
    materials = []
    for order, indicator in enumerate(firsts, start=1):
        material = Material(
            title=f"“{indicator.name}”指标解读",
            kind=MaterialKind.DOCUMENT,
            topic="指标解读",
            indicator=indicator,
            audience=Audience.COMMON,
            description=f"{indicator.code} {indicator.name} 的指标定义、二级指标与学习要点。",
            minutes=15,
            sort_order=order,
            created_by=user,
        )
        content = _pdf(material.title, _interpretation(indicator, children.get(indicator.pk, [])))
        material.file_name = f"{indicator.code}-{indicator.name}指标解读.pdf"
        material.size = len(content)
        material.file.save(material.file_name, ContentFile(content), save=False)
        materials.append(material)
    # 个性: work notes for the lead departments of the first six indicators (PDF too: a Word
    # document costs about ten times as much to build, and the demo's time budget is small).
    for order, indicator in enumerate(firsts[:6], start=100):
        title = f"“{indicator.name}”牵头部门工作要点"
        notes = [
            *_interpretation(indicator, children.get(indicator.pk, []))[:2],
            "本单位应每月核对办件数据的完整性，对预警指标在 5 个工作日内说明原因。",
        ]
        content = _pdf(title, notes)
        material = Material(
            title=title,
            kind=MaterialKind.DOCUMENT,
            topic="部门工作要点",
            indicator=indicator,
            audience=Audience.SPECIFIC,
            minutes=10,
            sort_order=order,
            created_by=user,
            file_name=f"{indicator.code}-工作要点.pdf",
            size=len(content),
        )
        material.file.save(material.file_name, ContentFile(content), save=False)
        materials.append(material)
    video = Material(
        title="开办企业指标解读（视频）",
        kind=MaterialKind.VIDEO,
        topic="指标解读",
        indicator=firsts[0] if firsts else None,
        audience=Audience.COMMON,
        description="示范市录制的一分钟指标解读短片：一网通办、一表申请、一个工作日内办结。",
        minutes=1,
        sort_order=0,
        created_by=user,
        file_name="开办企业指标解读.webm",
        size=VIDEO.stat().st_size,
    )
    video.file.save(video.file_name, ContentFile(VIDEO.read_bytes()), save=False)
    materials.insert(0, video)
    Material.objects.bulk_create(materials)
    for material in materials:
        if material.audience == Audience.SPECIFIC and material.indicator is not None:
            material.departments.set(services._default_departments(material.indicator))
    return materials


def _options(
    rng: random.Random, right: str, pool: Sequence[str], count: int = 4
) -> tuple[list[str], str]:
    others = [p for p in dict.fromkeys(pool) if p != right]
    options = [*rng.sample(others, min(count - 1, len(others))), right]
    rng.shuffle(options)
    return options, "ABCDEF"[options.index(right)]


def _single(
    rng: random.Random, indicator: Indicator, aspect: str, right: str, pool: Sequence[str]
) -> dict[str, Any]:
    """A single-choice question on one aspect of an indicator (its lead department, its
    unit), the wrong options drawn from the other indicators' values."""
    options, letter = _options(rng, right, pool)
    parent = indicator.parent.name if indicator.parent else ""
    return {
        "kind": QuestionKind.SINGLE,
        "indicator": indicator,
        "difficulty": Difficulty.MEDIUM,
        "stem": f"“{indicator.name}”指标的{aspect}是？",
        "options": options,
        "answer": [letter],
        "explanation": f"按指标定义，{aspect}为“{right}”。",
        "tags": f"，{parent}，{aspect}，",
    }


def _questions(rng: random.Random, user: Any) -> list[Question]:
    seconds = list(
        Indicator.objects.filter(level=2).select_related("parent", "lead_department")
        .order_by("sort_order", "code")
    )  # fmt: skip
    units = [i.unit for i in seconds if i.unit and i.unit != "分"]
    departments = [i.lead_department.name for i in seconds if i.lead_department]
    firsts = list(Indicator.objects.filter(level=1).order_by("sort_order", "code"))
    rows: list[dict[str, Any]] = []
    for indicator in seconds:
        parent = indicator.parent.name if indicator.parent else ""
        rows.append({
            "kind": QuestionKind.TRUE_FALSE, "indicator": indicator, "difficulty": Difficulty.EASY,
            "stem": f"“{indicator.name}”（{parent}）是{DIRECTION_TEXT['higher_is_better']}的正向指标。",
            "options": ["正确", "错误"],
            "answer": ["A" if indicator.direction == "higher_is_better" else "B"],
            "explanation": f"该指标{DIRECTION_TEXT.get(indicator.direction, '')}。{indicator.definition[:80]}",
            "tags": f"，{parent}，指标方向，",
        })  # fmt: skip
        if indicator.lead_department:
            rows.append(
                _single(rng, indicator, "牵头部门", indicator.lead_department.name, departments)
            )
        if indicator.unit and indicator.unit != "分" and len(set(units)) >= 4:
            rows.append(_single(rng, indicator, "计量单位", indicator.unit, units))
    for first in firsts:
        kids = [i for i in seconds if i.parent_id == first.pk]
        strangers = [i.name for i in seconds if i.parent_id != first.pk]
        if len(kids) >= 2 and len(strangers) >= 2:
            right = rng.sample([k.name for k in kids], 2)
            wrong = rng.sample(strangers, 2)
            options = right + wrong
            rng.shuffle(options)
            rows.append({
                "kind": QuestionKind.MULTIPLE, "indicator": first, "difficulty": Difficulty.HARD,
                "stem": f"以下哪些是一级指标“{first.name}”下的二级指标？", "options": options,
                "answer": sorted("ABCDEF"[options.index(name)] for name in right),
                "explanation": "“" + first.name + "”的二级指标有：" + "、".join(k.name for k in kids) + "。",
                "tags": f"，{first.name}，指标体系，",
            })  # fmt: skip
            rows.append({
                "kind": QuestionKind.FILL, "indicator": kids[0], "difficulty": Difficulty.HARD,
                "stem": f"指标“{kids[0].name}”属于一级指标“____”。", "options": [],
                "answer": [first.name], "explanation": f"{kids[0].code} 属于 {first.code} {first.name}。",
                "tags": f"，{first.name}，指标体系，",
            })  # fmt: skip
    for kind, stem, options, answer, explanation, difficulty, tags in POLICY_QUESTIONS:
        cleaned, errors = services.clean_question(
            kind=kind, stem=stem, options=options, answer=answer, explanation=explanation,
            difficulty=difficulty, tags=f"政策法规、{tags}",
        )  # fmt: skip
        assert not errors, (stem, errors)
        rows.append({**cleaned, "indicator": None})
    return Question.objects.bulk_create(Question(**row, created_by=user) for row in rows)


#: The finished exam: 20 questions, 100 points.
FINISHED_RULES = [
    {"kind": "single", "count": 8, "points": 5},
    {"kind": "true_false", "count": 6, "points": 5},
    {"kind": "multiple", "count": 3, "points": 5},
    {"kind": "fill", "count": 3, "points": 5},
]
PRACTICE_RULES = [
    {"tag": "政策法规", "count": 6, "points": 10},
    {"kind": "true_false", "count": 4, "points": 10},
]
#: Demo people of the finished exam and how likely each answers a question right.
EXAMINEES = {
    "resp_dept": 0.55,
    "resp_city": 0.8,
    "lead_dept": 0.9,
    "district_dh": 0.7,
    "district_xs": 0.45,
    "park_gx": 0.75,
}


def _response(rng: random.Random, snapshot: dict[str, Any], skill: float) -> list[str]:
    if rng.random() < skill:
        return list(snapshot["answer"])
    if snapshot["kind"] == QuestionKind.FILL:
        return ["不清楚"]
    letters = "ABCDEF"[: len(snapshot["options"])]
    wrong = [letter for letter in letters if [letter] != snapshot["answer"]]
    return [rng.choice(wrong)]


def build_training(ctx: Any) -> int:
    rng = ctx.rng("training")
    coordinator = ctx.users.get("coordinator")
    materials = _materials(ctx, coordinator)
    questions = _questions(rng, coordinator)
    course = Course.objects.create(
        title="营商环境基础知识必修课（2026）",
        description="新任营商环境工作人员的必修课程：开办企业解读视频和五个一级指标的解读。",
        created_by=coordinator,
    )
    chosen = [m for m in materials if m.audience == Audience.COMMON][:6]
    CourseMaterial.objects.bulk_create(
        CourseMaterial(course=course, material=m, position=i) for i, m in enumerate(chosen, 1)
    )
    deadline = timezone.localdate() + dt.timedelta(days=30)
    units = [
        ctx.departments[code]
        for code in ("DH-SCJG", "SZ-SCJG", "SZ-RSJ")
        if code in ctx.departments
    ]
    regions = [ctx.regions[code] for code in ("449902",) if code in ctx.regions]
    if coordinator is not None:
        services.assign_course(
            course, actor=coordinator, deadline=deadline, departments=units, regions=regions
        )
    now = timezone.now()
    progress = {
        "resp_dept": (4, 3),
        "lead_dept": (6, 6),
        "resp_city": (1, 0),
        "district_xs": (3, 2),
    }
    rows = []
    for username, (opened, finished) in progress.items():
        user = ctx.users.get(username)
        if user is None:
            continue
        for index, material in enumerate(chosen[:opened]):
            done = now - dt.timedelta(days=6 - index) if index < finished else None
            rows.append(
                MaterialProgress(
                    material=material, user=user, opened_at=now - dt.timedelta(days=7 - index),
                    finished_at=done, watched_at=done if material.kind == MaterialKind.VIDEO else None,
                )
            )  # fmt: skip
    MaterialProgress.objects.bulk_create(rows)
    if coordinator is not None:
        _exams(ctx, rng, coordinator)
    return len(questions)


def _published(coordinator: Any, **fields: Any) -> Exam:
    exam = services.create_exam(actor=coordinator, pass_mark=60, **fields)
    return services.transition_exam(exam, "publish", actor=coordinator)


def _exams(ctx: Any, rng: random.Random, coordinator: Any) -> None:
    finished = _published(
        coordinator, title="2026年营商环境业务知识测试（第一期）", rules=FINISHED_RULES,
        duration_minutes=30, max_attempts=1,
        description="全市营商环境工作人员业务知识测试，题目从题库按题型抽取。",
    )  # fmt: skip
    for username, skill in EXAMINEES.items():
        user = ctx.users.get(username)
        if user is None:
            continue
        attempt = services.start_attempt(finished, actor=user)
        answers = {a.position: _response(rng, a.snapshot, skill) for a in attempt.answers.all()}
        services.submit_attempt(attempt, actor=user, answers=answers)
    services.transition_exam(finished, "close", actor=coordinator)
    person = ctx.users.get("resp_dept")
    entry = WrongAnswer.objects.filter(user=person).order_by("pk").first()
    if entry is not None:
        services.practise(entry, actor=person, values=entry.question.answer)
    _published(
        coordinator, title="营商环境政策练习测验", rules=PRACTICE_RULES, duration_minutes=15,
        max_attempts=3, description="随时可参加的练习测验，可考三次，取最好成绩。",
    )  # fmt: skip


def wipe_training(city_path: str) -> None:
    """The training module's data of a demo database, with its history rows and files."""
    for model in (Attempt, Exam):
        ids = [str(pk) for pk in model.objects.values_list("pk", flat=True)]
        TransitionHistory.objects.filter(
            object_type=model._meta.label_lower, object_id__in=ids
        ).delete()
    Attempt.objects.all().delete()
    WrongAnswer.objects.all().delete()
    Exam.objects.all().delete()
    Course.objects.all().delete()
    for material in Material.objects.exclude(file=""):
        material.file.delete(save=False)
    Material.objects.all().delete()
    Question.objects.all().delete()


__all__ = ["build_training", "wipe_training"]
