from django.apps import AppConfig


class RectificationConfig(AppConfig):
    name = "sizhen.rectification"
    label = "rectification"
    verbose_name = "整改清单"
    #: The home page's work queue and key figures (sizhen/core/workqueue.py).
    work_queues = "sizhen.rectification.selectors.WORK_QUEUES"
    key_figures = "sizhen.rectification.selectors.key_figures"

    def ready(self) -> None:
        # Register the ledger's jobs with the job runner.
        from sizhen.rectification import jobs  # noqa: F401
