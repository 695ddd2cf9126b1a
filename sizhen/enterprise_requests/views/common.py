"""Shared pieces of the request pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest
from django.urls import reverse

from sizhen.enterprise_requests.models import (
    EnterpriseRequest,
)


def detail_url(r: EnterpriseRequest) -> str:
    return reverse("enterprise_requests:detail", args=[r.pk])


def form_errors(request: HttpRequest, form: Any) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))
