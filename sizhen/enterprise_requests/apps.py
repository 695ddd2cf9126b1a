from django.apps import AppConfig


class EnterpriseRequestsConfig(AppConfig):
    name = "sizhen.enterprise_requests"
    label = "enterprise_requests"
    verbose_name = "企业诉求"
    #: The home page's work queue and key figures (sizhen/core/workqueue.py).
    work_queues = "sizhen.enterprise_requests.selectors.WORK_QUEUES"
    key_figures = "sizhen.enterprise_requests.selectors.key_figures"

    def ready(self) -> None:
        # Register the jobs with the job runner: the daily deadline check, the monthly report
        # and the publication of the monthly rates to the indicator engine.
        from sizhen.enterprise_requests import jobs, report  # noqa: F401
