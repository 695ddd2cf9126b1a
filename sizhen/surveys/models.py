"""Questionnaires (问卷) and their question bank (题库), survey rounds (调查轮次), invitations of
enterprises (with one-time links), responses (答卷) and answers.

A published questionnaire version is never changed: rounds and responses point at the version
they asked (docs/surveys.md, "Versions")."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sizhen.core.access import (
    CHANGE,
    EXPORT,
    NOTHING,
    VIEW,
    Actor,
    ScopedManager,
    is_city_wide,
    region_scope_q,
    role_of,
)
from sizhen.core.permissions import has_capability
from sizhen.core.roles import CITY_WIDE_ROLES, Role
from sizhen.indicators.catalogue.models import Indicator
from sizhen.organisations.models import Enterprise, Region
from sizhen.surveys.choices import Channel, FollowUpKind, QuestionType, Topic, VersionSource
from sizhen.surveys.workflow import (
    DRAFT,
    OPEN,
    PUBLISHED,
    ROUND_STATES,
    ROUND_WORKFLOW,
    VERSION_STATES,
    VERSION_WORKFLOW,
)

#: XLSForm names: a letter or underscore, then letters, digits, ``_``, ``-`` or ``.``.
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.\-]*$"
validate_name = RegexValidator(
    NAME_PATTERN, "名称须以字母或下划线开头，只能包含字母、数字、_、- 和 ."
)
validate_code = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_\-]*$", "问卷编码只能包含字母、数字、_ 和 -，且以字母或数字开头"
)


def _reference_q(actor: Actor, action: str, capability: str, enterprise_q: Any) -> Q | None:
    """Questionnaires and the bank are city-wide reference data for staff and tokens; an
    enterprise sees only what its invitations name; changes need the design capability."""
    role = role_of(actor)
    if role is None:
        return None
    if action not in (VIEW, EXPORT):
        return Q() if has_capability(actor, capability) else None
    if role == Role.ENTERPRISE:
        return enterprise_q(getattr(actor, "enterprise_id", None)) if action == VIEW else None
    return Q()


def _invited_questionnaires(enterprise_id: int | None) -> Q:
    if not enterprise_id:
        return NOTHING
    rounds = Invitation.objects.filter(enterprise_id=enterprise_id).values("round__questionnaire")
    return Q(pk__in=rounds)


class BankItem(models.Model):
    """A reusable question of the question bank (题库), filed by topic and by the indicator it
    informs; a questionnaire's question may be taken from it (``Question.bank_item``)."""

    code = models.CharField("题目编码", max_length=40, unique=True, validators=[validate_name])
    topic = models.CharField("主题", max_length=30, choices=Topic.choices, default=Topic.OTHER)
    indicator = models.ForeignKey(
        Indicator,
        verbose_name="关联指标",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    type = models.CharField("题型", max_length=12, choices=QuestionType.choices)
    label = models.CharField("题目", max_length=300)
    hint = models.CharField("填写说明", max_length=300, blank=True)
    #: [{"name": ..., "label": ...}]
    choices = models.JSONField("选项", default=list, blank=True)
    #: Matrix rows, as choices.
    rows = models.JSONField("矩阵行", default=list, blank=True)
    parameters = models.JSONField("参数", default=dict, blank=True)
    weight = models.FloatField("满意度指数权重", default=0.0)
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "题库题目"
        ordering = ["topic", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.label}"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        return _reference_q(actor, action, "survey.design", lambda _enterprise: NOTHING)


class Questionnaire(models.Model):
    """A questionnaire (问卷) identified by its code (the XLSForm ``form_id``)."""

    code = models.CharField("问卷编码", max_length=60, unique=True, validators=[validate_code])
    title = models.CharField("问卷名称", max_length=200)
    description = models.TextField("说明", blank=True)
    allow_multiple_responses = models.BooleanField(
        "允许一家企业多次作答",
        default=False,
        help_text="不勾选时，每轮调查每家企业只能提交一份答卷",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "问卷"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.title}（{self.code}）"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        return _reference_q(actor, action, "survey.design", _invited_questionnaires)

    def latest_version(self) -> QuestionnaireVersion | None:
        return self.versions.order_by("-number").first()

    def latest_published(self) -> QuestionnaireVersion | None:
        return self.versions.filter(status=PUBLISHED).order_by("-number").first()


class QuestionnaireVersion(models.Model):
    """One version of a questionnaire: draft (editable) or published (never changed)."""

    questionnaire = models.ForeignKey(
        Questionnaire, verbose_name="问卷", on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField("版本号")
    status = models.CharField(
        "状态",
        max_length=12,
        choices=list(VERSION_STATES.items()),
        default=DRAFT,
        editable=False,
    )
    source = models.CharField(
        "来源", max_length=12, choices=VersionSource.choices, default=VersionSource.BUILDER
    )
    source_name = models.CharField("来源文件", max_length=200, blank=True)
    #: The XLSForm settings sheet (form_title, version, default_language …), kept for export.
    form_settings = models.JSONField("表单设置", default=dict, blank=True)
    based_on = models.ForeignKey(
        "self",
        verbose_name="修改自",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)

    objects = ScopedManager()
    workflow = VERSION_WORKFLOW

    class Meta:
        verbose_name = "问卷版本"
        ordering = ["questionnaire", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "number"], name="surveys_version_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire.title} 第 {self.number} 版"

    @property
    def is_published(self) -> bool:
        return self.status == PUBLISHED

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        q = Questionnaire.scope_q(actor, action)
        if q is None:
            return None
        return Q(questionnaire__in=Questionnaire.objects.filter(q).values("pk"))


class Section(models.Model):
    """A page of a questionnaire version (an XLSForm group); ``relevant`` hides it whole."""

    version = models.ForeignKey(
        QuestionnaireVersion, verbose_name="版本", on_delete=models.CASCADE, related_name="sections"
    )
    name = models.CharField("名称", max_length=60, blank=True)
    label = models.CharField("标题", max_length=200, blank=True)
    relevant = models.CharField("显示条件", max_length=1000, blank=True)
    order = models.PositiveIntegerField("顺序", default=0)

    class Meta:
        verbose_name = "问卷分节"
        ordering = ["version", "order", "id"]

    def __str__(self) -> str:
        return self.label or self.name or f"第 {self.order + 1} 部分"


class Question(models.Model):
    """A question of a questionnaire version; ``name`` is the key of its answers."""

    version = models.ForeignKey(
        QuestionnaireVersion,
        verbose_name="版本",
        on_delete=models.CASCADE,
        related_name="questions",
    )
    section = models.ForeignKey(
        Section, verbose_name="分节", on_delete=models.CASCADE, related_name="questions"
    )
    name = models.CharField("名称", max_length=60, validators=[validate_name])
    type = models.CharField("题型", max_length=12, choices=QuestionType.choices)
    label = models.CharField("题目", max_length=500)
    hint = models.CharField("填写说明", max_length=500, blank=True)
    required = models.BooleanField("必答", default=False)
    relevant = models.CharField("显示条件", max_length=1000, blank=True)
    constraint = models.CharField("校验条件", max_length=1000, blank=True)
    constraint_message = models.CharField("校验提示", max_length=300, blank=True)
    choice_filter = models.CharField("选项筛选", max_length=1000, blank=True)
    #: Rating scale: {"start": 1, "end": 5, "step": 1}.
    parameters = models.JSONField("参数", default=dict, blank=True)
    #: Matrix rows: [{"name": ..., "label": ...}].
    rows = models.JSONField("矩阵行", default=list, blank=True)
    weight = models.FloatField("满意度指数权重", default=0.0)
    list_name = models.CharField("选项列表名", max_length=60, blank=True)
    bank_item = models.ForeignKey(
        BankItem,
        verbose_name="题库题目",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="questions",
    )
    order = models.PositiveIntegerField("顺序", default=0)

    class Meta:
        verbose_name = "题目"
        ordering = ["version", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "name"], name="surveys_question_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.label}"

    @property
    def scale(self) -> tuple[int, int, int]:
        """A rating's (start, end, step)."""
        p = self.parameters or {}
        return int(p.get("start", 1)), int(p.get("end", 5)), int(p.get("step", 1))


class Choice(models.Model):
    """A choice of a question; ``name`` is what an answer stores."""

    question = models.ForeignKey(
        Question, verbose_name="题目", on_delete=models.CASCADE, related_name="choices"
    )
    name = models.CharField("选项值", max_length=60)
    label = models.CharField("选项", max_length=300)
    order = models.PositiveIntegerField("顺序", default=0)
    #: Extra columns of the XLSForm choices sheet, read by the question's choice_filter.
    filters = models.JSONField("筛选属性", default=dict, blank=True)

    class Meta:
        verbose_name = "选项"
        ordering = ["question", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["question", "name"], name="surveys_choice_name")
        ]

    def __str__(self) -> str:
        return self.label


class SurveyRound(models.Model):
    """One round of a questionnaire (调查轮次) over a region's subtree, with a deadline."""

    questionnaire = models.ForeignKey(
        Questionnaire, verbose_name="问卷", on_delete=models.PROTECT, related_name="rounds"
    )
    form_version = models.ForeignKey(
        QuestionnaireVersion,
        verbose_name="问卷版本",
        on_delete=models.PROTECT,
        related_name="rounds",
    )
    title = models.CharField("调查名称", max_length=200)
    region = models.ForeignKey(
        Region, verbose_name="调查范围", on_delete=models.PROTECT, related_name="+"
    )
    deadline = models.DateField("截止日期")
    status = models.CharField(
        "状态", max_length=12, choices=list(ROUND_STATES.items()), default=DRAFT, editable=False
    )
    opened_at = models.DateTimeField("开始时间", null=True, blank=True)
    closed_at = models.DateTimeField("结束时间", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    version = models.PositiveIntegerField("版本", default=1)

    objects = ScopedManager()
    workflow = ROUND_WORKFLOW

    class Meta:
        verbose_name = "调查轮次"
        ordering = ["-created_at", "-id"]
        constraints = [
            # Answers posted to a questionnaire's code go to its one open round.
            models.UniqueConstraint(
                fields=["questionnaire"],
                condition=Q(status=OPEN),
                name="surveys_one_open_round",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        role = role_of(actor)
        if role is None:
            return None
        if role == Role.ENTERPRISE:
            enterprise_id = getattr(actor, "enterprise_id", None)
            if action != VIEW:
                return None
            if not enterprise_id:
                return NOTHING
            invited = Invitation.objects.filter(enterprise_id=enterprise_id).values("round_id")
            return Q(pk__in=invited)
        if action not in (VIEW, EXPORT):
            return Q() if has_capability(actor, "survey.distribute") else None
        if role in CITY_WIDE_ROLES:
            return Q()
        # A round over the actor's subtree, or over a region above it (a city round is seen
        # by every district, whose own figures are read within its subtree).
        regions = Region.scope_q(actor, VIEW)
        if regions is None:
            return None
        return Q(region__in=Region.objects.filter(regions).values("pk"))


def _enterprise_scope(
    actor: Actor, action: str, path_field: str, enterprise_field: str
) -> Q | None:
    """Invitations and responses: the enterprise its own, staff and tokens by region subtree."""
    role = role_of(actor)
    if role is None:
        return None
    if role == Role.ENTERPRISE:
        enterprise_id = getattr(actor, "enterprise_id", None)
        if action not in (VIEW, CHANGE):
            return None
        return Q(**{enterprise_field: enterprise_id}) if enterprise_id else NOTHING
    if action not in (VIEW, EXPORT):
        return Q() if has_capability(actor, "survey.distribute") else None
    return region_scope_q(actor, path_field)


class Invitation(models.Model):
    """An enterprise invited to a round (问卷发放). The one-time link's token is stored as its
    SHA-256 only, like API tokens (decision 0003); it is shown once, on the printed sheet."""

    round = models.ForeignKey(
        SurveyRound, verbose_name="调查轮次", on_delete=models.CASCADE, related_name="invitations"
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.PROTECT, related_name="+"
    )
    panel = models.BooleanField("企业监测点", default=False)
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    link_issued_at = models.DateTimeField("链接生成时间", null=True, blank=True)
    token_used_at = models.DateTimeField("链接使用时间", null=True, blank=True)
    sent_at = models.DateTimeField("通知时间", null=True, blank=True)
    reminded_at = models.DateTimeField("最近催答", null=True, blank=True)
    reminder_count = models.PositiveSmallIntegerField("催答次数", default=0)
    answered_at = models.DateTimeField("提交时间", null=True, blank=True)
    created_at = models.DateTimeField("邀请时间", default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "问卷邀请"
        ordering = ["round", "id"]
        constraints = [
            models.UniqueConstraint(fields=["round", "enterprise"], name="surveys_invitation_once")
        ]

    def __str__(self) -> str:
        return f"{self.round} · {self.enterprise}"

    @property
    def state_label(self) -> str:
        if self.answered_at:
            return "已提交"
        if self.sent_at or self.link_issued_at:
            return "已发放"
        return "待发放"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        return _enterprise_scope(actor, action, "enterprise__region__path", "enterprise_id")


class Response(models.Model):
    """One enterprise's answers to a round (答卷). Without ``submitted_at`` it is a draft saved
    part-way (保存并继续)."""

    round = models.ForeignKey(
        SurveyRound, verbose_name="调查轮次", on_delete=models.PROTECT, related_name="responses"
    )
    form_version = models.ForeignKey(
        QuestionnaireVersion,
        verbose_name="问卷版本",
        on_delete=models.PROTECT,
        related_name="responses",
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.PROTECT, related_name="+"
    )
    #: The enterprise's region when the response started: scoping and results by region.
    region = models.ForeignKey(
        Region, verbose_name="所属区划", on_delete=models.PROTECT, related_name="+"
    )
    invitation = models.ForeignKey(
        Invitation,
        verbose_name="邀请",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="responses",
    )
    sequence = models.PositiveSmallIntegerField("序号", default=1)
    channel = models.CharField("渠道", max_length=10, choices=Channel.choices)
    #: Who submitted ("token:<id>" or "user:<id>"): the namespace of client keys.
    source_key = models.CharField(max_length=40, blank=True)
    client_key = models.CharField("幂等键", max_length=100, null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField("开始时间", default=timezone.now)
    updated_at = models.DateTimeField("保存时间", default=timezone.now)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "答卷"
        ordering = ["-submitted_at", "-id"]
        constraints = [
            # One response per enterprise and round (sequence 1) unless the questionnaire
            # allows more; two simultaneous first submissions cannot both be stored.
            models.UniqueConstraint(
                fields=["round", "enterprise", "sequence"], name="surveys_response_sequence"
            ),
            models.UniqueConstraint(
                fields=["round", "source_key", "client_key"],
                condition=Q(client_key__isnull=False),
                name="surveys_response_client_key",
            ),
        ]
        indexes = [models.Index(fields=["round", "submitted_at"], name="surveys_resp_round_sub")]

    def __str__(self) -> str:
        return f"答卷 {self.pk}（{self.enterprise}）"

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        return _enterprise_scope(actor, action, "region__path", "enterprise_id")


class Answer(models.Model):
    """One question's answer in a response."""

    response = models.ForeignKey(
        Response, verbose_name="答卷", on_delete=models.CASCADE, related_name="answers"
    )
    question = models.ForeignKey(
        Question, verbose_name="题目", on_delete=models.PROTECT, related_name="answers"
    )
    value = models.JSONField("答案")
    #: The value as a number (integer, decimal and rating questions), for aggregation.
    number = models.FloatField("数值", null=True, blank=True)

    class Meta:
        verbose_name = "答案"
        ordering = ["response", "question__order"]
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="surveys_answer_once")
        ]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.value}"


def _staff_region_scope(actor: Actor, action: str, path_field: str) -> Q | None:
    """Figures and follow-ups by region subtree, for the staff only; changes are written by
    services, never through the scope."""
    role = role_of(actor)
    if role is None or role == Role.ENTERPRISE or action not in (VIEW, EXPORT):
        return None
    return region_scope_q(actor, path_field)


class IndexResult(models.Model):
    """The satisfaction index (企业满意度指数, 0–100) of one round over one region's subtree,
    for one catalogue leaf: the overall index, or the sub-index of the items informing a
    survey leaf (docs/surveys.md, "Satisfaction index"). Without a value, ``reason`` says why
    (a sample below the minimum)."""

    round = models.ForeignKey(
        SurveyRound, verbose_name="调查轮次", on_delete=models.CASCADE, related_name="index_results"
    )
    region = models.ForeignKey(
        Region, verbose_name="区划", on_delete=models.PROTECT, related_name="+"
    )
    indicator_code = models.CharField("指标编码", max_length=20)
    label = models.CharField("指数", max_length=100)
    #: The indicator period the round publishes to (the one containing its deadline).
    period = models.DateField("期间（首日）")
    value = models.FloatField("指数值", null=True, blank=True)
    respondents = models.PositiveIntegerField("样本量", default=0)
    std = models.FloatField("标准差", null=True, blank=True)
    ci_low = models.FloatField("95% 置信区间下限", null=True, blank=True)
    ci_high = models.FloatField("95% 置信区间上限", null=True, blank=True)
    reason = models.CharField("未计值原因", max_length=200, blank=True)
    #: Whether the value went into the indicator values (the leaf exists and is active).
    published = models.BooleanField("已发布到指标", default=False)
    computed_at = models.DateTimeField("计算时间", default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "满意度指数"
        ordering = ["round", "indicator_code", "region__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "region", "indicator_code"], name="surveys_index_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} {self.region_id} {self.value}"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        # As the indicator values it publishes: the own subtree, and the city's figure.
        q = _staff_region_scope(actor, action, "region__path")
        if q is None or is_city_wide(actor):
            return q
        return q | Q(region__parent__isnull=True)


class FollowUp(models.Model):
    """A problem found by asking turned into work (问题转办): an answer (a low rating or a
    written problem) that became an enterprise request or a rectification item, linked both
    ways. One of each kind per answer (a double submit finds the first)."""

    response = models.ForeignKey(
        Response, verbose_name="答卷", on_delete=models.PROTECT, related_name="follow_ups"
    )
    answer = models.ForeignKey(
        Answer, verbose_name="答案", on_delete=models.PROTECT, related_name="follow_ups"
    )
    kind = models.CharField("转办为", max_length=16, choices=FollowUpKind.choices)
    #: The request's or the ledger item's primary key (those apps' models are theirs).
    target_id = models.PositiveBigIntegerField("目标编号")
    target_number = models.CharField("目标文号", max_length=40)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="转办人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("转办时间", default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "问卷问题转办"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["answer", "kind"], name="surveys_follow_up_once"),
        ]
        indexes = [models.Index(fields=["kind", "target_id"], name="surveys_follow_up_target")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.target_number}"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        return _staff_region_scope(actor, action, "response__region__path")
