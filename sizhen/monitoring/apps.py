from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "sizhen.monitoring"
    label = "monitoring"
    verbose_name = "预警"

    def ready(self) -> None:
        # Register the alert scan job and its 6-hourly schedule with the job runner.
        from sizhen.monitoring import scan  # noqa: F401
