from django.urls import path

from sizhen.assets import views

app_name = "assets"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("datasets/<slug:code>/", views.dataset_asset, name="dataset"),
    path("datasets/<slug:code>/profile/", views.dataset_profile, name="dataset_profile"),
    path("indicators/<str:code>/", views.indicator_asset, name="indicator"),
    path("results/", views.ResultListView.as_view(), name="result_list"),
    path("results/import/", views.results_import, name="results_import"),
    path("results/template/", views.results_template, name="results_template"),
    path("documents/", views.DocumentListView.as_view(), name="document_list"),
    path("documents/new/", views.document_create, name="document_create"),
    path("documents/<int:pk>/", views.document_detail, name="document_detail"),
    path("documents/<int:pk>/file/", views.document_download, name="document_download"),
    path("extracts/", views.ExtractListView.as_view(), name="extract_list"),
    path("extracts/new/", views.extract_create, name="extract_create"),
    path("extracts/<int:pk>/", views.extract_detail, name="extract_detail"),
    path("extracts/<int:pk>/download/", views.extract_download, name="extract_download"),
    path("extracts/<int:pk>/<slug:action>/", views.extract_decide, name="extract_decide"),
]
