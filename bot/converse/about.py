"""Search a narrower part of the archive first, else the whole of it, saying which it is: a question asked under
an announcement (that issue first) and one asked in a channel about one newsletter (that source first)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from bot.ask.render import quote_question
from index.search.retriever import Answer, Filters, Retriever

Search = Callable[[Filters], Answer]  # one search of the question, with these filters


def first_in(search: Search, narrow: Filters, wide: Filters) -> tuple[Answer, Answer]:
    """(the answer, the narrow search's): ``narrow``'s when it has a match, else ``wide``'s."""
    first = search(narrow)
    return (first if not first.no_match else search(wide)), first


def about_issue(retriever: Retriever, question: str, source: str, path: str, k: int = 3) -> tuple[Answer, str]:
    """The answer from the announced issue when it has one; else from the whole archive. With the line
    that says so above the answer (the issue's title is the newsletter's own text, shown inert)."""
    answer, in_issue = first_in(lambda f: retriever.search(question, k, f), Filters(source=source, issue=path),
                                Filters())
    title = quote_question(in_issue.results[0].title) if in_issue.results else ""
    if answer is in_issue:
        return in_issue, f"*From “{title}”:*"
    where = f"“{title}”" if title else "the announced issue"
    return answer, f"*Nothing in {where} answers this; from the whole archive:*"


def in_source_first(search: Search, source: str, filters: Filters) -> tuple[Answer, Filters, str]:
    """A channel's default ``source`` first (with the question's other ``filters``), else the whole archive:
    the answer, the filters that gave it (what "More results" and a follow-up keep), and the line that says
    the source had nothing ("" when it answered)."""
    narrow = dataclasses.replace(filters, source=source)
    answer, first = first_in(search, narrow, filters)
    if answer is first:
        return answer, narrow, ""
    return answer, filters, f"*Nothing in {quote_question(source)} answers this; from the whole archive:*"
