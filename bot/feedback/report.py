"""The coverage-gaps report: what readers asked that the archive did not answer, grouped by meaning.

Pure: it takes the recorded questions and their vectors (``QuestionRecord.entries`` and ``.vectors``) and
returns a :class:`Report`; :mod:`bot.feedback.render` turns it into text or JSON.

A question is a *gap* when it was a no-match, a weak match, or got a 👎; the others were *answered well*.
The same words asked again (case and punctuation aside) count again but are grouped once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bot.feedback.clusters import THRESHOLD, cluster
from bot.feedback.record import Entry
from index.errors import InvalidRequest

EXAMPLES = 3  # example questions shown per group
ANSWERED_TOPICS = 5  # most-asked topics answered well
ISSUES = 3  # issues shown per answered topic
EXAMPLE_CANDIDATES = 500  # the most typical questions of a group among which examples are picked
SAME_QUESTION = 0.9  # two examples at least this alike are the same question ("Hi! what is X?", "what is X? thanks")
_WORDS = re.compile(r"\w+")


@dataclass(frozen=True)
class Topic:
    count: int  # questions in the group, repeats included
    examples: tuple[str, ...]  # distinct questions, the most typical first
    why: dict[str, int] = field(default_factory=dict)  # gaps: how many were no-match, weak, 👎
    closest: dict[str, Any] | None = None  # gaps: the best-scored section any of them was offered
    issues: tuple[tuple[str, str, int], ...] = ()  # answered: (source, path, questions it answered first)


@dataclass(frozen=True)
class Report:
    questions: int  # in the period
    gap_questions: int
    gaps: tuple[Topic, ...]
    answered: tuple[Topic, ...]


class BadPeriod(InvalidRequest):
    """A day that is not one, or a period that ends before it starts; the message says which."""


def _day(value: str | None, name: str) -> dt.date | None:
    if value is None or not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise BadPeriod(f"{name} must be a day like 2024-10-26 (year-month-day), not {value!r}") from None


def period_bounds(since: str | None, until: str | None, names: tuple[str, str] = ("--since", "--until")
                  ) -> tuple[dt.date | None, dt.date | None, float | None, float | None]:
    """The days ``since`` and ``until`` (UTC, both included) and the POSIX times that bound them (None: open)."""
    first, last = _day(since, names[0]), _day(until, names[1])
    if first and last and first > last:
        raise BadPeriod(f"the date range is backwards: {names[0]} {first} comes after {names[1]} {last}")
    start = dt.datetime.combine(first, dt.time(), dt.timezone.utc).timestamp() if first else None
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), dt.timezone.utc).timestamp() if last else None
    return first, last, start, end


def is_gap(e: Entry) -> bool:
    return e.no_match or e.weak or e.down > 0


def _key(question: str) -> str:
    return " ".join(_WORDS.findall(question.casefold()))


def _groups(entries: Sequence[Entry], vectors: np.ndarray, threshold: float
            ) -> list[tuple[list[list[Entry]], np.ndarray]]:
    """Groups of ``entries`` by meaning, heaviest first; each group a list of same-worded lots, typical first,
    with a vector for each lot."""
    lots: dict[str, list[int]] = {}
    for n, e in enumerate(entries):
        lots.setdefault(_key(e.question), []).append(n)
    keys = list(lots)
    first = [lots[k][0] for k in keys]
    weights = np.array([len(lots[k]) for k in keys], dtype=np.int64)
    found = cluster(vectors[first], threshold, weights)
    return [([[entries[i] for i in lots[keys[m]]] for m in g.members], vectors[[first[m] for m in g.members]])
            for g in found]


def _examples(lots: list[list[Entry]], vectors: np.ndarray) -> tuple[str, ...]:
    """A few of a group's questions (``vectors``: one row per lot), the most typical first, each saying something
    of its own: a question this close in meaning to one already picked is the same question in other words."""
    picked: list[int] = []
    for n in range(min(len(lots), EXAMPLE_CANDIDATES)):
        if not picked or float((vectors[picked] @ vectors[n]).max()) < SAME_QUESTION:
            picked.append(n)
            if len(picked) == EXAMPLES:
                break
    return tuple(lots[n][0].question for n in picked)


def _why(group: list[Entry]) -> dict[str, int]:
    return {"no_match": sum(e.no_match for e in group), "weak": sum(e.weak and not e.no_match for e in group),
            "thumbs_down": sum(e.down > 0 for e in group)}


def _closest(group: list[Entry]) -> dict[str, Any] | None:
    offered = [e.offered[0] for e in group if e.offered]
    if not offered:
        return None
    best = max(offered, key=lambda o: float(o.get("score", 0.0)))
    return {k: best.get(k) for k in ("source", "path", "heading", "score")}


def _issues(group: list[Entry]) -> tuple[tuple[str, str, int], ...]:
    counts = Counter((e.offered[0]["source"], e.offered[0]["path"]) for e in group if e.offered)
    return tuple((s, p, n) for (s, p), n in counts.most_common(ISSUES))


def build_report(entries: Sequence[Entry], vectors_of: Callable[[Sequence[Entry]], np.ndarray], *,
                 threshold: float = THRESHOLD, answered_topics: int = ANSWERED_TOPICS) -> Report:
    """The report over ``entries``; ``vectors_of`` gives their vectors (one row each, normalised)."""
    gaps = [e for e in entries if is_gap(e)]
    good = [e for e in entries if not is_gap(e)]
    vectors = vectors_of([*gaps, *good]) if entries else np.zeros((0, 0), dtype=np.float32)
    gap_topics = []
    for lots, lot_vectors in _groups(gaps, vectors[:len(gaps)], threshold) if gaps else []:
        members = [e for lot in lots for e in lot]
        gap_topics.append(Topic(len(members), _examples(lots, lot_vectors), _why(members),
                                _closest(members)))
    answered = []
    for lots, lot_vectors in (_groups(good, vectors[len(gaps):], threshold) if good else [])[:answered_topics]:
        members = [e for lot in lots for e in lot]
        answered.append(Topic(len(members), _examples(lots, lot_vectors),
                              issues=_issues(members)))
    return Report(len(entries), len(gaps), tuple(gap_topics), tuple(answered))
