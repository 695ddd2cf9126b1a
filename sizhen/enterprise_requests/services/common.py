"""Shared pieces of the request services: the error type, limits, who is who, files."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model

from sizhen.accounts.models import acting_user
from sizhen.core.access import Actor, role_of
from sizhen.core.notifications import coordinators, unit_users
from sizhen.core.permissions import has_capability
from sizhen.core.roles import Role
from sizhen.core.uploads import upload_error
from sizhen.core.workflow import WorkflowError
from sizhen.enterprise_requests.choices import (
    Kind,
)
from sizhen.enterprise_requests.models import (
    EnterpriseRequest,
    RequestAttachment,
)
from sizhen.organisations.models import Department


class RequestError(WorkflowError):
    """A refused write; the message is shown to the user (Chinese)."""


#: Same enterprise: a request this similar to one of its open requests is a suspected duplicate.
SAME_ENTERPRISE_THRESHOLD = 0.6
#: Another requester on the same matter (same category and region) must be nearly identical.
SAME_MATTER_THRESHOLD = 0.8
DUPLICATE_CANDIDATES = 200
MAX_TEXT = 5000


def review_required(kind: str) -> bool:
    """Whether a reply of this kind goes to the office for review before the enterprise sees it
    (configurable; complaints by default)."""
    kinds = getattr(settings, "SIZHEN_REQUEST_REVIEW_KINDS", (Kind.COMPLAINT,))
    return kind in kinds


def actor_label(actor: Actor | None) -> str:
    if actor is None:
        return "系统"
    return (getattr(actor, "audit_label", None) or str(actor))[:200]


def title_from(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first[:30] + ("…" if len(first) > 30 else "")


def check_file(f: Any) -> None:
    error = upload_error(f)
    if error:
        raise RequestError(error)


def store_file(request: EnterpriseRequest, f: Any, actor: Actor) -> RequestAttachment:
    return RequestAttachment.objects.create(
        request=request,
        file=f,
        name=(getattr(f, "name", "") or "附件")[:200],
        size=getattr(f, "size", 0) or 0,
        uploaded_by=acting_user(actor),
    )


def require_party(request: EnterpriseRequest, actor: Actor) -> None:
    if has_capability(actor, "request.manage"):
        return
    if (
        role_of(actor) == Role.ENTERPRISE
        and getattr(actor, "enterprise_id", None) == request.enterprise_id
    ):
        return
    department_id = getattr(actor, "department_id", None)
    if department_id is not None and (
        department_id == request.lead_department_id
        or request.co_departments.filter(pk=department_id).exists()
    ):
        return
    raise RequestError("您不是该诉求的办理方或提出方")


def department_users(departments: Iterable[Department]) -> list[Any]:
    return unit_users(department_ids=[d.pk for d in departments if d is not None])


def enterprise_users(request: EnterpriseRequest) -> list[Any]:
    if request.enterprise_id is None:
        return []
    User = get_user_model()
    return list(
        User.objects.filter(
            enterprise_id=request.enterprise_id, is_active=True, role=Role.ENTERPRISE
        )
    )


def managers() -> list[Any]:
    return coordinators()
