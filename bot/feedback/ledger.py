"""The question record as the rest of the bot uses it: one protocol, kept in SQLite in the data folder
(``bot.feedback.record.QuestionRecord``) or in the Chroma server beside the index, so that every host of one
installation sees every question and vote (``bot.feedback.server_record.ServerQuestionRecord``). Which one is
chosen once, in ``bot.services``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from bot.feedback.record import Entry, Vote

if TYPE_CHECKING:
    import numpy as np

    from index.search.retriever import Answer, Filters


class QuestionLedger(Protocol):
    keep_days: int

    def reader(self, user_id: int) -> str:
        """The keyed hash a reader is kept as; the same on every host of the installation."""

    def prune(self, now: float | None = None) -> int:
        """Delete the questions older than ``keep_days`` with their votes; how many questions went."""

    def add(self, entry: str, user_id: int, question: str, filters: Filters, answer: Answer,
            now: float | None = None) -> int | None:
        """Record one question; its id (what the answer's vote buttons lead to), None when it could not be
        recorded. Never raises."""

    def vote(self, question_id: int, user_id: int, vote: Vote | None, now: float | None = None) -> bool:
        """Set (or with None withdraw) this reader's vote; False when the question is no longer recorded."""

    def vote_of(self, question_id: int, user_id: int) -> Vote | None: ...

    def thumbs_down(self, since: float | None = None, until: float | None = None) -> list[tuple[str, str, str]]:
        """Each 👎 on the questions of the period: (question, reason, note), oldest question first."""

    def forget(self, user_id: int) -> int:
        """Delete every record of this reader (their questions, the votes on them, their votes); how many
        questions went."""

    def entries(self, since: float | None = None, until: float | None = None) -> list[Entry]:
        """The questions of the period, oldest first."""

    def vectors(self, entries: Sequence[Entry], model: str, encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """One vector per entry: those kept under ``model``, the rest encoded now (and kept)."""

    def counts(self, since: float, until: float) -> dict[str, int]:
        """questions, no_match, weak of the questions asked then; up and down of the votes cast then."""

    def close(self) -> None: ...
