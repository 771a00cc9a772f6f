"""The fusion of the two rankings and the no-match decision, as tables of constructed inputs: no model, no store.

Scores are given by hand (cosine similarity for ``dense``, BM25 for ``lexical``); the keyword index is
built over three one-line sections, so which words the archive holds is plain to see.
"""

from __future__ import annotations

import numpy as np
import pytest

from index.search.fusion import (
    DENSE_WEIGHT_KEYWORDS,
    DENSE_WEIGHT_QUESTION,
    LEXICAL_SCALE,
    LINK_LIST_PENALTY,
    fuse,
)
from index.search.judge import (
    DENSE_FLOOR,
    NEIGHBOUR_FLOOR,
    NICKNAME_LEAD,
    NICKNAME_MATCH,
    NO_WORDS_FLOOR,
    UNKNOWN_NAME_OVERRIDE,
    judge,
)
from index.search.lexical import LexicalIndex
from index.search.query import Query, read_question

LAYERSKIP, EXPERTS, ROBOTS = 0, 1, 2
SECTIONS = ["LayerSkip: early exit and self-speculative decoding for faster language models",
            "Mixture of experts: a router sends each token to a few experts",
            "Robots with a sense of touch: tactile sensors on a gripper"]


@pytest.fixture(scope="module")
def archive() -> LexicalIndex:
    return LexicalIndex.build(SECTIONS)


# --- fusion -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lexical, dense, question_like, expected", [
    ({}, {}, True, {}),
    ({}, {0: 0.5}, True, {0: DENSE_WEIGHT_QUESTION * 0.5}),
    ({}, {0: 0.5}, False, {0: DENSE_WEIGHT_KEYWORDS * 0.5}),
    ({0: 12.0, 1: 6.0}, {}, False, {0: 0.75 * LEXICAL_SCALE, 1: 0.75 * LEXICAL_SCALE / 2}),
    ({0: 12.0}, {0: 0.5, 1: 0.4}, True, {0: 0.8 * 0.5 + 0.2 * LEXICAL_SCALE, 1: 0.8 * 0.4}),
    ({0: 1200.0}, {0: 0.5, 1: 0.4}, True, {0: 0.8 * 0.5 + 0.2 * LEXICAL_SCALE, 1: 0.8 * 0.4}),  # BM25 is relative
], ids=["nothing", "meaning only, a question", "meaning only, keywords", "keywords only", "both", "BM25 scale"])
def test_fused_scores(lexical, dense, question_like, expected):
    fused = fuse(lexical, dense, question_like=question_like)
    assert fused.keys() == expected.keys()
    for i, score in expected.items():
        assert fused[i] == pytest.approx(score)


@pytest.mark.parametrize("question_like, first", [(True, 0), (False, 1)],
                         ids=["a question: meaning first", "keywords: the words first"])
def test_the_kind_of_query_decides_between_meaning_and_words(question_like, first):
    dense = {0: 0.6, 1: 0.3}  # section 0 is closer in meaning
    lexical = {0: 1.0, 1: 10.0}  # section 1 has the words
    fused = fuse(lexical, dense, question_like=question_like)
    assert max(fused, key=fused.__getitem__) == first


def test_a_list_of_links_ranks_below_prose_it_otherwise_ties_with():
    share = np.array([1.0, 0.0])
    fused = fuse({0: 5.0, 1: 5.0}, {0: 0.5, 1: 0.5}, question_like=True, link_share=share)
    assert fused[0] == pytest.approx(fused[1] - LINK_LIST_PENALTY)


# --- the no-match decision --------------------------------------------------------------------------------------

def q(text: str, language: str | None = None) -> Query:
    return Query(original=text, text=text, language=language)


ONLY_ROBOTS = np.array([False, False, True])

CASES = [
    # (name, query, lexical, dense, mask, no_match, words in the reason)
    ("a good match", q("how does layerskip decide to exit early?"), {LAYERSKIP: 9.0}, {LAYERSKIP: 0.62}, None,
     False, ""),
    ("another language", q("¿qué es layerskip?", "Spanish"), {LAYERSKIP: 9.0}, {LAYERSKIP: 0.9}, None,
     True, "seems to be in Spanish"),
    ("nothing shares a word or meaning", q("what is layerskip?"), {}, {}, None,
     True, "no section shares a word or meaning"),
    ("a name the archive never mentions", q("what did Zorblax announce about experts?"), {EXPERTS: 4.0},
     {EXPERTS: UNKNOWN_NAME_OVERRIDE - 0.01, ROBOTS: UNKNOWN_NAME_OVERRIDE - 0.02}, None, True,
     "the archive never mentions Zorblax"),
    ("one unknown name, the best section far ahead in meaning", q("what did Zorblax announce about experts?"),
     {EXPERTS: 4.0}, {EXPERTS: NICKNAME_MATCH, ROBOTS: NICKNAME_MATCH - NICKNAME_LEAD - 0.01}, None, False, ""),
    ("one unknown name, the best section only a little ahead", q("what did Zorblax announce about experts?"),
     {EXPERTS: 4.0}, {EXPERTS: 0.6, ROBOTS: 0.6 - NICKNAME_LEAD + 0.01}, None, True, "never mentions Zorblax"),
    ("one unknown name, far ahead but not close", q("what did Zorblax announce about experts?"),
     {EXPERTS: 4.0}, {EXPERTS: NICKNAME_MATCH - 0.01, ROBOTS: 0.1}, None, True, "never mentions Zorblax"),
    ("two unknown names, however far ahead", q("what did Zorblax tell Quuxly about experts?"), {EXPERTS: 4.0},
     {EXPERTS: 0.6, ROBOTS: 0.1}, None, True, "never mentions Zorblax, Quuxly"),
    ("a hyphenated name with one part known", q("how do Zorblax-Experts models route?"), {EXPERTS: 4.0},
     {EXPERTS: 0.6, ROBOTS: 0.58}, None, True, "never mentions Zorblax-Experts"),
    ("a neighbouring topic", q("do robots smell gas leaks?"), {ROBOTS: 2.0}, {ROBOTS: NEIGHBOUR_FLOOR - 0.01}, None,
     True, "no section mentions smell, gas, leaks"),
    ("a neighbouring topic, yet close in meaning", q("do robots smell gas leaks?"), {ROBOTS: 2.0},
     {ROBOTS: NEIGHBOUR_FLOOR}, None, False, ""),
    ("the unknown name overridden by meaning", q("what did Zorblax announce about experts?"), {EXPERTS: 4.0},
     {EXPERTS: UNKNOWN_NAME_OVERRIDE}, None, False, ""),
    ("a name only outside the filters", q("what is LayerSkip?"), {}, {ROBOTS: 0.2}, ONLY_ROBOTS,
     True, "no issue the filters leave mentions LayerSkip"),
    ("a question far in meaning", q("how do I bake sourdough bread?"), {}, {ROBOTS: DENSE_FLOOR - 0.01}, None,
     True, "no section is close in meaning"),
    ("far in meaning among what the filters leave", q("how do experts route tokens?"), {}, {ROBOTS: 0.1},
     ONLY_ROBOTS, True, "no section among the issues the filters leave is close in meaning"),
    ("a question just close enough", q("how do tactile grippers feel?"), {ROBOTS: 3.0}, {ROBOTS: DENSE_FLOOR}, None,
     False, ""),
    ("keywords no section contains", q("sourdough bread baking"), {}, {ROBOTS: NO_WORDS_FLOOR - 0.01}, None,
     True, "contains any word of the question"),
    ("keywords none contain, close in meaning", q("sourdough bread baking"), {}, {ROBOTS: NO_WORDS_FLOOR}, None,
     False, ""),
    ("keywords the best section mostly lacks", q("robots tokens router experts"), {ROBOTS: 2.0},
     {ROBOTS: DENSE_FLOOR - 0.01}, None, True, "shares only 1 of the question's 4 words"),
    ("keywords the best section mostly has", q("robots tactile gripper experts"), {ROBOTS: 6.0},
     {ROBOTS: DENSE_FLOOR - 0.01}, None, False, ""),
    ("only common words, close in meaning", q("what is it?"), {}, {EXPERTS: 0.35}, None, False, ""),
]


@pytest.mark.parametrize("name, query, lexical, dense, mask, no_match, reason", CASES, ids=[c[0] for c in CASES])
def test_the_no_match_decision(archive, name, query, lexical, dense, mask, no_match, reason):
    fused = fuse(lexical, dense, question_like=query.text.endswith("?"))
    verdict = judge(archive, query, lexical, dense, fused, mask)
    assert verdict.no_match is no_match, verdict.reason
    assert reason in verdict.reason
    if mask is not None and no_match:
        assert "the filters leave" in verdict.reason


def test_the_question_is_read_before_it_is_judged(archive):
    """Mentions and links are not words of the question: a mention of an unknown user is no unknown name."""
    query = read_question("<@123456789012345678> how does layerskip exit early? https://example.com/Zorblax9")
    verdict = judge(archive, query, {LAYERSKIP: 9.0}, {LAYERSKIP: 0.6}, fuse({LAYERSKIP: 9.0}, {LAYERSKIP: 0.6},
                                                                          question_like=True))
    assert not verdict.no_match, verdict.reason
