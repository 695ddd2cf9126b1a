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
