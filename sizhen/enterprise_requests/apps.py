from django.apps import AppConfig


class EnterpriseRequestsConfig(AppConfig):
    name = "sizhen.enterprise_requests"
    label = "enterprise_requests"
    verbose_name = "企业诉求"

    def ready(self) -> None:
        # Register the jobs with the job runner: the daily deadline check, the monthly report
        # and the publication of the monthly rates to the indicator engine.
        from sizhen.enterprise_requests import jobs, report  # noqa: F401
