from django.urls import URLPattern

app_name = "work_tasks"

urlpatterns: list[URLPattern] = []
