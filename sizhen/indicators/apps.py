from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "sizhen.indicators"
    label = "indicators"
    verbose_name = "监测分析"
