from django.apps import AppConfig


class EnterpriseRequestsConfig(AppConfig):
    name = "sizhen.enterprise_requests"
    label = "enterprise_requests"
    verbose_name = "企业诉求"
