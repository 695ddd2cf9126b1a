"""Submitting a page's own form in tests: the fields (hidden ones included) are read from the
HTML the page served, so a test fails when the page lacks the field a user would type into."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from django.test import Client


class _FormReader(HTMLParser):
    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.inside = False
        self.found = False
        self.fields: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "form" and attr.get("action") == self.action and not self.found:
            self.inside = self.found = True
            return
        if not self.inside:
            return
        name = attr.get("name")
        if tag == "input" and name:
            kind = attr.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attr:
                    self.fields[name] = attr.get("value") or "on"
            elif kind not in ("file", "submit", "button"):
                self.fields[name] = attr.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""
        elif tag == "select" and name:
            self._select = name
            self.fields.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attr:
            self.fields[self._select] = attr.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self.inside and self._textarea:
            self.fields[self._textarea] += data


def form_fields(html: str, action: str) -> dict[str, str]:
    """The fields of the form posting to ``action`` with the values the page filled in."""
    reader = _FormReader(action)
    reader.feed(html)
    assert reader.found, f"the page has no form posting to {action}"
    return reader.fields


def submit_form(client: Client, page: str, action: str, **typed: str) -> Any:
    """GET ``page``, fill the form posting to ``action`` with ``typed`` (each a field the form
    has) and POST it, following the redirect."""
    response = client.get(page)
    assert response.status_code == 200, response.status_code
    fields = form_fields(response.content.decode(), action)
    missing = set(typed) - set(fields)
    assert not missing, f"the form posting to {action} has no field {sorted(missing)}"
    return client.post(action, {**fields, **typed}, follow=True)
