"""Request analysis pages; mounted at /requests/analysis/."""

from django.urls import URLPattern, path

from sizhen.enterprise_requests import views_analysis as views

app_name = "enterprise_requests_analysis"

urlpatterns: list[URLPattern] = [
    path("", views.index, name="index"),
    path("reports/", views.reports, name="reports"),
    path("reports/generate/", views.report_generate, name="report_generate"),
    path("reports/publish/", views.publish, name="publish"),
    path("reports/<str:month>/", views.report_download, name="report_download"),
]
