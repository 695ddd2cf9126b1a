"""Choices of work tasks (工作任务)."""

from __future__ import annotations

from django.db import models


class TaskSource(models.TextChoices):
    ANNUAL_PLAN = "annual_plan", "年度工作计划"
    LEADER_INSTRUCTION = "leader_instruction", "领导批示"
    ALERT = "alert", "监测预警"
    EVALUATION_FEEDBACK = "evaluation_feedback", "评价反馈"
    REQUEST_ANALYSIS = "request_analysis", "诉求分析"


class Timeliness(models.TextChoices):
    """How a completed assignment finished against its deadline."""

    EARLY = "early", "提前完成"
    ON_TIME = "on_time", "按期完成"
    LATE = "late", "逾期完成"


class ReminderKind(models.TextChoices):
    BEFORE_DEADLINE = "before_deadline", "临期提醒"
    OVERDUE = "overdue", "逾期提醒"


#: An assignment finished at least this many working days before its deadline is "early".
EARLY_MARGIN_WORKING_DAYS = 1
#: Reminders go out when this many working days (or fewer) are left.
REMINDER_WORKING_DAYS = 3
