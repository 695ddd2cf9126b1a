"""Periodic filling (定期填报) and aggregate imports; mounted at /monitoring/filling/ by
``indicators.urls``, with the pull source pages."""

from django.urls import path

from sizhen.indicators.filling.views import rounds, tasks

urlpatterns = [
    path("", tasks.FillingTaskListView.as_view(), name="task_list"),
    path("overdue/", tasks.OverdueTaskListView.as_view(), name="overdue"),
    path("tasks/<int:pk>/", tasks.task_detail, name="task_detail"),
    path("tasks/<int:pk>/review/", tasks.task_review, name="task_review"),
    path("rounds/", rounds.FillingRoundListView.as_view(), name="round_list"),
    path("rounds/new/", rounds.round_new, name="round_new"),
    path("rounds/<int:pk>/", rounds.round_detail, name="round_detail"),
    path("rules/", rounds.rule_list, name="rule_list"),
    path("rules/new/", rounds.rule_new, name="rule_new"),
    path("rules/<int:pk>/toggle/", rounds.rule_toggle, name="rule_toggle"),
    path("aggregate/import/", rounds.aggregate_import, name="aggregate_import"),
    path("aggregate/template/", rounds.aggregate_template, name="aggregate_template"),
]
