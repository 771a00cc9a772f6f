"""A question asked under an announcement: that issue first, else the whole archive, saying which it is."""

from __future__ import annotations

from bot.ask.render import quote_question
from index.search.retriever import Answer, Filters, Retriever


def about_issue(retriever: Retriever, question: str, source: str, path: str, k: int = 3) -> tuple[Answer, str]:
    """The answer from the announced issue when it has one; else from the whole archive. With the line
    that says so above the answer (the issue's title is the newsletter's own text, shown inert)."""
    in_issue = retriever.search(question, k, Filters(source=source, issue=path))
    title = quote_question(in_issue.results[0].title) if in_issue.results else ""
    if not in_issue.no_match:
        return in_issue, f"*From “{title}”:*"
    everywhere = retriever.search(question, k)
    where = f"“{title}”" if title else "the announced issue"
    return everywhere, f"*Nothing in {where} answers this; from the whole archive:*"
