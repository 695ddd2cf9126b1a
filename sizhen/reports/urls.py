from django.urls import path  # noqa: F401 - filled by the letter pages

app_name = "reports"

urlpatterns: list = []
