"""Choices of the enterprise requests (企业诉求) module."""

from __future__ import annotations

from django.db import models


class Channel(models.TextChoices):
    PORTAL = "portal", "企业服务门户"
    STAFF_FORUM = "staff_forum", "面对面座谈会"
    STAFF_WINDOW = "staff_window", "企业服务专窗"
    WECHAT_GROUP = "wechat_group", "企业家微信群"
    HOTLINE_12345 = "hotline_12345", "12345热线"
    API = "api", "接口推送"
    OPEN311 = "open311", "Open311接口"
    #: A problem an enterprise named in a questionnaire, turned into a request by the office
    #: with the enterprise's consent (surveys.services.follow_up).
    SURVEY = "survey", "问卷调查"


#: Channels registered by staff on an enterprise's behalf.
STAFF_CHANNELS = (Channel.STAFF_FORUM, Channel.STAFF_WINDOW, Channel.WECHAT_GROUP, Channel.SURVEY)


class Kind(models.TextChoices):
    CONSULT = "consult", "咨询"
    HELP = "help", "求助"
    COMPLAINT = "complaint", "投诉"
    SUGGESTION = "suggestion", "建议"


class Difficulty(models.TextChoices):
    SIMPLE = "simple", "简单"
    GENERAL = "general", "一般"
    COMPLEX = "complex", "复杂"


#: Default time limits in working days (0 = the same day); general issues take 5, 10 or 15.
DEFAULT_LIMITS = {Difficulty.SIMPLE: 0, Difficulty.GENERAL: 5, Difficulty.COMPLEX: 30}
LIMIT_OPTIONS = {
    Difficulty.SIMPLE: (0,),
    Difficulty.GENERAL: (5, 10, 15),
    Difficulty.COMPLEX: (30,),
}


class MessageKind(models.TextChoices):
    SUPPLEMENT_QUESTION = "supplement_question", "请企业补充材料"
    SUPPLEMENT_ANSWER = "supplement_answer", "企业补充材料"
    REPLY = "reply", "答复"
    NOTE = "note", "办理记录"
    CO_OPINION = "co_opinion", "协办意见"
    URGE = "urge", "催办"
    EXPLANATION = "explanation", "不满意情况说明"
    COORDINATION = "coordination", "协调会记录"
    PROGRESS = "progress", "进展报告"
    CONTACT = "contact", "联系企业"
    ESCALATION = "escalation", "升级督办"


#: Message kinds an enterprise reads on its own request.
ENTERPRISE_VISIBLE_MESSAGES = frozenset(
    {MessageKind.SUPPLEMENT_QUESTION, MessageKind.SUPPLEMENT_ANSWER, MessageKind.REPLY}
)


#: Timeline entries that are handling progress (办理进展): each restarts the count of working
#: days without progress that escalates a request (docs/decisions/0011-request-escalation.md).
PROGRESS_MESSAGES = frozenset(
    {MessageKind.PROGRESS, MessageKind.CONTACT, MessageKind.SUPPLEMENT_QUESTION}
)


class ContactMethod(models.TextChoices):
    """How the lead unit reached the enterprise (首次联系及后续联系)."""

    PHONE = "phone", "电话联系"
    VISIT = "visit", "上门走访"
    MEETING = "meeting", "约见面谈"
    ONLINE = "online", "微信、短信等线上联系"


class FirstContact(models.TextChoices):
    """Where a dispatched request stands against its first-contact clock (首次联系时限)."""

    MET = "met", "按时联系"
    LATE = "late", "超时联系"
    OVERDUE = "overdue", "超时未联系"
    PENDING = "pending", "待联系"


class EscalationTier(models.IntegerChoices):
    """The automatic escalation (升级督办) of a request its lead unit leaves without progress:
    to the unit's head, then to the city's special team, then listed supervision."""

    NONE = 0, "未升级"
    UNIT_LEADER = 1, "一级：提级单位负责人"
    CITY_TEAM = 2, "二级：提级市级专班"
    LISTED = 3, "三级：挂牌督办"


class RevisitMethod(models.TextChoices):
    PHONE = "phone", "电话回访"
    VISIT = "visit", "上门回访"
    RATING = "rating", "企业自评"


class Satisfaction(models.IntegerChoices):
    """The five levels of 好差评 (good/bad rating)."""

    VERY_SATISFIED = 5, "非常满意"
    SATISFIED = 4, "满意"
    BASICALLY = 3, "基本满意"
    UNSATISFIED = 2, "不满意"
    VERY_UNSATISFIED = 1, "非常不满意"


#: Ratings at or below this count as 差评 (unsatisfied).
UNSATISFIED_AT_MOST = 2


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    APPROVED = "approved", "已批准"
    REJECTED = "rejected", "未批准"
