from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "sizhen.dispatch"
    label = "dispatch"
    verbose_name = "派单目录与智能派单"

    def ready(self) -> None:
        # Register the retraining job with the job runner.
        from sizhen.dispatch import jobs  # noqa: F401
