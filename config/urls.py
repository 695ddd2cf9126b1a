from django.urls import include, path

from config.api import api
from sizhen.indicators import urls as indicators_urls

urlpatterns = [
    path("accounts/", include("sizhen.accounts.urls")),
    path("org/", include("sizhen.organisations.urls")),
    path("monitoring/data/", include(indicators_urls.data_urls)),
    path("monitoring/filling/", include(indicators_urls.filling_urls)),
    path("monitoring/alerts/", include("sizhen.monitoring.urls")),
    path("monitoring/letters/", include("sizhen.reports.urls")),
    path("monitoring/", include("sizhen.indicators.urls")),
    path("tasks/", include("sizhen.work_tasks.urls")),
    path("rectification/", include("sizhen.rectification.urls")),
    path("requests/analysis/", include("sizhen.enterprise_requests.urls_analysis")),
    path("requests/", include("sizhen.enterprise_requests.urls")),
    path("open311/v2/", include("sizhen.enterprise_requests.urls_open311")),
    path("dispatch/", include("sizhen.dispatch.urls")),
    path("surveys/", include("sizhen.surveys.urls")),
    path("thinktank/", include("sizhen.thinktank.urls")),
    path("training/", include("sizhen.training.urls")),
    path("dashboards/", include("sizhen.dashboards.urls")),
    path("assets/", include("sizhen.assets.urls")),
    path("api/v1/", api.urls),
    path("", include("sizhen.core.urls")),
]

handler400 = "sizhen.core.errorpages.bad_request"
handler403 = "sizhen.core.errorpages.permission_denied"
handler404 = "sizhen.core.errorpages.page_not_found"
handler500 = "sizhen.core.errorpages.server_error"
