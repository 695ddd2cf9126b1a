"""Pages of the indicators app, included at /monitoring/ (监测分析)."""

from django.urls import path

from sizhen.indicators import views_catalogue as catalogue
from sizhen.indicators import views_simulation

app_name = "indicators"

urlpatterns = [
    path("catalogue/", catalogue.catalogue_page, name="catalogue"),
    path("catalogue/load/", catalogue.catalogue_load, name="catalogue_load"),
    path("catalogue/<str:code>/", catalogue.indicator_detail, name="indicator_detail"),
    path("catalogue/<str:code>/edit/", catalogue.indicator_edit, name="indicator_edit"),
    path(
        "catalogue/<str:code>/goalposts/<str:cycle_code>/",
        catalogue.goalpost_edit,
        name="goalpost_edit",
    ),
    path("cycles/", catalogue.cycle_list, name="cycle_list"),
    path("simulation/", views_simulation.simulation, name="simulation"),
    path("cycles/<str:code>/current/", catalogue.cycle_set_current, name="cycle_set_current"),
    path("benchmarks/", catalogue.BenchmarkListView.as_view(), name="benchmark_list"),
    path("benchmarks/new/", catalogue.benchmark_new, name="benchmark_new"),
    path("benchmarks/<int:pk>/edit/", catalogue.benchmark_edit, name="benchmark_edit"),
    path("benchmarks/<int:pk>/delete/", catalogue.benchmark_delete, name="benchmark_delete"),
    path("benchmarks/import/", catalogue.benchmark_import, name="benchmark_import"),
    path("benchmarks/import/template/", catalogue.benchmark_template, name="benchmark_template"),
    path(
        "benchmarks/import/errors/",
        catalogue.benchmark_import_report,
        name="benchmark_import_report",
    ),
]
