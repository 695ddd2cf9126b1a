from django.urls import path  # noqa: F401 - filled by the dashboards pages

app_name = "dashboards"

urlpatterns: list = []
