"""The request type of pages that require a login."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest

if TYPE_CHECKING:
    # django-stubs' placeholder for the configured ``AUTH_USER_MODEL``: its mypy plugin reads it
    # as ``accounts.User`` without core importing a domain app.
    from django.contrib.auth.models import _User


class AuthenticatedRequest(HttpRequest):
    """A request that reached a ``login_required`` view (or a ``LoginRequiredMixin`` one): its
    user is a logged-in ``User``, never ``AnonymousUser``. An annotation only; Django builds
    plain ``HttpRequest`` objects and the login check is what makes this true."""

    user: _User
