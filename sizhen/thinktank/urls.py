from django.urls import URLPattern, path

from sizhen.thinktank import views

app_name = "thinktank"

urlpatterns: list[URLPattern] = [
    path("policies/", views.search_page, name="search"),
    path("policies/library/", views.PolicyListView.as_view(), name="policy_list"),
    path("policies/new/", views.policy_create, name="policy_create"),
    path("policies/import/", views.import_page, name="import"),
    path("policies/import/template/", views.import_template_download, name="import_template"),
    path("policies/mine/", views.mine, name="mine"),
    path("policies/attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("policies/<int:pk>/", views.policy_detail, name="policy_detail"),
    path("policies/<int:pk>/edit/", views.policy_edit, name="policy_edit"),
    path("policies/<int:pk>/step/<slug:action>/", views.policy_step, name="policy_step"),
    path("policies/<int:pk>/attachments/", views.policy_attachment, name="policy_attachment"),
    path("policies/<int:pk>/redemptions/", views.policy_redemption, name="policy_redemption"),
    path("policies/<int:pk>/push/", views.policy_push, name="policy_push"),
    path("policies/<int:pk>/confirm/", views.policy_confirm, name="policy_confirm"),
]
