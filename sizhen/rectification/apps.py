from django.apps import AppConfig


class RectificationConfig(AppConfig):
    name = "sizhen.rectification"
    label = "rectification"
    verbose_name = "整改清单"

    def ready(self) -> None:
        # Register the ledger's jobs with the job runner.
        from sizhen.rectification import jobs  # noqa: F401
