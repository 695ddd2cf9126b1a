from django.urls import URLPattern

app_name = "enterprise_requests"

urlpatterns: list[URLPattern] = []
