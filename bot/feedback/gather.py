"""The coverage-gaps report read from the data folder's question record: for /gaps and the weekly digest."""

from __future__ import annotations

import numpy as np

from bot.feedback.record import FILE_NAME, QuestionRecord
from bot.feedback.report import Report, build_report
from bot.settings import Settings
from index.search.retriever import Retriever

Downs = list[tuple[str, str, str]]  # each 👎: the question, the reason, the reader's note


def gaps_report(settings: Settings, retriever: Retriever, start: float | None, end: float | None
                ) -> tuple[Report, Downs]:
    """The report over the questions asked from ``start`` up to before ``end`` (POSIX times; None: open), and
    what readers said with each 👎 on them.

    Blocking (SQLite, and the model for questions kept without a vector): call it off the event loop."""
    if not (settings.data_dir / FILE_NAME).exists():
        return Report(0, 0, (), ()), []
    record = QuestionRecord(settings.data_dir, keep_days=settings.feedback.keep_days)

    def encode(texts: list[str]) -> np.ndarray:  # questions kept without a vector: one model, so not beside a search
        with retriever.exclusive():
            return retriever.embedder.encode(texts)
    try:
        return (build_report(record.entries(start, end),
                             lambda entries: record.vectors(entries, retriever.embedder.identity, encode)),
                record.thumbs_down(start, end))
    finally:
        record.close()
