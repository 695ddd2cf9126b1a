"""Segmentation-sensitive search (政策检索): the domain dictionary, synonyms, title ranking,
highlighted snippets and filters. These tests run on SQLite (FTS5) and, with DATABASE_URL set
to PostgreSQL, on its tsvector index: the same assertions on both."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sizhen.thinktank import services
from sizhen.thinktank.selectors import Filters, search_policies
from sizhen.thinktank.services import PolicyData
from sizhen.thinktank.text import index_tokens, parse_query


def titles(result: Any) -> list[str]:
    return [hit.policy.title for hit in result.hits]


def test_the_domain_dictionary_makes_a_term_findable_inside_a_longer_phrase(
    make_policy: Any,
) -> None:
    make_policy(
        "关于进一步加大增值税期末留抵退税政策实施力度的公告",
        "对符合条件的小微企业，一次性退还存量留抵税额。",
    )
    make_policy("关于做好首贷户培育工作的通知", "银行机构扩大首贷覆盖面。")
    result = search_policies(None, "留抵退税")
    assert titles(result) == ["关于进一步加大增值税期末留抵退税政策实施力度的公告"]
    assert result.total == 1
    assert "<mark>留抵退税</mark>" in result.hits[0].title


def test_a_synonym_finds_the_other_wording(make_policy: Any) -> None:
    make_policy("支持小型微型企业发展的若干措施", "对小型微型企业给予贷款贴息。")
    make_policy("支持大型企业技术改造的意见", "对大型企业技改项目给予补助。")
    assert titles(search_policies(None, "小微")) == ["支持小型微型企业发展的若干措施"]
    assert titles(search_policies(None, "小微企业")) == ["支持小型微型企业发展的若干措施"]
    # and the other way round: the body says 技改, the query the full 技术改造
    assert titles(search_policies(None, "技术改造")) == ["支持大型企业技术改造的意见"]


def test_every_query_word_must_match(make_policy: Any) -> None:
    make_policy("首贷户培育行动方案", "扩大首贷覆盖面。")
    make_policy("科技型中小企业贷款贴息办法", "对科技型中小企业贷款给予贴息。")
    assert titles(search_policies(None, "首贷 贴息")) == []
    assert titles(search_policies(None, "贷款 贴息")) == ["科技型中小企业贷款贴息办法"]


def test_a_title_match_ranks_above_a_body_match(make_policy: Any) -> None:
    make_policy(
        "示范市优化营商环境条例实施细则",
        "本细则所称专精特新企业，按省级认定。" * 3,
        published_on=dt.date(2025, 6, 1),
    )
    make_policy(
        "示范市专精特新中小企业培育办法",
        "鼓励企业走专精特新发展道路。",
        published_on=dt.date(2024, 1, 1),
    )
    result = search_policies(None, "专精特新")
    assert titles(result) == ["示范市专精特新中小企业培育办法", "示范市优化营商环境条例实施细则"]
    assert result.hits[0].score > result.hits[1].score


def test_the_snippet_shows_the_body_around_the_words_marked_and_escaped(
    make_policy: Any,
) -> None:
    make_policy(
        "企业开办便利化措施",
        "第一条 总则。" + "其他内容。" * 40 + "推行一件事一次办，<b>压缩</b>企业开办时间。",
    )
    hit = search_policies(None, "一件事一次办").hits[0]
    assert "<mark>一件事一次办</mark>" in hit.snippet
    assert "&lt;b&gt;压缩&lt;/b&gt;" in hit.snippet
    assert hit.snippet.startswith("…")


def test_filters_narrow_the_ranked_result(make_policy: Any, city: dict[str, Any]) -> None:
    make_policy("国家留抵退税公告", "留抵退税。", issuer="财政部 税务总局", level="national")
    make_policy("示范市留抵退税操作指引", "留抵退税。", issuer="示范市税务局", level="city")
    assert titles(search_policies(None, "留抵退税", Filters(level="national"))) == [
        "国家留抵退税公告"
    ]
    assert titles(search_policies(None, "留抵退税", Filters(issuer="示范市"))) == [
        "示范市留抵退税操作指引"
    ]
    later = Filters(published_from=dt.date(2025, 3, 2))
    assert titles(search_policies(None, "留抵退税", later)) == []


def test_drafts_are_found_only_by_the_office(make_policy: Any, personas: dict[str, Any]) -> None:
    make_policy("首贷续贷支持政策（征求意见稿）", "首贷。", publish=False)
    assert titles(search_policies(None, "首贷")) == []
    assert titles(search_policies(personas["district_a"], "首贷")) == []
    assert titles(search_policies(personas["coordinator"], "首贷")) == [
        "首贷续贷支持政策（征求意见稿）"
    ]


def test_an_edit_reindexes_the_policy(make_policy: Any, personas: dict[str, Any]) -> None:
    policy = make_policy("稳岗返还政策", "失业保险稳岗返还。")
    assert titles(search_policies(None, "以工代训")) == []
    data = PolicyData(
        title=policy.title,
        issuer=policy.issuer,
        level=policy.level,
        published_on=policy.published_on,
        effective_on=policy.effective_on,
        body="失业保险稳岗返还和以工代训补贴。",
    )
    services.update_policy(policy, data, actor=personas["coordinator"])
    assert titles(search_policies(None, "以工代训")) == ["稳岗返还政策"]


def test_query_parsing_keeps_the_domain_words_whole() -> None:
    assert [t.word for t in parse_query("关于留抵退税的通知")] == ["留抵退税"]
    assert parse_query("小微")[0].alternatives == (("小微",), ("小型", "微型"))
    assert "留抵退税" in index_tokens("增值税期末留抵退税")
    assert parse_query("   ") == []


def test_a_query_of_nothing_searchable_finds_nothing(make_policy: Any) -> None:
    make_policy("留抵退税公告", "留抵退税。")
    result = search_policies(None, "？？！")
    assert (result.total, result.hits) == (0, [])
