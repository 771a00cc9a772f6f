"""The question record: each question, what it was offered, and whether it was a no-match, in SQLite.

Readers are kept only as an HMAC-SHA256 of their id under a per-installation secret (``feedback.key``,
mode 0600, beside the file): the raw id is never written. Rows older than ``keep_days`` are pruned at
open and at most daily on write. Recording never breaks an answer: a failure is logged once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from pathlib import Path

from index.search.retriever import Answer, Filters
from index.store.migrations import Migrations, run_script

log = logging.getLogger(__name__)
FILE_NAME = "questions.sqlite3"
KEY_NAME = "feedback.key"
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


def _secret(data_dir: Path) -> bytes:
    path = data_dir / KEY_NAME
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it meanwhile
        return bytes.fromhex(path.read_text().strip())
    with os.fdopen(fd, "w") as f:
        f.write(key.hex())
    return key


class QuestionRecord:
    def __init__(self, data_dir: Path, *, keep_days: int) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self._key = _secret(data_dir)
        self.keep_days = keep_days
        self._lock = threading.Lock()
        self._db = sqlite3.connect(data_dir / FILE_NAME, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA foreign_keys = ON")
        STEPS.apply(self._db)
        self._pruned = 0.0
        self._warned = False
        self.prune()

    def reader(self, user_id: int) -> str:
        return hmac.new(self._key, str(user_id).encode(), hashlib.sha256).hexdigest()

    def prune(self, now: float | None = None) -> int:
        now = time.time() if now is None else now
        with self._lock:
            gone = self._db.execute("DELETE FROM questions WHERE asked_at < ?", (now - self.keep_days * 86400,)).rowcount
        self._pruned = now
        return gone

    def add(self, entry: str, user_id: int, question: str, filters: Filters, answer: Answer,
            now: float | None = None) -> None:
        """Record one question; never raises (a failure is logged once, the answer goes on)."""
        try:
            now = time.time() if now is None else now
            if now - self._pruned >= PRUNE_EVERY:
                self.prune(now)
            offered = json.dumps([{"source": r.source, "path": r.path, "heading": r.heading,
                                   "score": round(r.score, 4)} for r in answer.results])
            with self._lock:
                self._db.execute(
                    "INSERT INTO questions (asked_at, entry, reader, question, filters, offered, no_match, reason)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (now, entry, self.reader(user_id), question, filters.to_json(), offered, int(answer.no_match),
                     answer.reason))
        except Exception as exc:
            if not self._warned:
                log.warning("cannot record a question (answers go on): %s", exc)
                self._warned = True

    def forget(self, user_id: int) -> int:
        """Delete every record of this reader; how many questions went."""
        reader = self.reader(user_id)
        with self._lock:
            self._db.execute("DELETE FROM votes WHERE reader = ?", (reader,))
            return self._db.execute("DELETE FROM questions WHERE reader = ?", (reader,)).rowcount

    def no_matches(self) -> list[tuple[str, str]]:
        with self._lock:
            rows = self._db.execute("SELECT asked_at, question FROM questions WHERE no_match = 1 ORDER BY asked_at")
            return [(dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat(timespec="seconds"), q)
                    for t, q in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
