from django.apps import AppConfig


class EnterpriseRequestsConfig(AppConfig):
    name = "sizhen.enterprise_requests"
    label = "enterprise_requests"
    verbose_name = "企业诉求"

    def ready(self) -> None:
        # Register the daily deadline check with the job runner.
        from sizhen.enterprise_requests import jobs  # noqa: F401
