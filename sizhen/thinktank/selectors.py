"""Reads of the policy library (政策库): who reads what (published policies are public), the
ranked search with highlighted snippets, the policies an enterprise can enjoy, and the home
page's figure and block for enterprises."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from sizhen.core.access import VIEW, Actor, get_visible_or_404, role_of
from sizhen.core.roles import Role
from sizhen.core.workqueue import HomePanel
from sizhen.organisations.models import Enterprise
from sizhen.thinktank import search
from sizhen.thinktank.matching import Match, Matcher
from sizhen.thinktank.models import Policy
from sizhen.thinktank.text import QueryTerm, marks, parse_query
from sizhen.thinktank.workflow import PUBLISHED_STATES

SNIPPET_CHARS = 120
#: The enterprise's home page shows this many of its policies.
HOME_POLICIES = 5


def readable_policies(actor: Actor | None, action: str = VIEW) -> QuerySet[Policy]:
    """What the actor may read: published policies for everyone, anonymous visitors included;
    drafts for the coordinating office too (through the model's scope)."""
    if role_of(actor) is None:
        return Policy.objects.filter(status__in=PUBLISHED_STATES)
    return Policy.objects.visible_to(actor, action)


def get_policy(actor: Actor | None, pk: int) -> Policy:
    """One readable policy, or 404 (a draft is answered as a missing one)."""
    if role_of(actor) is None:
        policy = readable_policies(None).filter(pk=pk).first()
        if policy is None:
            raise Http404("未找到该政策")
        return policy
    return get_visible_or_404(Policy, actor, pk=pk)


@dataclass(frozen=True)
class Filters:
    issuer: str = ""
    level: str = ""
    status: str = ""
    indicator: str = ""
    published_from: dt.date | None = None
    published_to: dt.date | None = None

    def apply(self, qs: QuerySet[Policy]) -> QuerySet[Policy]:
        if self.issuer:
            qs = qs.filter(issuer__icontains=self.issuer)
        if self.level:
            qs = qs.filter(level=self.level)
        if self.status:
            qs = qs.filter(status=self.status)
        if self.indicator:
            qs = qs.filter(indicators__code=self.indicator)
        if self.published_from:
            qs = qs.filter(published_on__gte=self.published_from)
        if self.published_to:
            qs = qs.filter(published_on__lte=self.published_to)
        return qs


@dataclass(frozen=True)
class Hit:
    policy: Policy
    score: float
    title: SafeString
    snippet: SafeString


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    total: int
    terms: list[QueryTerm]


@functools.lru_cache(maxsize=256)
def _pattern(patterns: tuple[str, ...]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return re.compile("|".join(re.escape(p) for p in patterns), re.IGNORECASE)


def _marked(text: str, patterns: tuple[str, ...]) -> SafeString:
    """``text`` escaped, with every occurrence of the patterns in <mark>."""
    pattern = _pattern(patterns)
    if pattern is None:
        return mark_safe(escape(text))  # noqa: S308 - escaped just now
    out: list[str] = []
    last = 0
    for found in pattern.finditer(text):
        out.append(escape(text[last : found.start()]))
        out.append(f"<mark>{escape(found.group())}</mark>")
        last = found.end()
    out.append(escape(text[last:]))
    return mark_safe("".join(out))  # noqa: S308 - every piece escaped


#: Where a snippet may start: the first places a query word occurs (the best is near the top).
_SNIPPET_CANDIDATES = 40


def snippet(body: str, patterns: tuple[str, ...], size: int = SNIPPET_CHARS) -> SafeString:
    """The part of the body around the first place the most query words meet, highlighted."""
    text = " ".join(body.split())
    if not text:
        return mark_safe("")
    start = 0
    pattern = _pattern(patterns)
    if pattern is not None:
        found = [(m.start(), m.group().lower()) for m in pattern.finditer(text)]
        best = -1
        for index, (position, _word) in enumerate(found[:_SNIPPET_CANDIDATES]):
            words = set()
            for later, word in found[index:]:
                if later >= position + size:
                    break
                words.add(word)
            if len(words) > best:
                best, start = len(words), position
    begin = max(0, start - size // 4)
    end = min(len(text), begin + size)
    prefix = "…" if begin > 0 else ""
    suffix = "…" if end < len(text) else ""
    return mark_safe(prefix + _marked(text[begin:end], patterns) + suffix)  # noqa: S308 - escaped


def search_policies(
    actor: Actor | None,
    query: str,
    filters: Filters | None = None,
    *,
    limit: int = 20,
    offset: int = 0,
) -> SearchResult:
    """Policies the actor may read that match the query, ranked by relevance (title matches
    first), with highlighted titles and snippets; without a query, the newest first."""
    qs = (filters or Filters()).apply(readable_policies(actor))
    terms = parse_query(query) if query.strip() else []
    if terms:
        ranked, total = search.ranked(terms, qs, limit, offset)
        by_pk = Policy.objects.in_bulk([pk for pk, _ in ranked])
        scored = [(by_pk[pk], score) for pk, score in ranked if pk in by_pk]
    else:
        if query.strip():
            return SearchResult([], 0, [])
        total = qs.count()
        page = list(qs.order_by("-published_on", "-pk")[offset : offset + limit])
        scored = [(p, 0.0) for p in page]
    patterns = tuple(marks(terms))
    hits = [
        Hit(p, score, _marked(p.title, patterns), snippet(p.body, patterns)) for p, score in scored
    ]
    return SearchResult(hits, total, terms)


def matching_policy_ids(query: str, qs: QuerySet[Policy]) -> QuerySet[Policy]:
    """The policies among ``qs`` matching the query words (for the list page's search box)."""
    return search.matching_ids(parse_query(query), qs)


def history(policy: Policy) -> list[Policy]:
    """The versions of the policy (政策沿革), oldest first: the ones it supersedes and the ones
    superseding it, through every link."""
    first = policy
    seen = {policy.pk}
    while first.supersedes_id is not None and first.supersedes_id not in seen:
        earlier = Policy.objects.filter(pk=first.supersedes_id).first()
        if earlier is None:
            break
        seen.add(earlier.pk)
        first = earlier
    chain = [first]
    current = first
    while True:
        later = (
            Policy.objects.filter(supersedes=current)
            .exclude(pk__in=[p.pk for p in chain])
            .order_by("published_on", "pk")
            .first()
        )
        if later is None:
            break
        chain.append(later)
        current = later
    return chain


def push_figures(policy: Policy) -> dict[str, Any]:
    """How a policy's pushes were received (001 case 11): enterprises reached, read and
    confirmed, with the rates in percent (one decimal, as pages show them)."""
    from django.db.models import Count

    from sizhen.core.numbers import rounded
    from sizhen.thinktank.models import Delivery

    figures = Delivery.objects.filter(policy=policy).aggregate(
        total=Count("pk"), read=Count("read_at"), confirmed=Count("confirmed_at")
    )
    total = figures["total"]
    figures["read_rate"] = rounded(figures["read"] * 100 / total, 1) if total else 0.0
    figures["confirm_rate"] = rounded(figures["confirmed"] * 100 / total, 1) if total else 0.0
    figures["pushes"] = policy.pushes.count()
    return figures


def readable_versions(actor: Actor | None, policy: Policy) -> list[Policy]:
    """The policy's history as far as the actor may read it (drafts only for the office)."""
    chain = history(policy)
    readable = set(
        readable_policies(actor).filter(pk__in=[v.pk for v in chain]).values_list("pk", flat=True)
    )
    return [v for v in chain if v.pk in readable]


def policies_for_enterprise(enterprise: Enterprise, today: dt.date | None = None) -> list[Match]:
    """The in-force policies that apply to the enterprise, with the reasons, best first."""
    return Matcher.today(today).matches(enterprise)


def _own_enterprise(actor: Actor) -> Enterprise | None:
    if role_of(actor) != Role.ENTERPRISE:
        return None
    return Enterprise.objects.visible_to(actor).select_related("region").order_by("pk").first()


def home_panels(actor: Actor, today: dt.date) -> list[HomePanel]:
    enterprise = _own_enterprise(actor)
    if enterprise is None:
        return []
    found = policies_for_enterprise(enterprise, today)
    rows = [
        (
            m.policy.title,
            reverse("thinktank:policy_detail", args=[m.policy.pk]),
            "；".join(m.reasons),
        )
        for m in found[:HOME_POLICIES]
    ]
    return [
        HomePanel(
            "policies",
            "我可享受的政策",
            rows,
            more_url=reverse("thinktank:mine"),
            more_label=f"全部 {len(found)} 项",
            empty="暂无与本企业匹配的现行政策。",
        )
    ]
