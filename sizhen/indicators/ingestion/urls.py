"""Data pages (数据接入), mounted at /monitoring/data/, and the pull source pages (数据对接),
mounted at /monitoring/filling/pulls/, by ``indicators.urls``."""

from django.urls import path

from sizhen.indicators.ingestion.views import datasets, loads, pulls, quarantine

urlpatterns = [
    path("", datasets.dataset_list, name="dataset_list"),
    # Fixed paths come before <code>/ so that “new” never reads as a dataset code.
    path("datasets/new/", datasets.dataset_new, name="dataset_new"),
    path("datasets/builtin/", datasets.dataset_builtin, name="dataset_builtin"),
    path("datasets/<slug:code>/", datasets.dataset_detail, name="dataset_detail"),
    path("datasets/<slug:code>/template/", datasets.dataset_template, name="dataset_template"),
    path(
        "datasets/<slug:code>/versions/new/",
        datasets.dataset_version_new,
        name="dataset_version_new",
    ),
    path("datasets/<slug:code>/quarantine/", quarantine.quarantine_list, name="quarantine_list"),
    path(
        "datasets/<slug:code>/quarantine/bulk/", quarantine.quarantine_bulk, name="quarantine_bulk"
    ),
    path("quarantine/<int:pk>/", quarantine.quarantine_row, name="quarantine_row"),
    path("loads/", loads.LoadBatchListView.as_view(), name="batch_list"),
    path("loads/upload/", loads.upload, name="upload"),
    path("loads/<int:pk>/", loads.batch_detail, name="batch_detail"),
    path("loads/<int:pk>/progress/", loads.batch_progress, name="batch_progress"),
    path("loads/<int:pk>/errors.xlsx", loads.batch_errors_xlsx, name="batch_errors_xlsx"),
]

pull_urlpatterns = [
    path("pulls/", pulls.PullSourceListView.as_view(), name="pull_list"),
    path("pulls/new/", pulls.pull_new, name="pull_new"),
    path("pulls/<int:pk>/edit/", pulls.pull_edit, name="pull_edit"),
    path("pulls/<int:pk>/run/", pulls.pull_run, name="pull_run"),
]
