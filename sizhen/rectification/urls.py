from django.urls import URLPattern, path

from sizhen.rectification import views

app_name = "rectification"

urlpatterns: list[URLPattern] = [
    path("", views.ItemListView.as_view(), name="item_list"),
    path("new/", views.item_create, name="item_create"),
    path("from-alert/<int:alert_pk>/", views.item_from_alert, name="item_from_alert"),
    path("stats/", views.stats, name="stats"),
    path("export.docx", views.export_docx, name="export_docx"),
    path("import/", views.import_page, name="import"),
    path("import/template/", views.import_template_download, name="import_template"),
    path("public/", views.public_list, name="public_list"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence_download"),
    path("<int:pk>/", views.item_detail, name="item_detail"),
    path("<int:pk>/step/<slug:action>/", views.item_step, name="item_step"),
    path("<int:pk>/progress/", views.item_progress, name="item_progress"),
    path("<int:pk>/evidence/", views.item_evidence, name="item_evidence"),
    path("<int:pk>/review/", views.item_review, name="item_review"),
    path("<int:pk>/publish/", views.item_publish, {"publish": True}, name="item_publish"),
    path("<int:pk>/unpublish/", views.item_publish, {"publish": False}, name="item_unpublish"),
]
