from django.urls import path

from sizhen.organisations import views

app_name = "organisations"

urlpatterns = [
    path("regions/", views.RegionListView.as_view(), name="region_list"),
    path("departments/", views.DepartmentListView.as_view(), name="department_list"),
    path("enterprises/", views.EnterpriseListView.as_view(), name="enterprise_list"),
]
