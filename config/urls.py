from django.urls import include, path

from config.api import api

urlpatterns = [
    path("accounts/", include("sizhen.accounts.urls")),
    path("org/", include("sizhen.organisations.urls")),
    path("api/v1/", api.urls),
    path("", include("sizhen.core.urls")),
]

handler404 = "django.views.defaults.page_not_found"
