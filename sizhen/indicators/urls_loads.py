"""Data pages (数据接入), mounted at /monitoring/data/."""

from django.urls import path

from sizhen.indicators import views_loads as views

app_name = "indicator_data"

urlpatterns = [
    path("", views.dataset_list, name="dataset_list"),
    # Fixed paths come before <code>/ so that “new” never reads as a dataset code.
    path("datasets/new/", views.dataset_new, name="dataset_new"),
    path("datasets/builtin/", views.dataset_builtin, name="dataset_builtin"),
    path("datasets/<slug:code>/", views.dataset_detail, name="dataset_detail"),
    path("datasets/<slug:code>/template/", views.dataset_template, name="dataset_template"),
    path(
        "datasets/<slug:code>/versions/new/",
        views.dataset_version_new,
        name="dataset_version_new",
    ),
    path("datasets/<slug:code>/quarantine/", views.quarantine_list, name="quarantine_list"),
    path("datasets/<slug:code>/quarantine/bulk/", views.quarantine_bulk, name="quarantine_bulk"),
    path("quarantine/<int:pk>/", views.quarantine_row, name="quarantine_row"),
    path("loads/", views.LoadBatchListView.as_view(), name="batch_list"),
    path("loads/upload/", views.upload, name="upload"),
    path("loads/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("loads/<int:pk>/progress/", views.batch_progress, name="batch_progress"),
    path("loads/<int:pk>/errors.xlsx", views.batch_errors_xlsx, name="batch_errors_xlsx"),
]
