"""Periodic filling (定期填报), aggregate imports and pull sources; mounted at
/monitoring/filling/."""

from django.urls import path

from sizhen.indicators import views_filling as views

app_name = "indicator_filling"

urlpatterns = [
    path("", views.FillingTaskListView.as_view(), name="task_list"),
    path("overdue/", views.OverdueTaskListView.as_view(), name="overdue"),
    path("tasks/<int:pk>/", views.task_detail, name="task_detail"),
    path("tasks/<int:pk>/review/", views.task_review, name="task_review"),
    path("rounds/", views.FillingRoundListView.as_view(), name="round_list"),
    path("rounds/new/", views.round_new, name="round_new"),
    path("rounds/<int:pk>/", views.round_detail, name="round_detail"),
    path("rules/", views.rule_list, name="rule_list"),
    path("rules/new/", views.rule_new, name="rule_new"),
    path("rules/<int:pk>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("aggregate/import/", views.aggregate_import, name="aggregate_import"),
    path("aggregate/template/", views.aggregate_template, name="aggregate_template"),
    path("pulls/", views.PullSourceListView.as_view(), name="pull_list"),
    path("pulls/new/", views.pull_new, name="pull_new"),
    path("pulls/<int:pk>/edit/", views.pull_edit, name="pull_edit"),
    path("pulls/<int:pk>/run/", views.pull_run, name="pull_run"),
]
