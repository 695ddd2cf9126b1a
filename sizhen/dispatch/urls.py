from django.urls import path

from sizhen.dispatch import views

app_name = "dispatch"

urlpatterns = [
    path("", views.CatalogueListView.as_view(), name="catalogue_list"),
    path("new/", views.entry_new, name="entry_new"),
    path("<int:pk>/", views.entry_edit, name="entry_edit"),
    path("load-defaults/", views.load_defaults, name="load_defaults"),
    path("model/", views.model_status, name="model_status"),
    path("model/train/", views.train, name="train"),
]
