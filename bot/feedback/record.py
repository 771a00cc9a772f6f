"""The question record: each question, what it was offered, and whether it was a no-match or weak, in SQLite.

Readers are kept only as an HMAC-SHA256 of their id under a per-installation secret (``feedback.key``,
mode 0600, beside the file): the raw id is never written. Rows older than ``keep_days`` are pruned at
open and at most daily on write. Recording never breaks an answer: a failure is logged once.

A question's vector (for grouping them by meaning, ``bot gaps``) is kept beside it under the name of the model
that made it: when it is asked, the one its search just made (``vector_of``: never a second encoding), else
once ``bot gaps`` first needs it. It goes with the question when that is pruned or its reader forgotten.

Votes (the 👍/👎 under answers, :mod:`bot.feedback.votes`): one per reader (hashed as above) per question, with a
👎's reason and optional note, the reader's own words for the author. They go with their question, and all of a
reader's votes and notes go when that reader is forgotten.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.reader_key import folder_key, reader_hash
from index.store.migrations import Migrations, checkpoint, run_script

if TYPE_CHECKING:  # only named: `bot gaps` reads the record without the search (bm25s, scipy: 0.2-0.4 s)
    from index.search.retriever import Answer, Filters

log = logging.getLogger(__name__)
FILE_NAME = "questions.sqlite3"
PRUNE_EVERY = 86400.0
STEPS = Migrations()


@STEPS
def m001_questions(db: sqlite3.Connection) -> None:
    run_script(db, """
CREATE TABLE questions (
    id INTEGER PRIMARY KEY, asked_at REAL NOT NULL, entry TEXT NOT NULL, reader TEXT NOT NULL,
    question TEXT NOT NULL, filters TEXT NOT NULL, offered TEXT NOT NULL,
    no_match INTEGER NOT NULL, reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX questions_reader ON questions (reader);
CREATE INDEX questions_asked_at ON questions (asked_at);
CREATE TABLE votes (
    question_id INTEGER NOT NULL REFERENCES questions (id) ON DELETE CASCADE,
    reader TEXT NOT NULL, vote INTEGER NOT NULL, at REAL NOT NULL, PRIMARY KEY (question_id, reader)
);
""")


@STEPS
def m002_weak(db: sqlite3.Connection) -> None:
    """A weak match: passed the no-match judge, but its first section is far (bot.feedback.weak). Old rows are
    judged from the scores they kept."""
    db.execute("ALTER TABLE questions ADD COLUMN weak INTEGER NOT NULL DEFAULT 0")
    from bot.feedback.weak import first_score_is_weak

    rows = db.execute("SELECT id, question, offered FROM questions WHERE no_match = 0").fetchall()
    for qid, question, offered in rows:
        results = json.loads(offered)
        if results and first_score_is_weak(question, float(results[0]["score"])):
            db.execute("UPDATE questions SET weak = 1 WHERE id = ?", (qid,))


@STEPS
def m003_question_vectors(db: sqlite3.Connection) -> None:
    run_script(db, """
CREATE TABLE question_vectors (
    question_id INTEGER PRIMARY KEY REFERENCES questions (id) ON DELETE CASCADE,
    model TEXT NOT NULL, vector BLOB NOT NULL
);
""")


@STEPS
def m004_vote_reasons(db: sqlite3.Connection) -> None:
    """A 👎 says what went wrong (``why``: one of bot.feedback.votes.REASONS) and may carry the reader's own note."""
    db.execute("ALTER TABLE votes ADD COLUMN why TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE votes ADD COLUMN note TEXT NOT NULL DEFAULT ''")


@dataclass(frozen=True)
class Vote:
    """One reader's vote on one recorded question."""

    vote: int  # +1 👍, -1 👎
    why: str = ""  # a 👎's reason
    note: str = ""  # a 👎's note, the reader's own words


@dataclass(frozen=True)
class Entry:
    """One recorded question as ``bot gaps`` reads it."""

    id: int
    asked_at: float
    question: str
    no_match: bool
    weak: bool
    reason: str
    offered: tuple[dict[str, Any], ...]  # source, path, heading, score of each section offered, best first
    up: int  # 👍 votes
    down: int  # 👎 votes


def encoded_text(question: str) -> str:
    """What of a question is encoded to compare it with others: its words as the search read them."""
    from index.search.query import read_question  # here: bot gaps, reading kept vectors, needs no keyword search

    return read_question(question).text or question


class QuestionRecord:
    def __init__(self, data_dir: Path, *, keep_days: int,
                 vector_of: Callable[[str], np.ndarray | None] | None = None, model: str = "") -> None:
        """``vector_of``: the vector a search just made for a question's :func:`encoded_text`, or None (then it
        is encoded when first needed); ``model`` names the model that made it."""
        if vector_of is not None and not model:
            raise ValueError("vector_of needs the name of its model")
        self._vector_of = vector_of
        self._model = model
        data_dir.mkdir(parents=True, exist_ok=True)
        self._key = folder_key(data_dir)
        self.keep_days = keep_days
        self._lock = threading.Lock()
        self._db = sqlite3.connect(data_dir / FILE_NAME, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA foreign_keys = ON")
        # as the catalog: the bot writes while `bot gaps` reads, and a question costs no sync of its own
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA secure_delete=ON")  # a pruned or forgotten question is zeroed, not left in free space
        STEPS.apply(self._db)
        self._pruned = 0.0
        self._warned = False
        self.prune()

    def reader(self, user_id: int) -> str:
        return reader_hash(self._key, user_id)

    def prune(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        with self._lock:
            gone = self._db.execute("DELETE FROM questions WHERE asked_at < ?", (now - self.keep_days * 86400,)).rowcount
        self._pruned = now
        return gone

    def add(self, entry: str, user_id: int, question: str, filters: Filters, answer: Answer,
            now: float | None = None) -> int | None:
        """Record one question; its row id (what the answer's vote buttons lead to), None when it could not be
        recorded. Never raises (a failure is logged once, the answer goes on)."""
        from bot.feedback.weak import weak_match

        try:
            now = time.time() if now is None else now
            if now - self._pruned >= PRUNE_EVERY:
                self.prune(now)
            offered = json.dumps([{"source": r.source, "path": r.path, "heading": r.heading,
                                   "score": round(r.score, 4)} for r in answer.results])
            with self._lock:
                qid = self._db.execute(
                    "INSERT INTO questions (asked_at, entry, reader, question, filters, offered, no_match, reason,"
                    " weak) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (now, entry, self.reader(user_id), question, filters.to_json(), offered, int(answer.no_match),
                     answer.reason, int(weak_match(question, answer)))).lastrowid
            vector = self._vector_of(encoded_text(question)) if self._vector_of is not None else None
            if vector is not None:
                with self._lock:
                    self._db.execute("INSERT INTO question_vectors (question_id, model, vector) VALUES (?, ?, ?)",
                                     (qid, self._model, np.asarray(vector, dtype=np.float32).tobytes()))
            return int(qid) if qid is not None else None
        except Exception as exc:
            if not self._warned:
                log.warning("cannot record a question (answers go on): %s", exc)
                self._warned = True
            return None

    def vote(self, question_id: int, user_id: int, vote: Vote | None, now: float | None = None) -> bool:
        """Set this reader's vote on the question (one per reader: it replaces theirs), or withdraw it (None).
        False when the question is no longer recorded (pruned, or its asker forgotten)."""
        reader = self.reader(user_id)
        with self._lock:
            if vote is None:
                self._db.execute("DELETE FROM votes WHERE question_id = ? AND reader = ?", (question_id, reader))
                return self._db.execute("SELECT 1 FROM questions WHERE id = ?", (question_id,)).fetchone() is not None
            try:
                self._db.execute(
                    "INSERT INTO votes (question_id, reader, vote, at, why, note) VALUES (?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (question_id, reader) DO UPDATE SET vote = excluded.vote, at = excluded.at,"
                    " why = excluded.why, note = excluded.note",
                    (question_id, reader, 1 if vote.vote > 0 else -1, time.time() if now is None else now,
                     vote.why if vote.vote < 0 else "", vote.note if vote.vote < 0 else ""))
            except sqlite3.IntegrityError:  # the question went (foreign key)
                return False
        return True

    def thumbs_down(self, since: float | None = None, until: float | None = None) -> list[tuple[str, str, str]]:
        """Each 👎 on a question asked from ``since`` up to before ``until``: the question, the reason, the note;
        oldest question first. No reader, hashed or not: this is what the author reads."""
        with self._lock:
            rows = self._db.execute(
                "SELECT q.question, v.why, v.note FROM votes v JOIN questions q ON q.id = v.question_id"
                " WHERE v.vote < 0 AND q.asked_at >= ? AND q.asked_at < ? ORDER BY q.asked_at, q.id, v.at",
                (since if since is not None else float("-inf"), until if until is not None else float("inf")),
            ).fetchall()
        return [(q, why, note) for q, why, note in rows]

    def vote_of(self, question_id: int, user_id: int) -> Vote | None:
        """This reader's vote on the question, if any."""
        with self._lock:
            row = self._db.execute("SELECT vote, why, note FROM votes WHERE question_id = ? AND reader = ?",
                                   (question_id, self.reader(user_id))).fetchone()
        return Vote(int(row[0]), row[1], row[2]) if row is not None else None

    def forget(self, user_id: int) -> int:
        """Delete every record of this reader; how many questions went."""
        reader = self.reader(user_id)
        with self._lock:
            self._db.execute("DELETE FROM votes WHERE reader = ?", (reader,))
            gone = self._db.execute("DELETE FROM questions WHERE reader = ?", (reader,)).rowcount
            if not checkpoint(self._db):  # the log's older frames still hold the rows: empty it now
                log.warning("the question record is being read: what was forgotten leaves its write-ahead log"
                            " at the next checkpoint")
        return gone

    def no_matches(self) -> list[tuple[str, str]]:
        with self._lock:
            rows = self._db.execute("SELECT asked_at, question FROM questions WHERE no_match = 1 ORDER BY asked_at")
            return [(dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat(timespec="seconds"), q)
                    for t, q in rows]

    def entries(self, since: float | None = None, until: float | None = None) -> list[Entry]:
        """The questions asked from ``since`` up to before ``until`` (POSIX times; None: no bound), oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT q.id, q.asked_at, q.question, q.no_match, q.weak, q.reason, q.offered,"
                " (SELECT count(*) FROM votes v WHERE v.question_id = q.id AND v.vote > 0),"
                " (SELECT count(*) FROM votes v WHERE v.question_id = q.id AND v.vote < 0)"
                " FROM questions q WHERE q.asked_at >= ? AND q.asked_at < ? ORDER BY q.asked_at, q.id",
                (since if since is not None else float("-inf"), until if until is not None else float("inf")),
            ).fetchall()
        return [Entry(qid, t, q, bool(nm), bool(wk), reason, tuple(json.loads(offered)), up, down)
                for qid, t, q, nm, wk, reason, offered, up, down in rows]

    def vectors(self, entries: Sequence[Entry], model: str, encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """The questions' vectors, one row per entry: those kept under ``model``, the rest encoded now and kept."""
        ids = [e.id for e in entries]
        kept: dict[int, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(ids), 500):
                part = ids[start:start + 500]
                marks = ",".join("?" * len(part))
                for qid, blob in self._db.execute(
                        f"SELECT question_id, vector FROM question_vectors WHERE model = ? AND question_id IN ({marks})",
                        (model, *part)):
                    kept[qid] = np.frombuffer(blob, dtype=np.float32)
        missing = [e for e in entries if e.id not in kept]
        if missing:
            texts = {e.id: encoded_text(e.question) for e in missing}
            distinct = list(dict.fromkeys(texts.values()))
            log.info("encoding %d questions not encoded before", len(distinct))
            by_text = dict(zip(distinct, np.asarray(encode(distinct), dtype=np.float32), strict=True))
            with self._lock:
                self._db.execute("BEGIN")
                try:
                    for e in missing:
                        kept[e.id] = by_text[texts[e.id]]
                        self._db.execute("INSERT OR REPLACE INTO question_vectors (question_id, model, vector)"
                                         " VALUES (?, ?, ?)", (e.id, model, kept[e.id].tobytes()))
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
        if not entries:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([kept[i] for i in ids])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def counts(self, since: float, until: float) -> dict[str, int]:
        """Questions asked from ``since`` up to before ``until`` (POSIX times): how many, no-matches, weak
        matches; and the 👍 and 👎 votes cast in that time."""
        with self._lock:
            asked, no_match, weak = self._db.execute(
                "SELECT count(*), coalesce(sum(no_match), 0), coalesce(sum(weak AND NOT no_match), 0)"
                " FROM questions WHERE asked_at >= ? AND asked_at < ?", (since, until)).fetchone()
            up, down = self._db.execute(
                "SELECT coalesce(sum(vote > 0), 0), coalesce(sum(vote < 0), 0) FROM votes WHERE at >= ? AND at < ?",
                (since, until)).fetchone()
        return {"questions": asked, "no_match": no_match, "weak": weak, "up": up, "down": down}
