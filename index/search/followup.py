"""A follow-up question, answered in the context of the conversation it follows, without a language model.

"who released it, and is the code out?" says nothing about what "it" is: ranked alone it finds
sections about releases and code in general. Joined to the question it follows ("what is layer
skip"), it finds the section the reader means. Joined alone, though, an older topic would drown a
follow-up that changes the subject. So the follow-up is ranked several ways and the rankings fused:

- the new message alone (weight 1);
- the new message joined to each earlier question, newest first, weighted more than the message
  alone (a vague reading should not outvote the one that names the topic), each older turn less
  (``JOINED_WEIGHT * AGE_DECAY ** age``);

fused by the weighted sum of each reading's fused score (cosine similarity and relative BM25, the
scale :func:`~index.search.fusion.fuse` gives every question): a vague reading ("what is the
downside?") scores low everywhere and so sways little, while the reading that names the topic
decides. On the bundled samples this found 9 of 9 follow-ups where weighted reciprocal-rank fusion
found 8, and a follow-up that names a new subject still changes it. The earlier filters are
the caller's to pass on (the conversation keeps them). The no-match decision takes the most
hopeful of the variants: a follow-up is answered when any of its readings is.

Pure: plain arguments in, an :class:`~index.search.retriever.Answer` out; it knows nothing of Discord.
"""

from __future__ import annotations

from collections.abc import Sequence

from index.search.fusion import fuse
from index.search.judge import Verdict, is_question, judge
from index.search.paging import page
from index.search.query import read_question
from index.search.retriever import MAX_K, Answer, Filters, Retriever, unanswerable

# the follow-up joined to the question just before it, against the follow-up alone (1). Measured with
# benchmarks/bench_followups.py (19 follow-ups over the shared archives, found@3): 0.7 → 11, 1 → 12,
# 1.5 → 16, 2 → 17; the 4 pairs that change the subject stayed 4/4 and the samples 9/9 throughout.
JOINED_WEIGHT = 2.0
AGE_DECAY = 0.5  # each turn further back counts this much less


def readings(message: str, earlier: Sequence[str]) -> list[tuple[str, float]]:
    """The texts a follow-up is ranked as, with their weights: alone, then joined to each earlier turn.

    ``earlier``: the conversation's questions, oldest first (as asked; Discord syntax is set aside here).
    """
    text = read_question(message).text
    out = [(text, 1.0)] if text else []
    for age, previous in enumerate(reversed(earlier)):
        before = read_question(previous).text
        if before and text and before != text:
            out.append((f"{before} {text}", JOINED_WEIGHT * AGE_DECAY ** age))
    return out


def search_followup(retriever: Retriever, message: str, earlier: Sequence[str], k: int = 3,
                    filters: Filters | None = None, offset: int = 0) -> Answer:
    """The sections that answer ``message`` in the context of ``earlier`` questions (oldest first), the ``k`` after
    the first ``offset`` (a later page).

    With no earlier turn this is :meth:`Retriever.search`. ``Answer.query`` is ``message`` as asked.
    """
    filters = filters or Filters()
    if not earlier:
        return retriever.search(message, k, filters, offset)
    query = read_question(message)
    if (nothing := unanswerable(query)) is not None:
        return nothing
    k = max(1, min(MAX_K, k))
    with retriever.exclusive():
        combined: dict[int, float] = {}
        verdicts: list[Verdict] = []
        terms_seen: list[str] = []
        best_text = query.text
        best_weight = -1.0
        table = None
        for text, weight in readings(message, earlier):
            # every reading over the same table: its indices are what `combined` adds up
            table, q_terms, lexical, dense, mask = retriever.rankings(text, filters, table)
            fused = fuse(lexical, dense, question_like=is_question(text), link_share=table.link_share)
            verdicts.append(judge(table.lexical, read_question(text), lexical, dense, fused, mask))
            for idx, score in fused.items():
                combined[idx] = combined.get(idx, 0.0) + weight * score
            terms_seen += [t for t in q_terms if t not in terms_seen]
            if weight > best_weight and text != query.text:
                best_text, best_weight = text, weight
        if table is None:
            return Answer(query.original, True, [], "the question is empty")
        answered = [v for v in verdicts if not v.no_match]
        verdict = answered[0] if answered else verdicts[0]
        chosen, more = page(combined, k, offset)
        # snippets pick the sentences closest to the follow-up read in its context
        results = retriever.results(table, chosen, combined, terms_seen, best_text)
    return Answer(query.original, verdict.no_match, results, verdict.reason, more=more)
