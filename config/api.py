"""The REST API at /api/v1: one NinjaAPI, each app contributes a router."""

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from sizhen.accounts.api import API_AUTH
from sizhen.accounts.api import router as accounts_router
from sizhen.assets.api import router as assets_router
from sizhen.core.api import install_error_handlers
from sizhen.core.errors import ServiceError
from sizhen.dispatch.api import router as dispatch_router
from sizhen.enterprise_requests.api import router as requests_router
from sizhen.indicators.catalogue.api import router as indicators_router
from sizhen.indicators.ingestion.api import router as records_router
from sizhen.monitoring.api import router as monitoring_router
from sizhen.organisations.api import router as organisations_router
from sizhen.rectification.api import router as rectification_router
from sizhen.surveys.api import router as surveys_router
from sizhen.thinktank.api import router as thinktank_router
from sizhen.work_tasks.api import router as work_tasks_router

api = NinjaAPI(
    title="四诊 Sizhen API",
    version="1.0",
    description="营商环境监测平台接口。认证：Authorization: Bearer <令牌> 或 X-Api-Key；浏览器会话需 CSRF。",
    auth=API_AUTH,
    urls_namespace="api",
)
install_error_handlers(api)
api.add_router("/", accounts_router)
api.add_router("/", organisations_router)
api.add_router("/", indicators_router)
api.add_router("/", records_router)
api.add_router("/", monitoring_router)
api.add_router("/", work_tasks_router)
api.add_router("/", rectification_router)
api.add_router("/", requests_router)
api.add_router("/", dispatch_router)
api.add_router("/", surveys_router)
api.add_router("/", thinktank_router)
api.add_router("/", assets_router)


@api.exception_handler(ServiceError)
def service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    """A refused service call: ``{"detail": message}`` with the error's status (400; 409 for a
    stale state or a refused rectification step; 422 for a questionnaire's answers, with
    ``errors``), as docs/api.md describes."""
    body: dict[str, object] = {"detail": exc.message}
    if exc.error_list:
        body["errors"] = exc.error_list
    return api.create_response(request, body, status=exc.status_code)
