"""What has been announced, in SQLite beside the index: issue → message, committed only once Discord accepted it."""

from __future__ import annotations

import datetime as dt
import functools
import sqlite3
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from index.store.migrations import Migrations, has_column, run_script

# the schema as first released; later changes are the migrations below, never edits here
SCHEMA = """
CREATE TABLE IF NOT EXISTS seeded (source TEXT PRIMARY KEY, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS posts (
    source TEXT NOT NULL, path TEXT NOT NULL,
    status TEXT NOT NULL,          -- pending | posted | seeded
    nonce TEXT NOT NULL,           -- the same for every attempt at one post: Discord drops duplicates
    version INTEGER NOT NULL DEFAULT 0,
    channel_id INTEGER, message_id INTEGER,
    file_hash TEXT NOT NULL DEFAULT '', post_hash TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0, next_attempt REAL NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '', posted_at TEXT,
    PRIMARY KEY (source, path)
);
CREATE TABLE IF NOT EXISTS channel_errors (
    channel_id INTEGER PRIMARY KEY, error TEXT NOT NULL, failures INTEGER NOT NULL,
    next_attempt REAL NOT NULL, since TEXT NOT NULL
);
"""
STEPS = Migrations()
T = TypeVar("T")


@STEPS
def m001_initial(db: sqlite3.Connection) -> None:
    run_script(db, SCHEMA)  # files made before migrations were recorded already have it: nothing happens


@STEPS
def m002_posts_sent_at(db: sqlite3.Connection) -> None:
    """When the first attempt at a post was made: a retry looks for an earlier post from there on."""
    if not has_column(db, "posts", "sent_at"):  # a file from before migrations may have it already
        db.execute("ALTER TABLE posts ADD COLUMN sent_at REAL")


@dataclass(frozen=True)
class PostRow:
    source: str
    path: str
    status: str
    nonce: str
    version: int
    channel_id: int | None
    message_id: int | None
    file_hash: str
    post_hash: str
    attempts: int
    next_attempt: float
    last_error: str
    sent_at: float | None = None  # wall-clock time of the first attempt: an earlier post is searched from there


def _serialised(method: Callable[..., T]) -> Callable[..., T]:
    """The connection serves several threads; a transaction, or close(), must not interleave with another call."""
    @functools.wraps(method)
    def run(self: AnnounceState, *args: Any, **kwargs: Any) -> T:
        with self._lock:
            return method(self, *args, **kwargs)
    return run


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class AnnounceState:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._lock = threading.RLock()  # one thread at a time: the announcer's, /status's; close waits for them
        self._db.execute("PRAGMA journal_mode=WAL")
        STEPS.apply(self._db)

    @_serialised
    def close(self) -> None:
        self._db.close()

    @_serialised
    def is_seeded(self, source: str) -> bool:
        return self._db.execute("SELECT 1 FROM seeded WHERE source = ?", (source,)).fetchone() is not None

    @_serialised
    def seed(self, source: str, rows: list[tuple[str, str, str, str]]) -> None:
        """First start: record (path, status, nonce, file_hash) for every issue there is, in one transaction."""
        self._db.execute("BEGIN IMMEDIATE")
        self._db.executemany(
            "INSERT OR IGNORE INTO posts (source, path, status, nonce, file_hash) VALUES (?, ?, ?, ?, ?)",
            ((source, p, st, n, h) for p, st, n, h in rows))
        self._db.execute("INSERT OR REPLACE INTO seeded (source, at) VALUES (?, ?)", (source, _now()))
        self._db.execute("COMMIT")

    @_serialised
    def rows(self, source: str | None = None) -> dict[tuple[str, str], PostRow]:
        sql = ("SELECT source, path, status, nonce, version, channel_id, message_id, file_hash, post_hash, attempts,"
               " next_attempt, last_error, sent_at FROM posts")
        cur = self._db.execute(sql + " WHERE source = ?", (source,)) if source else self._db.execute(sql)
        return {(r[0], r[1]): PostRow(*r) for r in cur}

    @_serialised
    def announced(self, message_ids: Collection[int]) -> tuple[str, str] | None:
        ids = [i for i in message_ids if i]
        if not ids:
            return None
        row = self._db.execute(f"SELECT source, path FROM posts WHERE status = 'posted' AND message_id IN"
                               f" ({', '.join('?' * len(ids))}) LIMIT 1", ids).fetchone()
        return (row[0], row[1]) if row else None

    @_serialised
    def add_pending(self, source: str, path: str, nonce: str, file_hash: str, version: int = 0) -> None:
        self._db.execute(
            "INSERT INTO posts (source, path, status, nonce, version, file_hash) VALUES (?, ?, 'pending', ?, ?, ?)"
            " ON CONFLICT(source, path) DO UPDATE SET status = 'pending', nonce = excluded.nonce,"
            " version = excluded.version, file_hash = excluded.file_hash, attempts = 0, next_attempt = 0,"
            " last_error = '', sent_at = NULL",
            (source, path, nonce, version, file_hash))

    @_serialised
    def attempted(self, source: str, path: str, error: str, next_attempt: float, sent_at: float | None = None) -> None:
        self._db.execute(
            "UPDATE posts SET attempts = attempts + 1, next_attempt = ?, last_error = ?, sent_at = COALESCE(sent_at, ?)"
            " WHERE source = ? AND path = ?",
            (next_attempt, error, sent_at, source, path))

    @_serialised
    def posted(self, source: str, path: str, channel_id: int, message_id: int, file_hash: str, post_hash: str) -> None:
        self._db.execute(
            "UPDATE posts SET status = 'posted', channel_id = ?, message_id = ?, file_hash = ?, post_hash = ?,"
            " last_error = '', posted_at = ? WHERE source = ? AND path = ?",
            (channel_id, message_id, file_hash, post_hash, _now(), source, path))

    @_serialised
    def touch(self, source: str, path: str, file_hash: str, post_hash: str | None = None) -> None:
        if post_hash is None:
            self._db.execute("UPDATE posts SET file_hash = ? WHERE source = ? AND path = ?", (file_hash, source, path))
        else:
            self._db.execute("UPDATE posts SET file_hash = ?, post_hash = ? WHERE source = ? AND path = ?",
                             (file_hash, post_hash, source, path))

    @_serialised
    def mark_all(self, source: str, paths: list[tuple[str, str]]) -> int:
        """Record these (path, file_hash) as announced without posting (a migration)."""
        self._db.execute("BEGIN IMMEDIATE")
        n = 0
        for path, file_hash in paths:
            cur = self._db.execute(
                "INSERT INTO posts (source, path, status, nonce, file_hash) VALUES (?, ?, 'seeded', '', ?)"
                " ON CONFLICT(source, path) DO UPDATE SET status = 'seeded' WHERE status = 'pending'",
                (source, path, file_hash))
            n += cur.rowcount
        self._db.execute("INSERT OR REPLACE INTO seeded (source, at) VALUES (?, ?)", (source, _now()))
        self._db.execute("COMMIT")
        return n

    # channel trouble (403, 404): one backoff per channel, so one broken channel makes no request storm
    @_serialised
    def channel_error(self, channel_id: int) -> tuple[str, float, int] | None:
        r = self._db.execute("SELECT error, next_attempt, failures FROM channel_errors WHERE channel_id = ?",
                             (channel_id,)).fetchone()
        return (r[0], r[1], r[2]) if r else None

    @_serialised
    def set_channel_error(self, channel_id: int, error: str, next_attempt: float) -> None:
        self._db.execute(
            "INSERT INTO channel_errors (channel_id, error, failures, next_attempt, since) VALUES (?, ?, 1, ?, ?)"
            " ON CONFLICT(channel_id) DO UPDATE SET error = excluded.error, failures = failures + 1,"
            " next_attempt = excluded.next_attempt",
            (channel_id, error, next_attempt, _now()))

    @_serialised
    def clear_channel_error(self, channel_id: int) -> None:
        self._db.execute("DELETE FROM channel_errors WHERE channel_id = ?", (channel_id,))

    @_serialised
    def problems(self) -> list[str]:
        """Human-readable trouble for /status and `bot status`."""
        out = [f"channel {cid}: {err} (failing since {since}, {n} attempts)"
               for cid, err, n, since in self._db.execute(
                   "SELECT channel_id, error, failures, since FROM channel_errors")]
        pending = self._db.execute(
            "SELECT COUNT(*), MAX(attempts) FROM posts WHERE status = 'pending' AND attempts > 0").fetchone()
        if pending[0]:
            out.append(f"{pending[0]} announcement(s) waiting to be retried (up to {pending[1]} attempts so far)")
        return out
