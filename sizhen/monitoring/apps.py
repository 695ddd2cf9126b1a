from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "sizhen.monitoring"
    label = "monitoring"
    verbose_name = "预警"
