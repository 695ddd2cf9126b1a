"""Dashboards (一指标一页面, 领导驾驶舱): pages that only read precomputed indicator values."""

from django.urls import path

from sizhen.dashboards import views, views_cockpit, views_records

app_name = "dashboards"

urlpatterns = [
    path("", views.index, name="index"),
    path("indicators/<str:code>/", views.indicator, name="indicator"),
    path("indicators/<str:code>/records/", views_records.records, name="records"),
    path("cockpit/", views_cockpit.cockpit, name="cockpit"),
    path("bigscreen/", views_cockpit.bigscreen, name="bigscreen"),
]
