"""The policy library (政策库) of the think tank (营商智库): policies with their applicability
(适用行业、规模、区划), versions (政策沿革), attachments, and redemption records (政策兑现).

The full-text index is not a model: it is a table per database (an FTS5 virtual table on SQLite,
a tsvector table on PostgreSQL) kept in sync by the services (``search.py``, decision 0015)."""

from __future__ import annotations

from pathlib import PurePath

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sizhen.core.access import CHANGE, EXPORT, VIEW, Actor, ScopedManager, role_of
from sizhen.core.permissions import has_capability
from sizhen.indicators.catalogue.models import Indicator
from sizhen.organisations.models import Enterprise, Region
from sizhen.thinktank.choices import SIZES, Level
from sizhen.thinktank.workflow import (
    DRAFT,
    IN_FORCE,
    POLICY_WORKFLOW,
    PUBLISHED_STATES,
    STATES,
)

#: Attachments live under MEDIA_ROOT, which no URL serves: they go out through the scoped view.
attachment_storage = FileSystemStorage()


class Policy(models.Model):
    """One version of a policy document (政策文件)."""

    title = models.CharField("标题", max_length=300)
    doc_number = models.CharField("文号", max_length=100, blank=True)
    issuer = models.CharField("发文机关", max_length=200)
    level = models.CharField("层级", max_length=12, choices=Level.choices)
    published_on = models.DateField("发布日期", null=True, blank=True)
    effective_on = models.DateField("生效日期", null=True, blank=True)
    expires_on = models.DateField("失效日期", null=True, blank=True)
    status = models.CharField(
        "状态", max_length=12, choices=list(STATES.items()), default=DRAFT, editable=False
    )
    body = models.TextField("正文", blank=True)
    #: National industry codes (GB/T 4754) or their prefixes ("C", "C39", "C3971"); empty = any.
    industries = models.JSONField("适用行业", default=list, blank=True)
    #: Enterprise sizes (``organisations.EnterpriseSize`` values); empty = any.
    sizes = models.JSONField("适用规模", default=list, blank=True)
    #: A region covers its subtree; none = the whole jurisdiction.
    regions = models.ManyToManyField(Region, verbose_name="适用区划", blank=True, related_name="+")
    indicators = models.ManyToManyField(
        Indicator, verbose_name="关联指标", blank=True, related_name="+"
    )
    tags = models.JSONField("标签", default=list, blank=True)
    #: The earlier version this one amends or replaces (政策沿革).
    supersedes = models.ForeignKey(
        "self",
        verbose_name="上一版本",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="successors",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", default=timezone.now)
    version = models.PositiveIntegerField("版本", default=1)

    objects = ScopedManager()
    workflow = POLICY_WORKFLOW

    class Meta:
        verbose_name = "政策"
        ordering = ["-published_on", "-id"]
        indexes = [
            models.Index(fields=["status", "published_on"], name="policy_status_published"),
            models.Index(fields=["issuer"], name="policy_issuer"),
        ]

    def __str__(self) -> str:
        return f"{self.title}（{self.doc_number}）" if self.doc_number else self.title

    @property
    def is_published(self) -> bool:
        return self.status in PUBLISHED_STATES

    def is_expired(self, today: object = None) -> bool:
        day = today or timezone.localdate()
        return self.expires_on is not None and self.expires_on < day  # type: ignore[operator]

    @property
    def applies_now(self) -> bool:
        """In force, already effective and not yet expired: what matching offers enterprises."""
        today = timezone.localdate()
        if self.status != IN_FORCE or self.is_expired(today):
            return False
        return self.effective_on is None or self.effective_on <= today

    def size_labels(self) -> list[str]:
        return [SIZES.get(s, s) for s in self.sizes]

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        """Published policies are public; drafts and every edit belong to the coordinating
        office (and the system administrators standing in for it)."""
        if role_of(actor) is None:
            return None
        manager = has_capability(actor, "policy.manage")
        if action == CHANGE:
            return Q() if manager else None
        if action not in (VIEW, EXPORT):
            return None
        return Q() if manager else Q(status__in=PUBLISHED_STATES)


def _attachment_path(instance: PolicyAttachment, filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()
    now = timezone.now()
    return f"thinktank/attachments/{now:%Y%m}/{instance.policy_id}-{now:%H%M%S%f}{suffix}"


class PolicyAttachment(models.Model):
    """A file of a policy (附件: the signed PDF, application forms); its text, where a library
    extracts it (PDF, DOCX), is searchable with the policy's body."""

    policy = models.ForeignKey(
        Policy, verbose_name="政策", on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField("文件", storage=attachment_storage, upload_to=_attachment_path)
    name = models.CharField("文件名", max_length=200)
    size = models.PositiveIntegerField("大小（字节）", default=0)
    text = models.TextField("提取的文字", blank=True)
    uploaded_by_label = models.CharField("上传人", max_length=200, blank=True)
    uploaded_at = models.DateTimeField("上传时间", default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "政策附件"
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        q = Policy.scope_q(actor, VIEW if action == EXPORT else action)
        if q is None:
            return None
        return Q(policy__in=Policy.objects.filter(q).values("pk"))


class Redemption(models.Model):
    """What an enterprise received under a policy (政策兑现): amount (兑现金额, yuan) and
    cases (件数), recorded by the coordinating office."""

    policy = models.ForeignKey(
        Policy, verbose_name="政策", on_delete=models.PROTECT, related_name="redemptions"
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.PROTECT, related_name="+"
    )
    amount = models.DecimalField("兑现金额（元）", max_digits=14, decimal_places=2, default=0)
    cases = models.PositiveIntegerField("件数", default=1)
    redeemed_on = models.DateField("兑现日期", default=timezone.localdate)
    note = models.CharField("说明", max_length=200, blank=True)
    recorded_by_label = models.CharField("登记人", max_length=200, blank=True)
    recorded_at = models.DateTimeField("登记时间", default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "政策兑现"
        ordering = ["-redeemed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.policy_id}/{self.enterprise_id}: {self.amount}"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        role = role_of(actor)
        if role is None:
            return None
        if has_capability(actor, "policy.manage"):
            return Q()
        if action == CHANGE:
            return None
        # Everyone else sees the redemptions of the enterprises they see (an enterprise its own).
        return Q(enterprise__in=Enterprise.objects.visible_to(actor, VIEW).values("pk"))


class Push(models.Model):
    """A policy pushed to the enterprises it matched when pushed (政策找人): one delivery each,
    through the notification mechanism."""

    policy = models.ForeignKey(
        Policy, verbose_name="政策", on_delete=models.CASCADE, related_name="pushes"
    )
    pushed_by_label = models.CharField("推送人", max_length=200, blank=True)
    pushed_at = models.DateTimeField("推送时间", default=timezone.now)
    enterprises = models.PositiveIntegerField("推送企业数", default=0)

    objects = ScopedManager()

    class Meta:
        verbose_name = "政策推送"
        ordering = ["-pushed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.policy_id}: {self.enterprises}"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        return Q() if has_capability(actor, "policy.manage") else None


class Delivery(models.Model):
    """One enterprise's copy of a push: when one of its accounts opened the policy (已读) and
    when it confirmed (已确认知晓): the read and confirmation rates of 001 case 11."""

    push = models.ForeignKey(
        Push, verbose_name="推送", on_delete=models.CASCADE, related_name="deliveries"
    )
    policy = models.ForeignKey(
        Policy, verbose_name="政策", on_delete=models.CASCADE, related_name="+"
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name="企业", on_delete=models.CASCADE, related_name="+"
    )
    read_at = models.DateTimeField("阅读时间", null=True, blank=True)
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "政策送达"
        constraints = [
            models.UniqueConstraint(fields=["policy", "enterprise"], name="delivery_once")
        ]

    def __str__(self) -> str:
        return f"{self.policy_id}/{self.enterprise_id}"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        if role_of(actor) is None:
            return None
        if has_capability(actor, "policy.manage"):
            return Q()
        return Q(enterprise__in=Enterprise.objects.visible_to(actor, VIEW).values("pk"))
