from django.urls import path

from sizhen.monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("", views.AlertListView.as_view(), name="alert_list"),
    path("<int:pk>/", views.alert_detail, name="alert_detail"),
    path("<int:pk>/<slug:action>/", views.alert_transition, name="alert_transition"),
]
