from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "sizhen.training"
    label = "training"
    verbose_name = "营商培训"

    def ready(self) -> None:
        # Register the exam deadline job with the job runner.
        from sizhen.training import jobs  # noqa: F401
