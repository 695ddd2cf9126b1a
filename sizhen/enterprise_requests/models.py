"""企业诉求: the request ledger (诉求台账), its taxonomy (诉求词条库), forums, messages,
attachments, extensions and revisits."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from sizhen.core.access import CHANGE, DELETE, EXPORT, VIEW, Actor, ScopedManager, role_of
from sizhen.core.permissions import has_capability
from sizhen.core.roles import CITY_WIDE_ROLES, DEPARTMENT_ROLES, Role
from sizhen.enterprise_requests.choices import (
    DEFAULT_LIMITS,
    Channel,
    Difficulty,
    EscalationTier,
    ExtensionStatus,
    FirstContact,
    Kind,
    MessageKind,
    RevisitMethod,
    Satisfaction,
)
from sizhen.enterprise_requests.workflow import (
    CONTACT_STATES,
    ON_THE_CLOCK,
    REQUEST_WORKFLOW,
    STATES,
    SUBMITTED,
    is_closed,
)
from sizhen.organisations.models import Department, Enterprise, Region


def _staff_scope(actor: Actor) -> Q | None:
    """Who sees what among staff: the city-wide roles all; a district officer the requests of
    the district's subtree; a department (or its API token) what it leads or co-handles."""
    role = role_of(actor)
    if role is None:
        return None
    if role in CITY_WIDE_ROLES:
        return Q()
    if role == Role.DISTRICT_OFFICER:
        path = getattr(actor, "scope_path", None)
        return Q(region__path__startswith=path) if path else None
    if role in DEPARTMENT_ROLES:
        department_id = getattr(actor, "department_id", None)
        if department_id is None:
            return None
        # A subquery, not a join: a join on the co-handlers would repeat rows.
        co_handled = EnterpriseRequest.co_departments.through.objects.filter(
            department_id=department_id
        ).values("enterpriserequest_id")
        q = Q(lead_department_id=department_id) | Q(pk__in=co_handled)
        if role == Role.MACHINE:
            q |= Q(source_token__department_id=department_id)
        return q
    return None


class RequestCategory(models.Model):
    """One entry of the request taxonomy (诉求词条库), two levels; codes are stable."""

    code = models.CharField("编码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级分类",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    default_kind = models.CharField(
        "默认诉求类型", max_length=20, choices=Kind.choices, default=Kind.HELP
    )
    difficulty = models.CharField(
        "办理难度", max_length=10, choices=Difficulty.choices, default=Difficulty.GENERAL
    )
    time_limit_days = models.PositiveSmallIntegerField(
        "办理时限（工作日）", default=DEFAULT_LIMITS[Difficulty.GENERAL], help_text="0 表示当日办结"
    )
    first_contact_hours = models.PositiveSmallIntegerField(
        "首次联系时限（小时）",
        null=True,
        blank=True,
        help_text="派单后主办单位联系企业的时限，按自然小时计；留空采用系统设置（默认 12 小时）",
    )
    active = models.BooleanField("启用", default=True)
    description = models.TextField("说明", blank=True, help_text="也用作 Open311 服务说明")
    sort_order = models.PositiveIntegerField("排序", default=0)
    version = models.PositiveIntegerField("版本", default=1)

    objects = ScopedManager()

    class Meta:
        verbose_name = "诉求分类"
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.parent.name}/{self.name}" if self.parent_id and self.parent else self.name

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        # The taxonomy is public reading for anyone logged in; the office edits it.
        if action in (VIEW, EXPORT):
            return Q() if role_of(actor) is not None else None
        return Q() if has_capability(actor, "request_category.edit") else None


class Forum(models.Model):
    """A face-to-face forum (面对面座谈会) with enterprises, and the requests raised there."""

    held_on = models.DateField("日期")
    topic = models.CharField("主题", max_length=200)
    leaders = models.CharField("参会领导", max_length=300, blank=True)
    location = models.CharField("地点", max_length=200, blank=True)
    region = models.ForeignKey(
        Region, verbose_name="区域", on_delete=models.PROTECT, related_name="request_forums"
    )
    enterprises = models.ManyToManyField(
        Enterprise, verbose_name="参会企业", blank=True, related_name="request_forums"
    )
    note = models.TextField("纪要", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("登记时间", default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "面对面座谈会"
        ordering = ["-held_on", "-id"]

    def __str__(self) -> str:
        return f"{self.held_on:%Y-%m-%d} {self.topic}"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        role = role_of(actor)
        if role in CITY_WIDE_ROLES:
            return Q() if action != DELETE else None
        if role == Role.DISTRICT_OFFICER:
            path = getattr(actor, "scope_path", None)
            return Q(region__path__startswith=path) if path and action != DELETE else None
        if role in DEPARTMENT_ROLES and action == VIEW:
            return Q(region__path__startswith=getattr(actor, "scope_path", None) or "-")
        return None


class EnterpriseRequest(models.Model):
    """One enterprise request (企业诉求) in the single ledger, from any channel."""

    number = models.CharField("诉求编号", max_length=32, unique=True)
    channel = models.CharField("渠道", max_length=20, choices=Channel.choices)
    kind = models.CharField("诉求类型", max_length=20, choices=Kind.choices, default=Kind.HELP)
    category = models.ForeignKey(
        RequestCategory,
        verbose_name="诉求分类",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
    )
    title = models.CharField("标题", max_length=200)
    text = models.TextField("诉求内容")
    enterprise = models.ForeignKey(
        Enterprise,
        verbose_name="企业",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
    )
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    region = models.ForeignKey(
        Region,
        verbose_name="所属区域",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enterprise_requests",
    )
    address = models.CharField("地址", max_length=300, blank=True)
    lat = models.FloatField("纬度", null=True, blank=True)
    lon = models.FloatField("经度", null=True, blank=True)
    publishable = models.BooleanField("同意公开办理结果", default=False)
    published = models.BooleanField("已公开", default=False)
    status = models.CharField(
        "状态", max_length=20, choices=list(STATES.items()), default=SUBMITTED, editable=False
    )
    difficulty = models.CharField("办理难度", max_length=10, choices=Difficulty.choices, blank=True)
    time_limit_days = models.PositiveSmallIntegerField("办理时限（工作日）", null=True, blank=True)
    lead_department = models.ForeignKey(
        Department,
        verbose_name="主办单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_requests",
    )
    co_departments = models.ManyToManyField(
        Department, verbose_name="协办单位", blank=True, related_name="co_handled_requests"
    )
    deadline = models.DateField("办理期限", null=True, blank=True)
    deadline_provisional = models.BooleanField("期限暂定", default=False)
    submitted_at = models.DateTimeField("提交时间", default=timezone.now, db_index=True)
    dispatched_at = models.DateTimeField("派单时间", null=True, blank=True)
    #: The latest acceptance (签收); re-dispatch clears it and a second assignment sets it again.
    accepted_at = models.DateTimeField("签收时间", null=True, blank=True)
    #: The first acceptance, never overwritten: the response rate (响应率) measures this one.
    first_accepted_at = models.DateTimeField("首次签收时间", null=True, blank=True)
    #: The first-contact clock (首次联系): set at dispatch, in clock hours, until the lead unit
    #: first reaches the enterprise (a contact record, or the reply reaching it).
    first_contact_due = models.DateTimeField("首次联系时限", null=True, blank=True)
    first_contacted_at = models.DateTimeField("首次联系时间", null=True, blank=True)
    replied_at = models.DateTimeField("答复时间", null=True, blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    reply_text = models.TextField("答复内容", blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        "满意度", choices=Satisfaction.choices, null=True, blank=True
    )
    resolved = models.BooleanField("企业认为已解决", null=True, blank=True)
    second_assignment = models.BooleanField("已二次交办", default=False)
    return_count = models.PositiveSmallIntegerField("退单次数", default=0)
    supervised = models.BooleanField("挂牌督办", default=False)
    supervised_at = models.DateTimeField("挂牌时间", null=True, blank=True)
    supervision_note = models.TextField("督办事由", blank=True)
    referred_at = models.DateTimeField("转纪委监委时间", null=True, blank=True)
    #: The highest tier of automatic escalation (升级督办) reached; it never goes down.
    escalation_tier = models.PositiveSmallIntegerField(
        "升级督办级别", choices=EscalationTier.choices, default=EscalationTier.NONE
    )
    escalated_at = models.DateTimeField("最近升级时间", null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="提交人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source_token = models.ForeignKey(
        "accounts.ApiToken",
        verbose_name="来源令牌",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    #: Who submitted ("token:<id>" or "user:<id>"): the namespace of idempotency keys.
    source_key = models.CharField("来源", max_length=40, blank=True)
    idempotency_key = models.CharField("幂等键", max_length=100, null=True, blank=True)
    external_id = models.CharField("外部编号", max_length=100, blank=True, db_index=True)
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name="并入主单",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_requests",
    )
    suspected_duplicate_of = models.ForeignKey(
        "self",
        verbose_name="疑似重复",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    duplicate_similarity = models.FloatField("相似度", null=True, blank=True)
    forum = models.ForeignKey(
        Forum,
        verbose_name="座谈会",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
    )
    #: The last deadline notice sent ("soon"/"overdue") and when, so the daily job is idempotent.
    deadline_notice = models.CharField("期限提醒", max_length=10, blank=True)
    deadline_notice_on = models.DateField("提醒日期", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1)

    objects = ScopedManager()
    workflow = REQUEST_WORKFLOW

    class Meta:
        verbose_name = "企业诉求"
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_key", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="enterprise_requests_idempotency",
            )
        ]
        indexes = [
            models.Index(fields=["status", "deadline"], name="entreq_status_deadline"),
            models.Index(fields=["enterprise", "status"], name="entreq_enterprise_status"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        role = role_of(actor)
        if role == Role.ENTERPRISE:
            enterprise_id = getattr(actor, "enterprise_id", None)
            if enterprise_id is None or action == DELETE:
                return None
            return Q(enterprise_id=enterprise_id)
        if action == DELETE:
            return None
        if role == Role.LEADER and action == CHANGE:
            return None
        return _staff_scope(actor)

    @property
    def status_label(self) -> str:
        return STATES.get(self.status, self.status)

    @property
    def is_closed(self) -> bool:
        return is_closed(self.status)

    def is_overdue(self, today: dt.date | None = None) -> bool:
        if self.deadline is None or self.status not in ON_THE_CLOCK:
            return False
        return (today or timezone.localdate()) > self.deadline

    def first_contact_state(self, now: dt.datetime | None = None) -> str:
        """``FirstContact`` value, or "" for a request the clock never ran on."""
        if self.first_contact_due is None:
            return ""
        if self.first_contacted_at is not None:
            met = self.first_contacted_at <= self.first_contact_due
            return FirstContact.MET if met else FirstContact.LATE
        if self.status not in CONTACT_STATES:
            return ""
        late = (now or timezone.now()) > self.first_contact_due
        return FirstContact.OVERDUE if late else FirstContact.PENDING

    @property
    def first_contact_label(self) -> str:
        state = self.first_contact_state()
        return FirstContact(state).label if state else ""

    @property
    def escalation_label(self) -> str:
        return EscalationTier(self.escalation_tier).label if self.escalation_tier else ""

    @property
    def deadline_label(self) -> str:
        if self.deadline is None:
            return ""
        return f"{self.deadline:%Y-%m-%d}" + ("（暂定）" if self.deadline_provisional else "")


def first_contact_q(state: str, now: dt.datetime) -> Q:
    """The requests in ``state`` (a ``FirstContact`` value) at ``now``; the query form of
    ``EnterpriseRequest.first_contact_state``."""
    contacted = Q(first_contact_due__isnull=False, first_contacted_at__isnull=False)
    waiting = Q(
        first_contact_due__isnull=False, first_contacted_at__isnull=True, status__in=CONTACT_STATES
    )
    queries = {
        FirstContact.MET: contacted & Q(first_contacted_at__lte=F("first_contact_due")),
        FirstContact.LATE: contacted & Q(first_contacted_at__gt=F("first_contact_due")),
        FirstContact.OVERDUE: waiting & Q(first_contact_due__lt=now),
        FirstContact.PENDING: waiting & Q(first_contact_due__gte=now),
    }
    return queries[FirstContact(state)]


class RequestMessage(models.Model):
    """An entry of a request's timeline besides state changes: questions for more material
    (补充材料) and the answers, replies, urging (催办), explanations, meeting records."""

    request = models.ForeignKey(
        EnterpriseRequest, verbose_name="诉求", on_delete=models.CASCADE, related_name="messages"
    )
    kind = models.CharField("类型", max_length=30, choices=MessageKind.choices)
    text = models.TextField("内容")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="填写人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    author_label = models.CharField("填写人", max_length=200, blank=True)
    department = models.ForeignKey(
        Department, verbose_name="单位", null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "诉求办理记录"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.get_kind_display()}"


class RequestAttachment(models.Model):
    request = models.ForeignKey(
        EnterpriseRequest, verbose_name="诉求", on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField("文件", upload_to="requests/%Y/%m/")
    name = models.CharField("文件名", max_length=200)
    size = models.PositiveIntegerField("大小", default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)

    class Meta:
        verbose_name = "诉求附件"
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class DeadlineExtension(models.Model):
    """An extension request (延期申请) by the lead unit; the office approves or refuses."""

    request = models.ForeignKey(
        EnterpriseRequest, verbose_name="诉求", on_delete=models.CASCADE, related_name="extensions"
    )
    days = models.PositiveSmallIntegerField("延长工作日")
    reason = models.TextField("理由")
    status = models.CharField(
        "状态", max_length=10, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING
    )
    old_deadline = models.DateField("原期限", null=True, blank=True)
    new_deadline = models.DateField("新期限", null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField("申请时间", default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.TextField("审批意见", blank=True)

    class Meta:
        verbose_name = "延期申请"
        ordering = ["requested_at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id} +{self.days}"


class Revisit(models.Model):
    """One revisit (回访) of a replied request: by phone, by visit or the enterprise's rating."""

    request = models.ForeignKey(
        EnterpriseRequest, verbose_name="诉求", on_delete=models.CASCADE, related_name="revisits"
    )
    round = models.PositiveSmallIntegerField("轮次", default=1)
    method = models.CharField("方式", max_length=10, choices=RevisitMethod.choices)
    satisfaction = models.PositiveSmallIntegerField("满意度", choices=Satisfaction.choices)
    resolved = models.BooleanField("问题已解决", default=True)
    note = models.TextField("回访记录", blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    by_label = models.CharField("回访人", max_length=200, blank=True)
    at = models.DateTimeField("回访时间", default=timezone.now)

    class Meta:
        verbose_name = "回访记录"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id} 第{self.round}次回访"
