from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "sizhen.surveys"
    label = "surveys"
    verbose_name = "问卷调查"

    def ready(self) -> None:
        # Register the survey jobs (closing due rounds, reminders) with the job runner.
        from sizhen.surveys import jobs  # noqa: F401
