"""A weak match: an answer the no-match judge let through whose first section is not close enough to trust.

Judged from what the answer already holds: the first result's fused score (index.search.fusion.fuse), which
weighs meaning and keywords differently for a question in natural language and for a few keywords, so each
kind has its own bound. Measured by benchmarks/eval_weak.py on ../shared/eval/dev.jsonl and
benchmarks/questions/own.jsonl over the three eval archives: of the 85 questions the judge let through, 56
first results were the right section (scores 0.42–0.78) and 29 were not (0.35–0.66, mostly paraphrases whose
section came second or third). The two overlap widely; below 0.46 are 9 of the 29 wrong ones and 4 of the 56
right ones, so about two in three answers flagged weak did offer the wrong section first. (A small lead over
the second result did not separate them better.) The 20 keyword queries let through were all right, from 0.61
up: with nothing wrong to measure against, their bound sits below every right one.
"""

from __future__ import annotations

from index.search.judge import is_question
from index.search.query import read_question
from index.search.retriever import Answer

# the first result's fused score below which an answer is weak, for a question in natural language and for keywords
WEAK_BELOW = {"question": 0.46, "keywords": 0.55}


def first_score_is_weak(question: str, score: float) -> bool:
    """Whether a first result of this fused ``score`` is too weak a match for ``question``."""
    kind = "question" if is_question(read_question(question).text) else "keywords"
    return score < WEAK_BELOW[kind]


def weak_match(question: str, answer: Answer) -> bool:
    """Whether ``answer`` (not a no-match) offers a first section too far from ``question`` to trust."""
    if answer.no_match or not answer.results:
        return False
    return first_score_is_weak(question, answer.results[0].score)
