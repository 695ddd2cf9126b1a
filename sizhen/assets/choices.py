from django.db import models


class UpdateFrequency(models.TextChoices):
    REALTIME = "realtime", "实时"
    DAILY = "daily", "每日"
    WEEKLY = "weekly", "每周"
    MONTHLY = "monthly", "每月"
    QUARTERLY = "quarterly", "每季度"
    YEARLY = "yearly", "每年"


class DocumentKind(models.TextChoices):
    KEY_POINTS = "key_points", "考核要点"
    DOCUMENT = "document", "文件资料"
    POLICY = "policy", "政策沿革"


class ExtractKind(models.TextChoices):
    RECORDS = "records", "数据集明细记录"
    VALUES = "values", "指标数值"


class ExtractFormat(models.TextChoices):
    XLSX = "xlsx", "Excel（.xlsx）"
    CSV = "csv", "CSV（.csv）"


class AssetKind(models.TextChoices):
    DATASET = "dataset", "数据集"
    INDICATOR = "indicator", "指标"
    FILLING = "filling", "填报表"
    SURVEY = "survey", "调查轮次"
