"""The index's own record in SQLite: which issues are indexed in which state, their sections and chunks.

It is the source of truth for what the index serves. The vector store holds the
embeddings; a chunk counts as served only once its row is committed here, so an issue
switches from its old to its new state in one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.store.locks import ensure_folder
from index.store.migrations import Migrations, has_column, run_script

# the schema as first released; later changes are the migrations below, never edits here
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS issues (
    source TEXT NOT NULL, path TEXT NOT NULL, hash TEXT NOT NULL,
    status TEXT NOT NULL,             -- indexed | held | failed
    reason TEXT NOT NULL DEFAULT '',
    publish_at TEXT,                  -- ISO time a scheduled issue becomes published
    title TEXT NOT NULL DEFAULT '', url TEXT NOT NULL DEFAULT '', date TEXT,
    description TEXT NOT NULL DEFAULT '',
    indexed_at TEXT NOT NULL,
    PRIMARY KEY (source, path)
);
CREATE TABLE IF NOT EXISTS sections (
    source TEXT NOT NULL, path TEXT NOT NULL, position INTEGER NOT NULL,
    heading TEXT NOT NULL, heading_path TEXT NOT NULL, level INTEGER NOT NULL,
    anchor TEXT NOT NULL, markdown TEXT NOT NULL, text TEXT NOT NULL,
    PRIMARY KEY (source, path, position)
);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, source TEXT NOT NULL, path TEXT NOT NULL,
    position INTEGER NOT NULL, window INTEGER NOT NULL, text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_issue ON chunks (source, path);
CREATE TABLE IF NOT EXISTS pending (id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS unpushed (source TEXT NOT NULL, path TEXT NOT NULL, PRIMARY KEY (source, path));
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY, source TEXT NOT NULL, finished TEXT NOT NULL, summary TEXT NOT NULL
);
"""
STEPS = Migrations()


@STEPS
def m001_initial(db: sqlite3.Connection) -> None:
    run_script(db, SCHEMA)  # files made before migrations were recorded already have it: nothing happens


@STEPS
def m002_sections_link_share(db: sqlite3.Connection) -> None:
    if not has_column(db, "sections", "link_share"):  # files from before migrations may have it already
        db.execute("ALTER TABLE sections ADD COLUMN link_share REAL NOT NULL DEFAULT 0")


@STEPS
def m003_issues_access(db: sqlite3.Connection) -> None:
    # "" public, "preview" (a feed entry cut at a paywall), "paid" (an export's paid-only post)
    if not has_column(db, "issues", "access"):
        db.execute("ALTER TABLE issues ADD COLUMN access TEXT NOT NULL DEFAULT ''")


@dataclass(frozen=True)
class IssueRow:
    source: str
    path: str
    hash: str
    status: str
    reason: str
    publish_at: str | None


@dataclass(frozen=True)
class IssueListing:
    """One issue as the announcer and `bot announce` see it."""

    source: str
    path: str
    hash: str
    status: str  # indexed | held | failed
    reason: str
    publish_at: str | None
    title: str
    date: str | None


@dataclass(frozen=True)
class ServedSection:
    """A section of an indexed issue, with what a search result shows of it."""

    source: str
    path: str
    position: int
    title: str  # the issue's
    date: str | None  # the issue's, YYYY-MM-DD
    url: str  # the issue's
    heading: str
    heading_path: tuple[str, ...]
    anchor: str
    markdown: str
    link_share: float
    text: str | None = None  # plain text, only when asked for (to build the keyword index)
    access: str = ""  # the issue's: "" public, "preview", "paid" (index.reading.paywall)


@dataclass(frozen=True)
class SourceStats:
    name: str
    issues: int
    sections: int
    held_back: int
    last_indexed: str | None


def utc_now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class Catalog:
    """SQLite file in the data folder; safe to read from other processes while one writes.

    The embedded ``index.store.record.IndexRecord``: this file is the whole record. In server mode
    ``index.store.server.replica.ReplicatedCatalog`` keeps it as a copy of the server's.
    """

    chunk_texts_in_store = False  # the vector store need not keep the chunk texts: they are here
    others_write = False  # only this process writes the index (it holds the data folder)

    def __init__(self, path: Path, *, threaded: bool = False) -> None:
        """``threaded``: the connection may be used from several threads (SQLite serialises them)."""
        ensure_folder(path.parent)
        self.path = path
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=not threaded)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        STEPS.apply(self._db)  # bring a catalog written by an older version up to this schema

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # meta
    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def stored_model(self) -> str | None:
        """The embedding model the index's vectors were made with."""
        return self.get_meta("model")

    def set_model(self, model: str) -> None:
        if self.get_meta("model") != model:  # a run with nothing to do writes nothing
            self.set_meta("model", model)

    def catch_up(self) -> None:
        """Before a writer writes: take in what other writers wrote. Here nobody else writes."""

    def follow(self) -> None:
        """Before a reader reads: take in what writers elsewhere wrote. Here they write this file itself."""

    # issues
    def issue_rows(self, source: str) -> dict[str, IssueRow]:
        rows = self._db.execute(
            "SELECT source, path, hash, status, reason, publish_at FROM issues WHERE source = ?", (source,)
        )
        return {r[1]: IssueRow(*r) for r in rows}

    def sources(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT DISTINCT source FROM issues ORDER BY source")]

    def chunk_ids(self, source: str, path: str) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT id FROM chunks WHERE source = ? AND path = ?", (source, path))]

    # pending: chunk ids that may be in the vector store without being committed here
    def add_pending(self, ids: Iterable[str]) -> None:
        with self.transaction() as db:
            db.executemany("INSERT OR IGNORE INTO pending (id) VALUES (?)", ((i,) for i in ids))

    def orphans(self) -> list[str]:
        """Pending ids that no committed chunk uses: to be deleted from the vector store."""
        return [r[0] for r in self._db.execute("SELECT id FROM pending WHERE id NOT IN (SELECT id FROM chunks)")]

    def clear_pending(self, ids: Iterable[str] | None = None) -> None:
        if ids is None:
            self._db.execute("DELETE FROM pending")
            return
        with self.transaction() as db:
            db.executemany("DELETE FROM pending WHERE id = ?", ((i,) for i in ids))

    @staticmethod
    def settle_pending(db: sqlite3.Connection, ids: Iterable[str]) -> None:
        """Inside transaction ``db``: these pending chunk ids are now committed rows."""
        db.executemany("DELETE FROM pending WHERE id = ?", ((i,) for i in ids))

    def all_chunk_ids(self) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT id FROM chunks")}

    @staticmethod
    def _bump(db: sqlite3.Connection) -> None:
        db.execute(
            "INSERT INTO meta (key, value) VALUES ('generation', '1')"
            " ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    def generation(self) -> str:
        """Changes whenever what the index serves changes."""
        return self.get_meta("generation") or "0"

    def record_issue(
        self,
        db: sqlite3.Connection,
        *,
        source: str,
        path: str,
        hash: str,
        status: str,
        reason: str = "",
        publish_at: str | None = None,
        title: str = "",
        url: str = "",
        date: str | None = None,
        description: str = "",
        access: str = "",
        sections: Iterable[tuple[int, str, list[str], int, str, str, str, float]] = (),
        chunks: Iterable[tuple[str, int, int, str]] = (),
    ) -> list[str]:
        """Replace one issue's rows inside transaction ``db``; returns the chunk ids it no longer uses."""
        self._bump(db)
        old = [r[0] for r in db.execute("SELECT id FROM chunks WHERE source = ? AND path = ?", (source, path))]
        db.execute("DELETE FROM sections WHERE source = ? AND path = ?", (source, path))
        db.execute("DELETE FROM chunks WHERE source = ? AND path = ?", (source, path))
        db.execute(
            "INSERT OR REPLACE INTO issues (source, path, hash, status, reason, publish_at, title, url, date,"
            " description, access, indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (source, path, hash, status, reason, publish_at, title, url, date, description, access, utc_now_iso()),
        )
        db.executemany(
            "INSERT INTO sections (source, path, position, heading, heading_path, level, anchor, markdown, text,"
            " link_share) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((source, path, pos, h, json.dumps(hp, ensure_ascii=False), lvl, a, md, t, ls)
             for pos, h, hp, lvl, a, md, t, ls in sections),
        )
        new_ids: set[str] = set()
        rows = []
        for cid, pos, win, text in chunks:
            new_ids.add(cid)
            rows.append((cid, source, path, pos, win, text))
        db.executemany(
            "INSERT INTO chunks (id, source, path, position, window, text) VALUES (?, ?, ?, ?, ?, ?)", rows
        )
        stale = [i for i in old if i not in new_ids]
        db.executemany("INSERT OR IGNORE INTO pending (id) VALUES (?)", ((i,) for i in stale))
        return stale

    def forget_issue(self, db: sqlite3.Connection, source: str, path: str) -> list[str]:
        """Remove an issue inside transaction ``db``; returns its chunk ids (now pending deletion)."""
        self._bump(db)
        old = [r[0] for r in db.execute("SELECT id FROM chunks WHERE source = ? AND path = ?", (source, path))]
        db.execute("DELETE FROM chunks WHERE source = ? AND path = ?", (source, path))
        db.execute("DELETE FROM sections WHERE source = ? AND path = ?", (source, path))
        db.execute("DELETE FROM issues WHERE source = ? AND path = ?", (source, path))
        db.executemany("INSERT OR IGNORE INTO pending (id) VALUES (?)", ((i,) for i in old))
        return old

    def wipe(self) -> None:
        with self.transaction() as db:
            for table in ("issues", "sections", "chunks", "pending", "unpushed"):
                db.execute(f"DELETE FROM {table}")
            db.execute("DELETE FROM meta WHERE key != 'generation'")
            self._bump(db)

    def record_run(self, source: str, summary: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO runs (source, finished, summary) VALUES (?, ?, ?)",
                (source, utc_now_iso(), json.dumps(summary)),
            )

    # reading
    def last_run(self, source: str) -> str | None:
        """When a reindex that read ``source`` last completed; None if none ever did."""
        row = self._db.execute("SELECT MAX(finished) FROM runs WHERE source = ?", (source,)).fetchone()
        return row[0] if row else None

    def stats(self) -> list[SourceStats]:
        out = []
        names = {r[0] for r in self._db.execute("SELECT source FROM issues UNION SELECT source FROM runs")}
        for name in sorted(names):
            issues = self._db.execute(
                "SELECT COUNT(*) FROM issues WHERE source = ? AND status = 'indexed'", (name,)
            ).fetchone()[0]
            held = self._db.execute(
                "SELECT COUNT(*) FROM issues WHERE source = ? AND status = 'held'", (name,)
            ).fetchone()[0]
            sections = self._db.execute("SELECT COUNT(*) FROM sections WHERE source = ?", (name,)).fetchone()[0]
            last = self._db.execute("SELECT MAX(finished) FROM runs WHERE source = ?", (name,)).fetchone()[0]
            out.append(SourceStats(name, issues, sections, held, last))
        return out

    def issue_titles(self, limit: int = 2000) -> list[tuple[str, str, str, str | None]]:
        """(source, path, title, date) of indexed issues, newest first."""
        return [tuple(r) for r in self._db.execute(  # type: ignore[misc]
            "SELECT source, path, title, date FROM issues WHERE status = 'indexed'"
            " ORDER BY date IS NULL, date DESC, title LIMIT ?", (limit,))]

    def served_sections(self, *, with_text: bool = False) -> list[ServedSection]:
        """Every section the index serves (of indexed issues), ordered by source, path and position; one query."""
        rows = self._db.execute(
            "SELECT s.source, s.path, s.position, i.title, i.date, i.url, s.heading, s.heading_path, s.anchor,"
            f" s.markdown, s.link_share, {'s.text' if with_text else 'NULL'}, i.access"
            " FROM sections s JOIN issues i ON i.source = s.source AND i.path = s.path"
            " WHERE i.status = 'indexed' ORDER BY s.source, s.path, s.position")
        return [ServedSection(source, path, position, title or "", date, url or "", heading,
                              tuple(json.loads(heading_path)), anchor, markdown, link_share or 0.0, text, access or "")
                for source, path, position, title, date, url, heading, heading_path, anchor, markdown, link_share, text,
                access in rows]

    def issue_text(self, source: str, path: str) -> list[str]:
        """The plain text of each section of one issue (its heading first), in order: what the issue's page shows."""
        return [r[0] or "" for r in self._db.execute(
            "SELECT text FROM sections WHERE source = ? AND path = ? ORDER BY position", (source, path))]

    def chunk_refs(self) -> list[tuple[str, str, str, int]]:
        """(chunk id, source, path, section position) of every recorded chunk."""
        return [tuple(r) for r in self._db.execute("SELECT id, source, path, position FROM chunks")]  # type: ignore[misc]

    def issues(self, source: str, *, status: str | None = None) -> list[IssueListing]:
        """The issues of ``source`` (only those in ``status`` if given), oldest first."""
        sql = ("SELECT source, path, hash, status, reason, publish_at, title, date FROM issues WHERE source = ?"
               + (" AND status = ?" if status is not None else "") + " ORDER BY date, path")
        params = (source, status) if status is not None else (source,)
        return [IssueListing(*r) for r in self._db.execute(sql, params)]

    def count(self, table: str) -> int:
        if table not in ("issues", "sections", "chunks", "pending"):
            raise ValueError(table)
        return int(self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        """Raw SQL, for tests and benchmarks that inspect the file; the application uses the methods above."""
        return self._db.execute(sql, params)
