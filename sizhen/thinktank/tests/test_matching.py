"""Matching policies to enterprises (政策找人): industry prefixes, sizes, region subtrees, an
empty list meaning any, and only policies in force, effective and not expired."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from sizhen.thinktank import services
from sizhen.thinktank.matching import Matcher
from sizhen.thinktank.selectors import policies_for_enterprise


def matched(enterprise: Any) -> list[str]:
    return sorted(m.policy.title for m in policies_for_enterprise(enterprise))


def test_an_industry_prefix_matches_the_codes_below_it(
    make_policy: Any, city: dict[str, Any]
) -> None:
    # enterprise_a: I6510 (software), enterprise_park: C3971, enterprise_b: G5430
    make_policy("软件业扶持", industries=["I65"])
    make_policy("制造业门类", industries=["C"])
    make_policy("电子器件小类", industries=["C3971"])
    make_policy("其他小类", industries=["C3972"])
    assert matched(city["enterprise_a"]) == ["软件业扶持"]
    assert matched(city["enterprise_park"]) == ["制造业门类", "电子器件小类"]
    assert matched(city["enterprise_b"]) == []


def test_sizes_and_empty_lists(make_policy: Any, city: dict[str, Any]) -> None:
    make_policy("小微企业贴息", sizes=["small", "micro"])
    make_policy("普惠政策")
    assert matched(city["enterprise_a"]) == ["小微企业贴息", "普惠政策"]  # small
    assert matched(city["enterprise_park"]) == ["普惠政策"]  # medium
    assert matched(city["enterprise_b"]) == ["小微企业贴息", "普惠政策"]  # micro


def test_a_region_covers_its_subtree(make_policy: Any, city: dict[str, Any]) -> None:
    make_policy("东湖区政策", regions=[city["district_a"]], level="district")
    make_policy("高新区政策", regions=[city["park"]], level="district")
    make_policy("全市政策", regions=[city["root"]])
    assert matched(city["enterprise_a"]) == ["东湖区政策", "全市政策"]
    # the park lies under 东湖区: its enterprise enjoys both
    assert matched(city["enterprise_park"]) == ["东湖区政策", "全市政策", "高新区政策"]
    assert matched(city["enterprise_b"]) == ["全市政策"]


def test_all_conditions_must_hold(make_policy: Any, city: dict[str, Any]) -> None:
    make_policy("东湖软件小企业", industries=["I"], sizes=["small"], regions=[city["district_a"]])
    make_policy("西山软件小企业", industries=["I"], sizes=["small"], regions=[city["district_b"]])
    assert matched(city["enterprise_a"]) == ["东湖软件小企业"]
    assert matched(city["enterprise_b"]) == []


def test_only_policies_in_force_and_within_their_dates_apply(
    make_policy: Any, city: dict[str, Any], personas: dict[str, Any]
) -> None:
    today = timezone.localdate()
    make_policy("现行", published_on=today - dt.timedelta(days=30))
    make_policy(
        "已过期",
        published_on=today - dt.timedelta(days=400),
        expires_on=today - dt.timedelta(days=1),
    )
    make_policy("尚未生效", published_on=today, effective_on=today + dt.timedelta(days=10))
    make_policy("草稿", publish=False)
    repealed = make_policy("已废止")
    services.repeal_policy(repealed, actor=personas["coordinator"], note="已被新文件取代")
    old = make_policy("旧版本")
    new = make_policy("新版本", publish=False, supersedes=old)
    services.publish_policy(new, actor=personas["coordinator"])
    old.refresh_from_db()
    assert old.status == "amended"
    assert matched(city["enterprise_a"]) == ["新版本", "现行"]


def test_reasons_and_ranking(make_policy: Any, city: dict[str, Any]) -> None:
    make_policy("普惠政策", level="national", published_on=dt.date(2025, 5, 1))
    make_policy(
        "东湖区软件小企业政策",
        industries=["I65"],
        sizes=["small"],
        regions=[city["district_a"]],
        level="district",
        published_on=dt.date(2024, 1, 1),
    )
    matches = policies_for_enterprise(city["enterprise_a"])
    assert [m.policy.title for m in matches] == ["东湖区软件小企业政策", "普惠政策"]
    assert matches[0].reasons == (
        "行业：政策适用 I65，企业行业代码 I6510",
        "规模：政策适用小型，企业为小型",
        "区划：政策适用东湖区",
    )
    assert matches[1].reasons == ("普惠政策：不限行业、规模和区划",)


def test_the_bulk_matcher_counts_as_the_one_by_one_answer(
    make_policy: Any, city: dict[str, Any]
) -> None:
    make_policy("制造业", industries=["C"])
    make_policy("小微", sizes=["small", "micro"])
    make_policy("东湖区", regions=[city["district_a"]])
    matcher = Matcher.today()
    rows = [
        (e.pk, e.industry_code, e.size, e.region.path)
        for e in (city["enterprise_a"], city["enterprise_park"], city["enterprise_b"])
    ]
    counts = matcher.match_all(rows)
    assert counts == {
        city["enterprise_a"].pk: 2,
        city["enterprise_park"].pk: 2,
        city["enterprise_b"].pk: 1,
    }
    for enterprise in (city["enterprise_a"], city["enterprise_park"], city["enterprise_b"]):
        assert counts[enterprise.pk] == len(matched(enterprise))
