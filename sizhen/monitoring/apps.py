from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "sizhen.monitoring"
    label = "monitoring"
    verbose_name = "预警"
    #: The home page's work queue and key figures (sizhen/core/workqueue.py).
    work_queues = "sizhen.monitoring.selectors.WORK_QUEUES"
    key_figures = "sizhen.monitoring.selectors.key_figures"

    def ready(self) -> None:
        # Register the alert scan job and its 6-hourly schedule with the job runner.
        from sizhen.monitoring import scan  # noqa: F401
