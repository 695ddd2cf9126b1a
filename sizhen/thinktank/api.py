"""The policy library over the API (/api/v1/policies): the ranked search and one policy, open
to anonymous visitors for published policies; and the policies an enterprise can enjoy
(/api/v1/enterprises/{uscc}/policies, 政策找人), within the caller's scope of enterprises."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import HttpError
from pydantic import Field

from sizhen.accounts.api import API_AUTH
from sizhen.core.access import get_visible_or_404
from sizhen.core.api import (
    ErrorOut,
    Offset,
    PageMeta,
    actor_of,
    anonymous_visitor,
    require_token_scope,
)
from sizhen.organisations.models import Enterprise
from sizhen.thinktank.choices import Level
from sizhen.thinktank.models import Policy
from sizhen.thinktank.selectors import (
    Filters,
    get_policy,
    policies_for_enterprise,
    readable_versions,
    search_policies,
)
from sizhen.thinktank.workflow import STATES

router = Router(tags=["政策库"])

READ_SCOPE = "read"
#: Published policies are public: the API's authentications, then the anonymous visitor.
PUBLIC = [*API_AUTH, anonymous_visitor]
MAX_PAGE = 100


class PolicyFilters(Schema):
    q: Annotated[str, Field(max_length=200)] = ""
    status: str = ""
    level: str = ""
    indicator: Annotated[str, Field(max_length=20)] = ""
    issuer: Annotated[str, Field(max_length=100)] = ""
    published_from: dt.date | None = None
    published_to: dt.date | None = None
    limit: Annotated[int, Field(ge=1, le=10_000)] = 20
    offset: Offset = 0


class PolicyHit(Schema):
    id: int
    title: str
    doc_number: str
    issuer: str
    level: str
    published_on: dt.date | None
    effective_on: dt.date | None
    expires_on: dt.date | None
    status: str
    status_label: str
    #: The body around the query words, HTML-escaped, the words in <mark>.
    snippet: str
    score: float


class PolicyPage(Schema):
    meta: PageMeta
    items: list[PolicyHit]


class VersionOut(Schema):
    id: int
    title: str
    doc_number: str
    published_on: dt.date | None
    status: str


class PolicyOut(Schema):
    id: int
    title: str
    doc_number: str
    issuer: str
    level: str
    published_on: dt.date | None
    effective_on: dt.date | None
    expires_on: dt.date | None
    status: str
    status_label: str
    body: str
    industries: list[str]
    sizes: list[str]
    regions: list[str]
    indicators: list[str]
    tags: list[str]
    supersedes: int | None
    versions: list[VersionOut]
    attachments: list[str]


class MatchOut(Schema):
    id: int
    title: str
    doc_number: str
    issuer: str
    level: str
    published_on: dt.date | None
    expires_on: dt.date | None
    score: int
    reasons: list[str]


class MatchPage(Schema):
    enterprise: str
    count: int
    items: list[MatchOut]


def _common(policy: Policy) -> dict[str, Any]:
    return {
        "id": policy.pk,
        "title": policy.title,
        "doc_number": policy.doc_number,
        "issuer": policy.issuer,
        "level": policy.level,
        "published_on": policy.published_on,
        "effective_on": policy.effective_on,
        "expires_on": policy.expires_on,
        "status": policy.status,
        "status_label": STATES.get(policy.status, policy.status),
    }


@router.get("/policies", response=PolicyPage, auth=PUBLIC, summary="政策检索（公开：已发布政策）")
def list_policies(request: HttpRequest, filters: Query[PolicyFilters]) -> dict[str, Any]:
    require_token_scope(request, READ_SCOPE)
    actor = actor_of(request)
    if filters.status and filters.status not in STATES:
        raise HttpError(400, f"参数 status 应为 {'、'.join(STATES)} 之一")
    if filters.level and filters.level not in Level.values:
        raise HttpError(400, f"参数 level 应为 {'、'.join(Level.values)} 之一")
    limit = min(filters.limit, MAX_PAGE)
    result = search_policies(
        actor,
        filters.q,
        Filters(
            issuer=filters.issuer.strip(),
            level=filters.level,
            status=filters.status,
            indicator=filters.indicator.strip(),
            published_from=filters.published_from,
            published_to=filters.published_to,
        ),
        limit=limit,
        offset=filters.offset,
    )
    items = [
        {**_common(hit.policy), "snippet": str(hit.snippet), "score": round(hit.score, 6)}
        for hit in result.hits
    ]
    return {
        "meta": PageMeta(count=result.total, limit=limit, offset=filters.offset),
        "items": items,
    }


@router.get(
    "/policies/{policy_id}",
    response={200: PolicyOut, 404: ErrorOut},
    auth=PUBLIC,
    summary="一项政策（公开：已发布政策）",
)
def get_policy_api(request: HttpRequest, policy_id: int) -> dict[str, Any]:
    require_token_scope(request, READ_SCOPE)
    actor = actor_of(request)
    policy = get_policy(actor, policy_id)
    versions = readable_versions(actor, policy)
    readable = {v.pk for v in versions}
    return {
        **_common(policy),
        "body": policy.body,
        "industries": list(policy.industries),
        "sizes": list(policy.sizes),
        "regions": list(policy.regions.order_by("path").values_list("code", flat=True)),
        "indicators": list(policy.indicators.order_by("code").values_list("code", flat=True)),
        "tags": list(policy.tags),
        "supersedes": policy.supersedes_id if policy.supersedes_id in readable else None,
        "versions": [
            {
                "id": v.pk,
                "title": v.title,
                "doc_number": v.doc_number,
                "published_on": v.published_on,
                "status": v.status,
            }
            for v in versions
        ],
        "attachments": list(policy.attachments.values_list("name", flat=True)),
    }


@router.get(
    "/enterprises/{uscc}/policies",
    response={200: MatchPage, 404: ErrorOut},
    summary="企业可享受的政策（政策找人，附匹配理由）",
)
def enterprise_policies(request: HttpRequest, uscc: str) -> dict[str, Any]:
    require_token_scope(request, READ_SCOPE)
    actor = actor_of(request)
    enterprise = get_visible_or_404(Enterprise.objects.select_related("region"), actor, uscc=uscc)
    matches = policies_for_enterprise(enterprise)
    return {
        "enterprise": enterprise.uscc,
        "count": len(matches),
        "items": [
            {
                "id": m.policy.pk,
                "title": m.policy.title,
                "doc_number": m.policy.doc_number,
                "issuer": m.policy.issuer,
                "level": m.policy.level,
                "published_on": m.policy.published_on,
                "expires_on": m.policy.expires_on,
                "score": m.score,
                "reasons": list(m.reasons),
            }
            for m in matches
        ],
    }
