"""Choices of periodic filling (定期填报)."""

from django.db import models


class FillingStatus(models.TextChoices):
    OPEN = "open", "待填报"
    SUBMITTED = "submitted", "已提交待审核"
    RETURNED = "returned", "已退回"
    APPROVED = "approved", "审核通过（已锁定）"


class FillingTarget(models.TextChoices):
    AUTO = "auto", "按指标设置：有责任部门的下发至责任部门，否则下发至各县市区、园区"
    DEPARTMENTS = "departments", "各责任部门"
    DISTRICTS = "districts", "各县市区、园区"


class RuleKind(models.TextChoices):
    RANGE = "range", "取值范围"
    CHANGE_VS_LAST_PERIOD = "change_vs_last_period", "与上期相比变化幅度"
    CROSS_FIELD = "cross_field", "与其他指标的关系"


class RuleSeverity(models.TextChoices):
    ERROR = "error", "错误（不能提交）"
    WARNING = "warning", "警告（说明原因后可提交）"


#: Tasks still waiting for a figure: not yet submitted, or returned for correction.
OPEN_STATES = (FillingStatus.OPEN, FillingStatus.RETURNED)
