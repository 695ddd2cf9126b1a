from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "sizhen.organisations"
    label = "organisations"
    verbose_name = "组织机构"
