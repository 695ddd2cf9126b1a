from django.urls import path

from sizhen.organisations import views

app_name = "organisations"


def _import_urls(prefix: str, slug: str) -> list:
    # Fixed paths come before <code>/ so that “import” and “new” never read as a code.
    return [
        path(f"{slug}/import/", views.import_page, {"slug": slug}, name=f"{prefix}_import"),
        path(
            f"{slug}/import/template/",
            views.import_template,
            {"slug": slug},
            name=f"{prefix}_template",
        ),
        path(
            f"{slug}/import/<str:token>/report/",
            views.import_report,
            {"slug": slug},
            name=f"{prefix}_import_report",
        ),
    ]


urlpatterns = [
    path("regions/", views.RegionListView.as_view(), name="region_list"),
    path("regions/new/", views.region_new, name="region_new"),
    *_import_urls("region", "regions"),
    path("regions/<str:code>/", views.region_detail, name="region_detail"),
    path("regions/<str:code>/edit/", views.region_edit, name="region_edit"),
    path("departments/", views.DepartmentListView.as_view(), name="department_list"),
    path("departments/new/", views.department_new, name="department_new"),
    *_import_urls("department", "departments"),
    path("departments/<str:code>/", views.department_detail, name="department_detail"),
    path("departments/<str:code>/edit/", views.department_edit, name="department_edit"),
    path("enterprises/", views.EnterpriseListView.as_view(), name="enterprise_list"),
    path("enterprises/new/", views.enterprise_new, name="enterprise_new"),
    *_import_urls("enterprise", "enterprises"),
    path("enterprises/<str:uscc>/", views.enterprise_detail, name="enterprise_detail"),
    path("enterprises/<str:uscc>/edit/", views.enterprise_edit, name="enterprise_edit"),
]
