from django.urls import path

from sizhen.work_tasks import views, views_reports

app_name = "work_tasks"

urlpatterns = [
    path("", views.AssignmentListView.as_view(), name="list"),
    path("mine/", views.MyAssignmentListView.as_view(), name="mine"),
    path("board/", views.board, name="board"),
    path("issue/", views.issue, name="issue"),
    path("import/", views_reports.plan_import, name="import"),
    path("statistics/", views_reports.statistics, name="statistics"),
    path("report/", views_reports.monthly_report, name="monthly_report"),
    path("from-alert/<int:alert_pk>/", views.from_alert, name="from_alert"),
    path("files/<int:pk>/", views.download, name="download"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/transfer/", views.transfer, name="transfer"),
    path("<int:pk>/progress/", views.progress, name="progress"),
    path("<int:pk>/urge/", views.urge, name="urge"),
    path("<int:pk>/list/", views.list_supervision, name="list_supervision"),
    path("<int:pk>/meeting/", views.meeting, name="meeting"),
    path("<int:pk>/<slug:action>/", views.step, name="step"),
]
