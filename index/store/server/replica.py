"""The catalog in server mode: a local copy of the record kept in the Chroma server.

Each committed change to an issue is pushed to the server right after its transaction, with a new
server generation; a process whose copy is behind (the server's generation moved) pulls the whole
record again. Issues committed here but not yet pushed (a run killed in between) are kept in the
``unpushed`` table and pushed by the next writer's ``catch_up``.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from index.store.catalog import Catalog
from index.store.server.records import NO_VECTOR, SLICE, ServerRecords, clean
from index.store.vectors import VectorStore

log = logging.getLogger(__name__)

ISSUES = "backissue-issues"
_ISSUE_COLUMNS = ("source", "path", "hash", "status", "reason", "publish_at", "title", "url", "date", "description",
                  "access", "indexed_at")


def _id(source: str, path: str) -> str:
    return f"{source}\x1f{path}"


class ReplicatedCatalog(Catalog):
    """An ``index.store.record.IndexRecord`` whose state lives in the server; this SQLite file is the copy."""

    chunk_texts_in_store = True  # another host's copy takes the chunk texts from the server's vectors
    others_write = True

    def __init__(self, path: Path, open_store: Callable[[], VectorStore], records: Callable[[], ServerRecords], *,
                 threaded: bool = False, check_every: float = 5.0) -> None:
        """``open_store``, ``records``: the server's collections, reached on first use; ``check_every``: seconds
        between two looks at the server's generation when following it."""
        super().__init__(path, threaded=threaded)
        self._open_store = open_store
        self._records = records
        self._issues: Any = None
        self.check_every = check_every
        self._checked = 0.0
        self._changed: list[tuple[str, str]] = []  # issues changed in the open transaction

    def _issue_collection(self) -> Any:
        if self._issues is None:
            self._issues = self._open_store().client.get_or_create_collection(ISSUES, embedding_function=None)
        return self._issues

    # --- the server's generation and model ----------------------------------------------------
    def _server_value(self, key: str) -> str | None:
        got = self._records().get(key)
        return str(got["value"]) if got else None

    def server_generation(self) -> str:
        return self._server_value("generation") or "0"

    def _bump_server(self) -> str:
        """A new generation (only the writer's lease holder writes, so read-then-write is enough)."""
        value = int(self.server_generation()) + 1
        self._records().put_one("generation", {"value": value})
        return str(value)

    def stored_model(self) -> str | None:
        return self._server_value("model") or super().stored_model()

    def set_model(self, model: str) -> None:
        super().set_model(model)
        self._records().put_one("model", {"value": model})

    # --- writing: every commit is pushed ---------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self._changed = []
        with super().transaction() as db:
            yield db
        changed, self._changed = self._changed, []
        self._push(changed)

    def record_issue(self, db: sqlite3.Connection, *, source: str, path: str, **fields: Any) -> list[str]:
        stale = super().record_issue(db, source=source, path=path, **fields)
        self._mark(db, source, path)
        return stale

    def forget_issue(self, db: sqlite3.Connection, source: str, path: str) -> list[str]:
        old = super().forget_issue(db, source, path)
        self._mark(db, source, path)
        return old

    def _mark(self, db: sqlite3.Connection, source: str, path: str) -> None:
        db.execute("INSERT OR IGNORE INTO unpushed (source, path) VALUES (?, ?)", (source, path))
        self._changed.append((source, path))

    def unpushed(self) -> list[tuple[str, str]]:
        return [(r[0], r[1]) for r in self._db.execute("SELECT source, path FROM unpushed")]

    def _push(self, keys: list[tuple[str, str]]) -> None:
        if not keys:
            return
        records, gone = [], []
        for source, path in dict.fromkeys(keys):
            record = self._issue_record(source, path)
            if record is None:
                gone.append(_id(source, path))
            else:
                records.append(record)
        if records:
            docs = [json.dumps({"sections": r.pop("sections"), "chunks": r.pop("chunks")}) for r in records]
            self._issue_collection().upsert(ids=[_id(r["source"], r["path"]) for r in records],
                                            embeddings=[NO_VECTOR] * len(records),
                                            metadatas=[clean(r) for r in records], documents=docs)
        if gone:
            self._issue_collection().delete(ids=gone)
        self.set_meta("server_generation", self._bump_server())
        with super().transaction() as db:
            db.executemany("DELETE FROM unpushed WHERE source = ? AND path = ?", keys)

    def _issue_record(self, source: str, path: str) -> dict[str, Any] | None:
        """One issue with its sections and chunk references, as the server keeps it."""
        row = self._db.execute(f"SELECT {', '.join(_ISSUE_COLUMNS)} FROM issues WHERE source = ? AND path = ?",
                               (source, path)).fetchone()
        if row is None:
            return None
        record: dict[str, Any] = dict(zip(_ISSUE_COLUMNS, row, strict=True))
        record["sections"] = [
            [pos, h, json.loads(hp), lvl, a, md, t, ls] for pos, h, hp, lvl, a, md, t, ls in self._db.execute(
                "SELECT position, heading, heading_path, level, anchor, markdown, text, link_share FROM sections"
                " WHERE source = ? AND path = ? ORDER BY position", (source, path))]
        record["chunks"] = [list(r) for r in self._db.execute(
            "SELECT id, position, window FROM chunks WHERE source = ? AND path = ?", (source, path))]
        return record

    def wipe(self) -> None:
        super().wipe()
        issues = self._issue_collection()
        ids = issues.get(include=[])["ids"]
        for start in range(0, len(ids), SLICE):
            issues.delete(ids=ids[start : start + SLICE])

    # --- following the server -----------------------------------------------------------------------
    def catch_up(self) -> None:
        """The writer, under its lease: push what an interrupted run left unpushed, then take the server's
        state if it moved on."""
        self._push(self.unpushed())
        if self.server_generation() != (self.get_meta("server_generation") or "0"):
            self._pull()

    def follow(self) -> None:
        """A reader: take the server's state when its generation moved (looked at every ``check_every`` s)."""
        if time.monotonic() - self._checked < self.check_every:
            return
        self._checked = time.monotonic()
        if self.unpushed():
            return  # this process is writing: its catalog is ahead, not behind
        if self.server_generation() != (self.get_meta("server_generation") or "0"):
            self._pull()

    def _pull(self) -> None:
        """Make this copy what the server says is indexed."""
        got = self._issue_collection().get(include=["metadatas", "documents"])
        issues, sections, chunk_refs = [], [], []
        for meta, doc in zip(got["metadatas"], got["documents"], strict=True):
            body = json.loads(doc or "{}")
            issues.append(dict(meta))
            for s in body.get("sections", []):
                sections.append((meta["source"], meta["path"], *s))
            for cid, position, window in body.get("chunks", []):
                chunk_refs.append((cid, meta["source"], meta["path"], position, window))
        texts: dict[str, str] = {}
        ids = [c[0] for c in chunk_refs]
        chunks_collection = self._open_store().collection
        for start in range(0, len(ids), SLICE):
            part = chunks_collection.get(ids=ids[start : start + SLICE], include=["documents"])
            texts.update(zip(part["ids"], part["documents"], strict=True))
        chunks = [(cid, s, p, pos, win, texts.get(cid) or "") for cid, s, p, pos, win in chunk_refs]
        self._replace_all(issues, sections, chunks, server_generation=self.server_generation(),
                          model=self._server_value("model"))
        log.info("local catalog refreshed from the server: %d issues, %d chunks", len(issues), len(chunks))

    def _replace_all(self, issues: list[dict[str, Any]], sections: Iterable[tuple[Any, ...]],
                     chunks: list[tuple[Any, ...]], *, server_generation: str, model: str | None) -> None:
        with super().transaction() as db:
            for table in ("issues", "sections", "chunks", "pending"):
                db.execute(f"DELETE FROM {table}")
            db.executemany(
                f"INSERT INTO issues ({', '.join(_ISSUE_COLUMNS)}) VALUES ({', '.join(':' + c for c in _ISSUE_COLUMNS)})",
                [{**i, "publish_at": i.get("publish_at") or None, "date": i.get("date") or None, "access": i.get("access") or ""}
                 for i in issues])
            db.executemany(
                "INSERT INTO sections (source, path, position, heading, heading_path, level, anchor, markdown, text,"
                " link_share) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(s, p, pos, h, json.dumps(hp, ensure_ascii=False), lvl, a, md, t, ls)
                 for s, p, pos, h, hp, lvl, a, md, t, ls in sections])
            db.executemany("INSERT INTO chunks (id, source, path, position, window, text) VALUES (?, ?, ?, ?, ?, ?)",
                           chunks)
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('server_generation', ?)", (server_generation,))
            if model:
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('model', ?)", (model,))
            self._bump(db)
