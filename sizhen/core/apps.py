from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "sizhen.core"
    label = "core"
    verbose_name = "平台核心"

    def ready(self) -> None:
        # Register the platform's own jobs (notification delivery, calendar checks).
        from sizhen.core import notifications  # noqa: F401
