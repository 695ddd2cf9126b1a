"""Choices of the surveys app (问卷调查)."""

from __future__ import annotations

from django.db import models


class QuestionType(models.TextChoices):
    SINGLE = "single", "单选"
    MULTIPLE = "multiple", "多选"
    RATING = "rating", "评分"
    INTEGER = "integer", "整数"
    DECIMAL = "decimal", "小数"
    TEXT = "text", "文本"
    DATE = "date", "日期"
    MATRIX = "matrix", "矩阵量表"
    NOTE = "note", "说明"


#: Types whose answers are one or more of the question's choices.
CHOICE_TYPES = frozenset({QuestionType.SINGLE, QuestionType.MULTIPLE, QuestionType.MATRIX})
#: Types whose answers are numbers: they get a mean and a median in the results.
NUMERIC_TYPES = frozenset({QuestionType.INTEGER, QuestionType.DECIMAL, QuestionType.RATING})


class Topic(models.TextChoices):
    """Topics of the question bank (题库), after the seeds' 专项问卷 areas."""

    ENTERPRISE = "enterprise", "企业基本情况"
    GOVERNMENT_SERVICE = "government_service", "政务服务"
    MARKET_ACCESS = "market_access", "市场准入"
    FACTORS = "factors", "要素保障"
    FINANCING = "financing", "融资信贷"
    POLICY = "policy", "政策兑现"
    REGULATION = "regulation", "市场监管"
    LEGAL = "legal", "法治环境"
    OVERALL = "overall", "总体评价"
    OTHER = "other", "其他"


class VersionSource(models.TextChoices):
    XLSFORM = "xlsform", "XLSForm 导入"
    BUILDER = "builder", "在线编辑"
    COPY = "copy", "修改已发布版本"


class Channel(models.TextChoices):
    ACCOUNT = "account", "企业账号"
    LINK = "link", "填写链接"
    API = "api", "接口"
    PAPER = "paper", "纸质问卷录入"


class FollowUpKind(models.TextChoices):
    """What a problem found by asking becomes (问题转办)."""

    REQUEST = "request", "企业诉求"
    RECTIFICATION = "rectification", "整改事项"


#: The question by which an enterprise consents to its problems being handled as requests
#: (同意转办): a questionnaire's question of this name, answered with one of CONSENT_YES.
CONSENT_QUESTION = "consent"
CONSENT_YES = frozenset({"yes", "1", "true", "是"})


class AnswerErrorCode(models.TextChoices):
    REQUIRED = "required", "必答题未作答"
    INVALID_VALUE = "invalid_value", "取值无效"
    INVALID_CHOICE = "invalid_choice", "不是本题的选项"
    CONSTRAINT = "constraint", "不符合填写要求"
    NOT_RELEVANT = "not_relevant", "按跳题规则不应作答"
    UNKNOWN_QUESTION = "unknown_question", "没有该题"


#: Reminders go to non-responders of rounds that close within this many days.
REMINDER_DAYS = 3
