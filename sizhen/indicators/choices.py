from django.db import models


class Direction(models.TextChoices):
    HIGHER_IS_BETTER = "higher_is_better", "正向（越高越好）"
    LOWER_IS_BETTER = "lower_is_better", "负向（越低越好）"


class Frequency(models.TextChoices):
    MONTH = "month", "月"
    QUARTER = "quarter", "季"
    YEAR = "year", "年"


class SourceKind(models.TextChoices):
    RECORDS = "records", "系统数据计算"
    AGGREGATE = "aggregate", "汇总数据导入"
    FILLING = "filling", "部门填报"
    SURVEY = "survey", "问卷调查"
    COMPOSITE = "composite", "下级指标合成"


class Weighting(models.TextChoices):
    EQUAL = "equal", "等权"
    EXPERT = "expert", "专家赋权"
    ENTROPY = "entropy", "熵权法"


class LoadChannel(models.TextChoices):
    API = "api", "接口推送"
    FILE = "file", "文件导入"
    PULL = "pull", "定时拉取"
    QUARANTINE = "quarantine", "隔离区重新提交"


class LoadStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "处理中"
    LOADED = "loaded", "已入库"
    VALIDATED = "validated", "校验通过（试运行）"
    REJECTED = "rejected", "校验未通过"
    FAILED = "failed", "失败"


class LoadMode(models.TextChoices):
    STRICT = "strict", "严格（有错误则整批拒收）"
    LENIENT = "lenient", "宽松（有效行入库，错误行隔离）"


class QuarantineStatus(models.TextChoices):
    OPEN = "open", "待处理"
    RESUBMITTED = "resubmitted", "已重新提交"
    DISCARDED = "discarded", "已作废"


class PullKind(models.TextChoices):
    HTTP_JSON = "http_json", "HTTP JSON 接口"
    SQL = "sql", "SQL 数据库"
