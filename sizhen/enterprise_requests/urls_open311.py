"""Open311 GeoReport v2 (mounted at /open311/v2/): every resource as .json or .xml."""

from django.urls import URLPattern, re_path

from sizhen.enterprise_requests import open311

app_name = "open311"

_FMT = r"\.(?P<fmt>json|xml)$"

urlpatterns: list[URLPattern] = [
    re_path(r"^discovery" + _FMT, open311.discovery, name="discovery"),
    re_path(r"^services" + _FMT, open311.service_list, name="services"),
    re_path(r"^services/(?P<code>[\w-]+)" + _FMT, open311.service_definition, name="service"),
    re_path(r"^requests" + _FMT, open311.requests_endpoint, name="requests"),
    re_path(r"^requests/(?P<number>[\w-]+)" + _FMT, open311.request_detail, name="request"),
]
