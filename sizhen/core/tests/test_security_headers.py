"""The Content-Security-Policy on every response, and templates that need nothing it forbids:
no inline script, no event-handler attribute, no javascript: link (docs/operations.md,
"Security headers"). The browser side is tests/browser/test_script_injection.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

TEMPLATES = Path(settings.BASE_DIR) / "templates"
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/accounts/login/", "/healthz", "/api/v1/me", "/missing/"])
def test_every_response_carries_the_policy(client, path):
    response = client.get(path)
    assert response["Content-Security-Policy"] == POLICY
    assert response["X-Content-Type-Options"] == "nosniff"


def test_templates_hold_no_inline_script_handler_or_javascript_link():
    offending = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        for pattern in (
            r"<script(?![^>]*\bsrc=)[^>]*>",
            r"\son[a-z]+\s*=",
            r"javascript:",
        ):
            for match in re.finditer(pattern, text, re.I):
                offending.append(f"{template.relative_to(TEMPLATES)}: {match.group(0)}")
    assert offending == []
