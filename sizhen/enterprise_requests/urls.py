from django.urls import URLPattern, path

from sizhen.enterprise_requests import views

app_name = "enterprise_requests"

urlpatterns: list[URLPattern] = [
    path("", views.index, name="ledger"),
    path("mine/", views.MyRequestsView.as_view(), name="mine"),
    path("new/", views.submit, name="submit"),
    path("register/", views.register, name="register"),
    path("public/", views.public, name="public"),
    path("forums/", views.ForumListView.as_view(), name="forum_list"),
    path("forums/new/", views.forum_create, name="forum_create"),
    path("forums/<int:pk>/", views.forum_detail, name="forum_detail"),
    path("categories/", views.CategoryListView.as_view(), name="category_list"),
    path("categories/new/", views.category_edit, name="category_create"),
    path("categories/<int:pk>/", views.category_edit, name="category_edit"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/act/<slug:action>/", views.act, name="act"),
    path("<int:pk>/files/<int:attachment_pk>/", views.attachment, name="attachment"),
]
