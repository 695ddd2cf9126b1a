from django.urls import path

from sizhen.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("m/<slug:slug>/", views.module_placeholder, name="module"),
    path("system/", views.system_index, name="system"),
    path("system/audit/", views.AuditEventListView.as_view(), name="audit_list"),
    path("system/jobs/", views.JobListView.as_view(), name="job_list"),
    path("jobs/<int:pk>/progress/", views.job_progress, name="job_progress"),
    path("inbox/", views.NotificationListView.as_view(), name="inbox"),
    path("inbox/read/", views.notifications_mark_read, name="inbox_read"),
    path("system/calendar/", views.calendar_page, name="calendar"),
    path("system/calendar/day/", views.calendar_set_day, name="calendar_set_day"),
    path(
        "system/calendar/day/<int:pk>/delete/",
        views.calendar_delete_day,
        name="calendar_delete_day",
    ),
    path("system/calendar/year/", views.calendar_confirm_year, name="calendar_confirm_year"),
    path("healthz", views.healthz, name="healthz"),
]
