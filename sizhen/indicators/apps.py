from django.apps import AppConfig


class IndicatorsConfig(AppConfig):
    name = "sizhen.indicators"
    label = "indicators"
    verbose_name = "监测分析"

    def ready(self) -> None:
        # Register the app's background jobs with the job runner.
        from sizhen.indicators import compute, extracts, filling, loads, pulls  # noqa: F401
