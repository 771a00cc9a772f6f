"""The coverage-gaps report read from the question record: for /gaps and the weekly digest."""

from __future__ import annotations

import numpy as np

from bot.feedback.ledger import QuestionLedger
from bot.feedback.report import Report, build_report
from index.search.retriever import Retriever

Downs = list[tuple[str, str, str]]  # each 👎: the question, the reason, the reader's note


def gaps_report(record: QuestionLedger | None, retriever: Retriever, start: float | None, end: float | None
                ) -> tuple[Report, Downs]:
    """The report over the questions asked from ``start`` up to before ``end`` (POSIX times; None: open), and
    what readers said with each 👎 on them. ``record``: the bot's question record (None: nothing recorded).

    Blocking (the record, and the model for questions kept without a vector): call it off the event loop."""
    if record is None:
        return Report(0, 0, (), ()), []

    def encode(texts: list[str]) -> np.ndarray:  # questions kept without a vector: one model, so not beside a search
        with retriever.exclusive():
            return retriever.embedder.encode(texts)
    return (build_report(record.entries(start, end),
                         lambda entries: record.vectors(entries, retriever.embedder.identity, encode)),
            record.thumbs_down(start, end))
