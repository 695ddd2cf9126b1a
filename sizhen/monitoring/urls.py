from django.urls import path  # noqa: F401 - filled by the alert pages

app_name = "monitoring"

urlpatterns: list = []
