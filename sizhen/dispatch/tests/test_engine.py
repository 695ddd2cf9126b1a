"""The catalogue keyword score of the suggester's engine."""

from __future__ import annotations

import numpy as np

from sizhen.dispatch import engine


def test_a_keyword_of_digits_alone_is_not_a_term() -> None:
    # Texts fold digits to "0": "12345" would otherwise match every text with an amount.
    doc = engine.CatalogueDoc(
        label="A", name="政务服务管理局", keywords=["12345", "110", "12345热线", "10千伏", "窗口"]
    )

    assert doc.match_terms() == ["0千伏", "0热线", "政务服务管理局", "窗口"]


def test_keyword_scores_count_each_term_once_and_not_inside_a_longer_match() -> None:
    docs = [
        engine.CatalogueDoc(label="A", keywords=["营业执照", "执照", "注销"]),
        engine.CatalogueDoc(label="B", keywords=["执照变更", "发票"]),
    ]
    scorer = engine.KeywordScorer(docs, ["A", "B"])
    weights = {term: weight for term, _ids, weight in scorer.terms}
    # A term of one character, as models stored before digits alone were dropped may hold.
    scorer.terms.append(("0", np.array([1]), 0.5))

    both = scorer.scores("营业执照变更，注销后发票怎么办，营业执照3份")
    digit = scorer.scores("执照丢了0张")

    # 营业执照 (A) and 执照变更 (B) overlap in the text: both count, once; 执照 lies inside a
    # longer matched term and does not; the one-character term is found anywhere in the text.
    assert both.tolist() == [
        weights["营业执照"] + weights["注销"],
        weights["执照变更"] + weights["发票"],
    ]
    assert digit.tolist() == [weights["执照"], 0.5]
