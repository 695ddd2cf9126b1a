"""Production settings as a load balancer and a browser meet them over plain HTTP."""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest
from django.test import Client, override_settings


@pytest.fixture
def prod(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("DJANGO_SECRET_KEY", "test-only-production-secret-0123456789abcdefghij")
    return importlib.reload(importlib.import_module("config.settings.prod"))


@pytest.mark.django_db
def test_healthz_answers_over_plain_http_while_pages_redirect_to_https(prod: ModuleType) -> None:
    names = ["SECURE_SSL_REDIRECT", "SECURE_REDIRECT_EXEMPT", "SECURE_PROXY_SSL_HEADER"]
    with override_settings(**{name: getattr(prod, name, []) for name in names}):
        client = Client()
        health = client.get("/healthz")
        assert (health.status_code, health.content) == (200, b"ok")
        page = client.get("/accounts/login/")
        assert (page.status_code, page["Location"]) == (301, "https://testserver/accounts/login/")
        # Behind the proxy (X-Forwarded-Proto: https) nothing is redirected.
        assert client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https").status_code == 200
