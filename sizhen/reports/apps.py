from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "sizhen.reports"
    label = "reports"
    verbose_name = "文书与报告"
    #: The home page's work queue (sizhen/core/workqueue.py).
    work_queues = "sizhen.reports.selectors.WORK_QUEUES"

    def ready(self) -> None:
        # Register the letters' jobs and their subscription to the alert scan.
        from sizhen.reports import jobs  # noqa: F401
