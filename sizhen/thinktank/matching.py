"""Matching policies to enterprises (政策找人 / 免申即享): a policy applies to an enterprise when
each of its applicability lists is empty (any) or holds the enterprise: a prefix of its national
industry code (C39 holds C3971), its size, its region or an ancestor (a region covers its
subtree). Only policies in force, effective and not expired apply.

The three conditions are independent, so each is answered once per distinct value (industry
code, size, region path) as a bit set over the policies, and an enterprise's policies are the
AND of its three sets: 100,000 enterprises cost three dictionary look-ups each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from sizhen.thinktank.choices import SIZES, Level
from sizhen.thinktank.models import Policy
from sizhen.thinktank.workflow import IN_FORCE

#: Local policies are what an enterprise can act on first (its district's, then the city's).
_LEVEL_BONUS: dict[str, int] = {
    Level.DISTRICT: 3,
    Level.CITY: 2,
    Level.PROVINCIAL: 1,
    Level.NATIONAL: 0,
}


def applicable_q(today: dt.date) -> Q:
    return (
        Q(status=IN_FORCE)
        & (Q(effective_on__isnull=True) | Q(effective_on__lte=today))
        & (Q(expires_on__isnull=True) | Q(expires_on__gte=today))
    )


def applicable_policies(today: dt.date | None = None) -> QuerySet[Policy]:
    """Policies in force today: what matching offers."""
    return Policy.objects.filter(applicable_q(today or timezone.localdate()))


@dataclass(frozen=True)
class Match:
    policy: Policy
    score: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class _Rule:
    industries: tuple[str, ...]
    sizes: frozenset[str]
    #: (path, name) of each region it names
    regions: tuple[tuple[str, str], ...]


class Matcher:
    """The applicable policies, ready to be matched to any number of enterprises."""

    def __init__(
        self,
        policies: Sequence[Policy],
        regions: dict[int, list[tuple[str, str]]] | None = None,
    ) -> None:
        """``regions``: policy id -> (path, name) of its regions; read from each policy when
        not given."""
        self.policies = list(policies)
        if regions is None:
            regions = {p.pk: [(r.path, r.name) for r in p.regions.all()] for p in self.policies}
        self._rules = [
            _Rule(
                tuple(p.industries or ()),
                frozenset(p.sizes or ()),
                tuple(regions.get(p.pk, ())),
            )
            for p in self.policies
        ]
        self._industry: dict[str, int] = {}
        self._size: dict[str, int] = {}
        self._region: dict[str, int] = {}

    @classmethod
    def today(cls, today: dt.date | None = None) -> Matcher:
        """The policies that apply today, without their text (two queries)."""
        applicable = applicable_policies(today)
        regions: dict[int, list[tuple[str, str]]] = {}
        links = Policy.regions.through.objects.filter(policy__in=applicable.values("pk"))
        for policy_id, path, name in links.values_list("policy_id", "region__path", "region__name"):
            regions.setdefault(policy_id, []).append((path, name))
        policies = list(applicable.defer("body").order_by("-published_on", "-pk"))
        return cls(policies, regions)

    def _mask(self, cache: dict[str, int], value: str, test: Any) -> int:
        mask = cache.get(value)
        if mask is None:
            mask = 0
            for index, rule in enumerate(self._rules):
                if test(rule, value):
                    mask |= 1 << index
            cache[value] = mask
        return mask

    def mask(self, industry_code: str, size: str, region_path: str) -> int:
        """The policies (as bits, in ``self.policies`` order) applying to one enterprise."""
        return (
            self._mask(
                self._industry,
                industry_code,
                lambda r, v: not r.industries or any(v.startswith(c) for c in r.industries if v),
            )
            & self._mask(self._size, size, lambda r, v: not r.sizes or v in r.sizes)
            & self._mask(
                self._region,
                region_path,
                lambda r, v: not r.regions or any(v.startswith(path) for path, _ in r.regions),
            )
        )

    def policy_ids(self, mask: int) -> list[int]:
        ids = []
        index = 0
        while mask:
            if mask & 1:
                ids.append(self.policies[index].pk)
            mask >>= 1
            index += 1
        return ids

    def match_all(self, enterprises: Iterable[tuple[int, str, str, str]]) -> dict[int, int]:
        """enterprise id -> how many policies apply, for (id, industry code, size, region path)
        rows."""
        counts: dict[tuple[str, str, str], int] = {}
        found = {}
        for pk, code, size, path in enterprises:
            key = (code, size, path)
            count = counts.get(key)
            if count is None:
                count = counts[key] = self.mask(code, size, path).bit_count()
            found[pk] = count
        return found

    def enterprises_of(
        self, policy: Policy, enterprises: Iterable[tuple[int, str, str, str]]
    ) -> list[int]:
        """The enterprises (ids) the policy applies to, among the rows given."""
        index = next(i for i, p in enumerate(self.policies) if p.pk == policy.pk)
        bit = 1 << index
        return [pk for pk, code, size, path in enterprises if self.mask(code, size, path) & bit]

    def matches(self, enterprise: Any) -> list[Match]:
        """The policies applying to one enterprise, each with the reasons, best first."""
        path = enterprise.region.path
        mask = self.mask(enterprise.industry_code or "", enterprise.size or "", path)
        found = []
        for index, policy in enumerate(self.policies):
            if not mask >> index & 1:
                continue
            found.append(self._explain(policy, self._rules[index], enterprise, path))
        found.sort(
            key=lambda m: (
                -m.score,
                -(m.policy.published_on or dt.date.min).toordinal(),
                -m.policy.pk,
            )
        )
        return found

    def _explain(self, policy: Policy, rule: _Rule, enterprise: Any, path: str) -> Match:
        reasons = []
        score = _LEVEL_BONUS.get(policy.level, 0)
        code = enterprise.industry_code or ""
        if rule.industries:
            prefix = max((c for c in rule.industries if code.startswith(c)), key=len)
            reasons.append(f"行业：政策适用 {prefix}，企业行业代码 {code}")
            score += 3 + len(prefix)
        if rule.sizes:
            label = SIZES.get(enterprise.size, enterprise.size)
            reasons.append(
                f"规模：政策适用{'、'.join(SIZES.get(s, s) for s in sorted(rule.sizes))}，企业为{label}"
            )
            score += 4
        if rule.regions:
            region_path, name = max(
                ((p, n) for p, n in rule.regions if path.startswith(p)), key=lambda r: len(r[0])
            )
            where = enterprise.region.name
            reasons.append(
                f"区划：政策适用{name}" + ("" if region_path == path else f"（含{where}）")
            )
            score += 2 + region_path.count("/")
        if not reasons:
            reasons.append("普惠政策：不限行业、规模和区划")
        return Match(policy, score, tuple(reasons))
