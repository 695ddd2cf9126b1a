"""Choices of business-environment training (营商培训)."""

from __future__ import annotations

from django.db import models


class MaterialKind(models.TextChoices):
    DOCUMENT = "document", "文档"
    VIDEO = "video", "视频"
    SLIDES = "slides", "课件"
    LINK = "link", "链接"


class Audience(models.TextChoices):
    #: 共性: for every member of staff.
    COMMON = "common", "共性"
    #: 个性: for the departments that lead or answer for the indicator.
    SPECIFIC = "specific", "个性"


class QuestionKind(models.TextChoices):
    SINGLE = "single", "单选题"
    MULTIPLE = "multiple", "多选题"
    TRUE_FALSE = "true_false", "判断题"
    FILL = "fill", "填空题"


class Difficulty(models.TextChoices):
    EASY = "easy", "容易"
    MEDIUM = "medium", "中等"
    HARD = "hard", "困难"


class LearningStatus(models.TextChoices):
    NOT_STARTED = "not_started", "未学习"
    OPENED = "opened", "已打开"
    WATCHED = "watched", "已看完"
    FINISHED = "finished", "已学完"


#: The options of a true/false question: A is 正确, B is 错误.
TRUE_FALSE_OPTIONS = ["正确", "错误"]
OPTION_LETTERS = "ABCDEF"
