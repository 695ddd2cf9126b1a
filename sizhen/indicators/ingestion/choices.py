from django.db import models


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
