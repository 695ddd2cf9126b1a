from django.db import models


class RegionLevel(models.TextChoices):
    CITY = "city", "市"
    DISTRICT = "district", "区"
    COUNTY = "county", "县（市）"
    PARK = "park", "园区"
    TOWN = "town", "乡镇（街道）"


class DepartmentType(models.TextChoices):
    CITY_DEPARTMENT = "city_department", "市级部门"
    DISTRICT_DEPARTMENT = "district_department", "县市区部门"
    UTILITY = "utility", "公用事业单位"
    JUDICIAL = "judicial", "司法机关"
    OFFICE = "office", "营商环境主管部门"
    OTHER = "other", "其他"


class EnterpriseSize(models.TextChoices):
    LARGE = "large", "大型"
    MEDIUM = "medium", "中型"
    SMALL = "small", "小型"
    MICRO = "micro", "微型"
