from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "sizhen.core"
    label = "core"
    verbose_name = "平台核心"
    #: The home page's work queue and key figures (sizhen/core/workqueue.py).
    work_queues = "sizhen.core.selectors.WORK_QUEUES"
    key_figures = "sizhen.core.selectors.key_figures"

    def ready(self) -> None:
        # Register the platform's own jobs (notification delivery, calendar checks).
        from sizhen.core import notifications  # noqa: F401
