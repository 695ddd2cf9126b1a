from django.urls import path

from sizhen.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.letter_list, name="letter_list"),
    path("new/", views.letter_create, name="letter_create"),
    path("<int:pk>/", views.letter_detail, name="letter_detail"),
    path("<int:pk>/download/<str:kind>/", views.letter_download, name="letter_download"),
    path("<int:pk>/send/", views.letter_send, name="letter_send"),
    path("<int:pk>/edit/", views.letter_edit, name="letter_edit"),
    path("<int:pk>/discard/", views.letter_discard, name="letter_discard"),
]
