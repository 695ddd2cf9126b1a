from django.urls import path

from sizhen.monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("", views.AlertListView.as_view(), name="alert_list"),
    path("rules/", views.AlertRuleListView.as_view(), name="rule_list"),
    path("rules/new/", views.rule_new, name="rule_new"),
    path("rules/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("<int:pk>/", views.alert_detail, name="alert_detail"),
    path("<int:pk>/<slug:action>/", views.alert_transition, name="alert_transition"),
]
