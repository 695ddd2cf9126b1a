"""Business-environment training (营商培训): learning materials per indicator and topic, courses
assigned to units, the question bank, exams drawn from it, attempts and the wrong-answer book
(错题本).

Materials, courses and exams are reference data every member of staff may read; who may see a
person's progress, attempts and wrong answers follows the person: the city-wide roles everyone,
a department its own people, a district officer the people of their region's units, everyone
themselves (``people_q``)."""

from __future__ import annotations

from pathlib import PurePath

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q
from django.utils import timezone

from sizhen.core.access import CHANGE, EXPORT, VIEW, Actor, ScopedManager, role_of
from sizhen.core.permissions import has_capability
from sizhen.core.roles import CITY_WIDE_ROLES, DEPARTMENT_STAFF_ROLES, STAFF_ROLES, Role
from sizhen.indicators.catalogue.models import Indicator
from sizhen.organisations.models import Department, Region
from sizhen.training.choices import Audience, Difficulty, MaterialKind, QuestionKind
from sizhen.training.workflow import (
    ATTEMPT_STATES,
    ATTEMPT_WORKFLOW,
    DRAFT,
    EXAM_STATES,
    EXAM_WORKFLOW,
    IN_PROGRESS,
)

#: Material files are stored under MEDIA_ROOT, which no URL serves: they go out only through
#: the permissioned file view (inline, with byte ranges for the video player).
material_storage = FileSystemStorage()


def people_q(actor: Actor | None, user_field: str = "user") -> Q | None:
    """Whose learning records the actor may see: the city-wide roles everyone's, a department
    its own people's, a district officer those of the people and departments of their region,
    everyone their own. Enterprises and machines nobody's. ``user_field`` names the person's
    relation on the row ("" for users themselves)."""
    role = role_of(actor)
    if role is None or role not in STAFF_ROLES:
        return None
    if role in CITY_WIDE_ROLES:
        return Q()
    prefix = f"{user_field}__" if user_field else ""
    own = Q(**{f"{user_field}_id" if user_field else "pk": getattr(actor, "pk", None)})
    if role in DEPARTMENT_STAFF_ROLES:
        department_id = getattr(actor, "department_id", None)
        if department_id is None:
            return own
        return own | Q(**{f"{prefix}department_id": department_id})
    if role == Role.DISTRICT_OFFICER:
        path = getattr(actor, "scope_path", None)
        if not path:
            return own
        return (
            own
            | Q(**{f"{prefix}region__path__startswith": path})
            | Q(**{f"{prefix}department__region__path__startswith": path})
        )
    return own


def _reference_q(actor: Actor, action: str) -> Q | None:
    """Reference data of the module: staff read it, the office (营商办) changes it."""
    role = role_of(actor)
    if role is None or role not in STAFF_ROLES:
        return None
    if action in (VIEW, EXPORT):
        return Q()
    if action == CHANGE and has_capability(actor, "training.manage"):
        return Q()
    return None


def _material_path(instance: Material, filename: str) -> str:
    suffix = PurePath(filename).suffix.lower()
    return f"training/materials/{timezone.now():%Y%m}/{timezone.now():%d%H%M%S%f}{suffix}"


class Material(models.Model):
    """A learning material (学习资料): a document, a video, slides or a link, for an indicator
    or a topic, for everyone (共性) or for the departments that lead or answer for the indicator
    (个性)."""

    title = models.CharField("标题", max_length=200)
    kind = models.CharField("类型", max_length=20, choices=MaterialKind.choices)
    topic = models.CharField("专题", max_length=60, blank=True)
    indicator = models.ForeignKey(
        Indicator,
        verbose_name="关联指标",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    audience = models.CharField(
        "适用范围", max_length=20, choices=Audience.choices, default=Audience.COMMON
    )
    departments = models.ManyToManyField(
        Department, verbose_name="适用部门", blank=True, related_name="+"
    )
    description = models.TextField("简介", blank=True)
    file = models.FileField(
        "文件", storage=material_storage, upload_to=_material_path, blank=True, max_length=200
    )
    file_name = models.CharField("文件名", max_length=200, blank=True)
    size = models.PositiveIntegerField("大小（字节）", default=0)
    #: The text of a Word document, shown as its preview (the browser cannot show DOCX).
    preview_text = models.TextField("预览文本", blank=True)
    link_url = models.URLField("链接", max_length=500, blank=True)
    minutes = models.PositiveSmallIntegerField("学习时长（分钟）", default=10)
    sort_order = models.PositiveIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "学习资料"
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def suffix(self) -> str:
        return PurePath(self.file_name).suffix.lower().lstrip(".")

    scope_q = classmethod(lambda cls, actor, action: _reference_q(actor, action))


class MaterialProgress(models.Model):
    """One person's progress on one material: opened (已打开), watched to the end (已看完, the
    player's ``ended`` event) and finished (已学完)."""

    material = models.ForeignKey(
        Material, verbose_name="学习资料", on_delete=models.CASCADE, related_name="progress"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="学员",
        on_delete=models.CASCADE,
        related_name="training_progress",
    )
    opened_at = models.DateTimeField("首次打开", default=timezone.now)
    watched_at = models.DateTimeField("看完时间", null=True, blank=True)
    finished_at = models.DateTimeField("学完时间", null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "学习记录"
        constraints = [
            models.UniqueConstraint(fields=["material", "user"], name="training_progress_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.material_id}"

    scope_q = classmethod(
        lambda cls, actor, action: people_q(actor) if action in (VIEW, EXPORT) else None
    )


class Course(models.Model):
    """A course (培训课程): materials in order, assigned to units with a deadline."""

    title = models.CharField("课程名称", max_length=200)
    description = models.TextField("课程简介", blank=True)
    materials = models.ManyToManyField(
        Material, verbose_name="学习资料", through="CourseMaterial", related_name="courses"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "培训课程"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    scope_q = classmethod(lambda cls, actor, action: _reference_q(actor, action))


class CourseMaterial(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="items")
    material = models.ForeignKey(Material, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField("顺序", default=1)

    class Meta:
        verbose_name = "课程资料"
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["course", "material"], name="training_course_material")
        ]

    def __str__(self) -> str:
        return f"{self.course_id}#{self.position}"


class CourseAssignment(models.Model):
    """A course assigned (指派) to a department or to a district (its officers and the people of
    the departments in it), with a deadline."""

    course = models.ForeignKey(
        Course, verbose_name="培训课程", on_delete=models.CASCADE, related_name="assignments"
    )
    department = models.ForeignKey(
        Department,
        verbose_name="部门",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    region = models.ForeignKey(
        Region,
        verbose_name="县市区/园区",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    deadline = models.DateField("完成期限")
    assigned_by_label = models.CharField("指派人", max_length=200, blank=True)
    assigned_at = models.DateTimeField("指派时间", default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "课程指派"
        ordering = ["deadline", "id"]

    def __str__(self) -> str:
        unit = self.department or self.region
        return f"{self.course_id} → {unit}"

    @property
    def unit_name(self) -> str:
        unit = self.department or self.region
        return unit.name if unit is not None else ""

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        role = role_of(actor)
        if role is None or role not in STAFF_ROLES or action not in (VIEW, EXPORT):
            return None
        if role in CITY_WIDE_ROLES:
            return Q()
        department_id = getattr(actor, "department_id", None)
        if role in DEPARTMENT_STAFF_ROLES:
            return Q(department_id=department_id) if department_id else None
        path = getattr(actor, "scope_path", None)
        if not path:
            return None
        return Q(region__path__startswith=path) | Q(department__region__path__startswith=path)


class Question(models.Model):
    """A question of the bank (题库): single or multiple choice, true/false or fill-in, tagged
    by indicator, difficulty and free tags. ``answer`` holds the right option letters (choice
    and true/false) or the accepted texts (fill-in)."""

    kind = models.CharField("题型", max_length=20, choices=QuestionKind.choices)
    stem = models.TextField("题干")
    options = models.JSONField("选项", default=list, blank=True)
    answer = models.JSONField("答案", default=list)
    explanation = models.TextField("解析", blank=True)
    indicator = models.ForeignKey(
        Indicator,
        verbose_name="关联指标",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    difficulty = models.CharField(
        "难度", max_length=10, choices=Difficulty.choices, default=Difficulty.MEDIUM
    )
    #: Free tags, stored "，"-joined with a leading and trailing "，" so one tag is one LIKE.
    tags = models.CharField("标签", max_length=200, blank=True)
    is_active = models.BooleanField("启用", default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    updated_at = models.DateTimeField("修改时间", default=timezone.now)

    objects = ScopedManager()

    class Meta:
        verbose_name = "试题"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.stem[:40]

    @property
    def tag_list(self) -> list[str]:
        return [t for t in self.tags.split("，") if t]

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        # The bank is the office's: people meet its questions only inside their attempts.
        return Q() if has_capability(actor, "training.manage") else None


class Exam(models.Model):
    """An exam (考试) drawn from the bank by rules (per tag, indicator and difficulty), timed,
    with a number of attempts and a pass mark, for everyone or for chosen units."""

    title = models.CharField("考试名称", max_length=200)
    description = models.TextField("考试说明", blank=True)
    #: [{"count": n, "points": p, "tag": "", "indicator": "<code>", "difficulty": "", "kind": ""}]
    rules = models.JSONField("抽题规则", default=list, blank=True)
    duration_minutes = models.PositiveSmallIntegerField("考试时长（分钟）", default=30)
    max_attempts = models.PositiveSmallIntegerField("可考次数", default=1)
    pass_mark = models.PositiveSmallIntegerField("及格分数（百分制）", default=60)
    for_everyone = models.BooleanField("全体工作人员参加", default=True)
    departments = models.ManyToManyField(
        Department, verbose_name="参加部门", blank=True, related_name="+"
    )
    regions = models.ManyToManyField(
        Region, verbose_name="参加县市区/园区", blank=True, related_name="+"
    )
    closes_at = models.DateTimeField("截止时间", null=True, blank=True)
    status = models.CharField(
        "状态", max_length=20, choices=list(EXAM_STATES.items()), default=DRAFT, editable=False
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    version = models.PositiveIntegerField("版本", default=1)

    objects = ScopedManager()
    workflow = EXAM_WORKFLOW

    class Meta:
        verbose_name = "考试"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @property
    def question_count(self) -> int:
        return sum(int(rule.get("count", 0)) for rule in self.rules)

    @property
    def max_score(self) -> int:
        return sum(int(rule.get("count", 0)) * int(rule.get("points", 1)) for rule in self.rules)

    scope_q = classmethod(lambda cls, actor, action: _reference_q(actor, action))


class Attempt(models.Model):
    """One person's attempt (答卷) at an exam. The deadline is fixed on the server when the
    attempt starts (start + duration, not after the exam's closing time); answers saved after
    it are refused."""

    exam = models.ForeignKey(
        Exam, verbose_name="考试", on_delete=models.CASCADE, related_name="attempts"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="答题人",
        on_delete=models.CASCADE,
        related_name="training_attempts",
    )
    number = models.PositiveSmallIntegerField("第几次", default=1)
    status = models.CharField(
        "状态",
        max_length=20,
        choices=list(ATTEMPT_STATES.items()),
        default=IN_PROGRESS,
        editable=False,
    )
    started_at = models.DateTimeField("开始时间", default=timezone.now)
    deadline = models.DateTimeField("交卷期限")
    finished_at = models.DateTimeField("交卷时间", null=True, blank=True)
    score = models.DecimalField("得分", max_digits=7, decimal_places=2, null=True, blank=True)
    max_score = models.DecimalField("满分", max_digits=7, decimal_places=2, default=0)
    percent = models.DecimalField(
        "百分制得分", max_digits=5, decimal_places=1, null=True, blank=True
    )
    passed = models.BooleanField("及格", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1)

    objects = ScopedManager()
    workflow = ATTEMPT_WORKFLOW

    class Meta:
        verbose_name = "答卷"
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["exam", "user", "number"], name="training_attempt_number"
            )
        ]
        indexes = [models.Index(fields=["status", "deadline"], name="training_attempt_due")]

    def __str__(self) -> str:
        return f"{self.exam_id}/{self.user_id}#{self.number}"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        if action == CHANGE:
            # Only the person answers their own attempt.
            pk = getattr(actor, "pk", None)
            return Q(user_id=pk) if pk is not None and role_of(actor) in STAFF_ROLES else None
        return people_q(actor) if action in (VIEW, EXPORT) else None


class AttemptAnswer(models.Model):
    """One drawn question of an attempt with the person's response. The question is copied
    (``snapshot``) when drawn, so an edit of the bank never changes a given exam."""

    attempt = models.ForeignKey(
        Attempt, verbose_name="答卷", on_delete=models.CASCADE, related_name="answers"
    )
    question = models.ForeignKey(
        Question, verbose_name="试题", on_delete=models.PROTECT, related_name="+"
    )
    position = models.PositiveSmallIntegerField("题号")
    points = models.DecimalField("分值", max_digits=5, decimal_places=2, default=1)
    snapshot = models.JSONField("试题内容", default=dict)
    response = models.JSONField("作答", default=list, blank=True)
    saved_at = models.DateTimeField("保存时间", null=True, blank=True)
    correct = models.BooleanField("正确", null=True, blank=True)
    awarded = models.DecimalField("得分", max_digits=5, decimal_places=2, default=0)

    class Meta:
        verbose_name = "答题"
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "position"], name="training_answer_position")
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id}#{self.position}"


class WrongAnswer(models.Model):
    """An entry of a person's wrong-answer book (错题本): every question they answered wrong in
    an exam, with their last wrong response, kept for practice until answered right twice in a
    row (``mastered_at``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="学员",
        on_delete=models.CASCADE,
        related_name="training_wrong_answers",
    )
    question = models.ForeignKey(
        Question, verbose_name="试题", on_delete=models.CASCADE, related_name="+"
    )
    last_response = models.JSONField("最近错误作答", default=list, blank=True)
    wrong_count = models.PositiveIntegerField("答错次数", default=1)
    right_streak = models.PositiveSmallIntegerField("连续答对次数", default=0)
    practice_count = models.PositiveIntegerField("练习次数", default=0)
    first_wrong_at = models.DateTimeField("首次答错", default=timezone.now)
    last_wrong_at = models.DateTimeField("最近答错", default=timezone.now)
    mastered_at = models.DateTimeField("掌握时间", null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        verbose_name = "错题"
        ordering = ["mastered_at", "-last_wrong_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "question"], name="training_wrong_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.question_id}"

    @classmethod
    def scope_q(cls, actor: Actor, action: str) -> Q | None:
        if action == CHANGE:
            pk = getattr(actor, "pk", None)
            return Q(user_id=pk) if pk is not None and role_of(actor) in STAFF_ROLES else None
        return people_q(actor) if action in (VIEW, EXPORT) else None


__all__ = [
    "Attempt",
    "AttemptAnswer",
    "Audience",
    "Course",
    "CourseAssignment",
    "CourseMaterial",
    "Difficulty",
    "Exam",
    "Material",
    "MaterialKind",
    "MaterialProgress",
    "Question",
    "QuestionKind",
    "WrongAnswer",
    "people_q",
]
