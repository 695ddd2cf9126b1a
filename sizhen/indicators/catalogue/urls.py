"""Catalogue pages (指标体系, 评价周期, 标杆值); mounted at /monitoring/ by ``indicators.urls``."""

from django.urls import path

from sizhen.indicators.catalogue.views import benchmarks
from sizhen.indicators.catalogue.views import indicators as catalogue

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
    path("cycles/<str:code>/current/", catalogue.cycle_set_current, name="cycle_set_current"),
    path("benchmarks/", benchmarks.BenchmarkListView.as_view(), name="benchmark_list"),
    path("benchmarks/new/", benchmarks.benchmark_new, name="benchmark_new"),
    path("benchmarks/<int:pk>/edit/", benchmarks.benchmark_edit, name="benchmark_edit"),
    path("benchmarks/<int:pk>/delete/", benchmarks.benchmark_delete, name="benchmark_delete"),
    path("benchmarks/import/", benchmarks.benchmark_import, name="benchmark_import"),
    path("benchmarks/import/template/", benchmarks.benchmark_template, name="benchmark_template"),
    path(
        "benchmarks/import/errors/",
        benchmarks.benchmark_import_report,
        name="benchmark_import_report",
    ),
]
