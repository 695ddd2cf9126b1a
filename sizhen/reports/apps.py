from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "sizhen.reports"
    label = "reports"
    verbose_name = "文书与报告"
