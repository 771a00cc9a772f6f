"""A host's copy of the questions kept in the Chroma server, in its data folder, so that reading many is quick.

A recorded question never changes (only its vector, when the configured model changes), so a read asks the
server only for the ids of the period (a fraction of a second for 10,000), fetches the questions the copy does
not hold yet, and deletes from the copy at once those of the period the server no longer has (pruned, or their
reader forgotten, on any host); opening the record does the same for every question, and the questions of a
forgotten reader go from every copy also outside the period read (see ``FORGOTTEN`` in
:mod:`bot.feedback.server_record`). The copy holds no reader, hashed or not: only what ``bot gaps`` reads (the
metadata less ``reader``, and the vector). What it deletes is zeroed (``secure_delete``) and its write-ahead log
emptied, so a forgotten question cannot be read back from the file either.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.store.migrations import Migrations, checkpoint, run_script

FILE_NAME = "questions-copy.sqlite3"

try:  # chromadb's own dependency: reads 10,000 questions' metadata in a fifth of json's time
    from orjson import loads
except ImportError:  # pragma: no cover - chromadb always brings it
    from json import loads
STEPS = Migrations()
_CHUNK = 500


@STEPS
def m001_copy(db: sqlite3.Connection) -> None:
    run_script(db, """
CREATE TABLE questions (
    id INTEGER PRIMARY KEY, asked_at REAL NOT NULL, meta TEXT NOT NULL, model TEXT NOT NULL, vector BLOB NOT NULL
);
CREATE INDEX questions_asked_at ON questions (asked_at);
""")


Row = tuple[int, dict[str, Any], str, np.ndarray]  # id, metadata (no reader), model, vector


class QuestionCopy:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA secure_delete=ON")  # a question deleted here (forgotten, pruned) is zeroed
        STEPS.apply(self._db)

    def _chunks(self, ids: Sequence[int]) -> Iterable[Sequence[int]]:
        for start in range(0, len(ids), _CHUNK):
            yield ids[start:start + _CHUNK]

    def held(self, ids: Sequence[int]) -> set[int]:
        out: set[int] = set()
        with self._lock:
            for part in self._chunks(ids):
                out.update(r[0] for r in self._db.execute(
                    f"SELECT id FROM questions WHERE id IN ({','.join('?' * len(part))})", tuple(part)))
        return out

    def put(self, rows: Sequence[Row]) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO questions (id, asked_at, meta, model, vector) VALUES (?, ?, ?, ?, ?)",
                    [(qid, float(m["asked_at"]), json.dumps({k: v for k, v in m.items() if k != "reader"}), model,
                      np.asarray(v, dtype=np.float32).tobytes()) for qid, m, model, v in rows])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def read(self, ids: Sequence[int]) -> list[Row]:
        out: list[Row] = []
        with self._lock:
            for part in self._chunks(ids):
                out += [(qid, loads(meta), model, np.frombuffer(blob, dtype=np.float32))
                        for qid, meta, model, blob in self._db.execute(
                            "SELECT id, meta, model, vector FROM questions"
                            f" WHERE id IN ({','.join('?' * len(part))})", tuple(part))]
        return out

    def keep_only(self, ids: Iterable[int], since: float | None = None, until: float | None = None) -> int:
        """Delete the copy's questions asked in the period that are not among ``ids`` (the server's); how many."""
        keep = set(ids)
        with self._lock:
            held = [r[0] for r in self._db.execute("SELECT id FROM questions WHERE asked_at >= ? AND asked_at < ?",
                                                   (float("-inf") if since is None else since,
                                                    float("inf") if until is None else until))]
            gone = [i for i in held if i not in keep]
            self._delete(gone)
        return len(gone)

    def delete(self, ids: Sequence[int]) -> int:
        """Delete these questions (those the copy holds); how many went."""
        with self._lock:
            return self._delete(ids)

    def _delete(self, ids: Sequence[int]) -> int:
        gone = 0
        for part in self._chunks(ids):
            gone += self._db.execute(f"DELETE FROM questions WHERE id IN ({','.join('?' * len(part))})",
                                     tuple(part)).rowcount
        if gone:  # the write-ahead log's older frames still hold them: copy it back and empty it
            checkpoint(self._db)
        return gone

    def close(self) -> None:
        with self._lock:
            self._db.close()
