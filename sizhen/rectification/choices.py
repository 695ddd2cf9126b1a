"""Choices of the rectification ledger (整改清单)."""

from __future__ import annotations

from django.db import models


class Source(models.TextChoices):
    EVALUATION = "evaluation", "评估反馈问题"
    ALERT = "alert", "监测预警"
    REQUEST = "request", "企业诉求分析"
    INSPECTION = "inspection", "督查检查"
    SURVEY = "survey", "问卷调查"


class Judgement(models.TextChoices):
    EFFECTIVE = "effective", "有效"
    PARTIAL = "partial", "部分有效"
    INEFFECTIVE = "ineffective", "无效"


class Trend(models.TextChoices):
    BETTER = "better", "向好"
    WORSE = "worse", "变差"
    UNCHANGED = "unchanged", "持平"
    NO_DATA = "no_data", "无数据"
