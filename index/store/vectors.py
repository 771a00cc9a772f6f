"""The Chroma collection that holds the chunk embeddings.

Embedded (a folder) by default, or a Chroma server when a URL is given. We always pass
our own embeddings, never Chroma's default embedding function (it would download a
model), and telemetry is off.
"""

from __future__ import annotations

import logging
import sqlite3
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import Unavailable

log = logging.getLogger(__name__)
# Chroma's Rust bindings hold the GIL for a whole write, so the bot's event loop waits meanwhile
# (benchmarks/bench_stall.py). In embedded mode every write also re-reads, from Chroma's own log, every
# record written since its HNSW index was last saved, and saves that index every `sync_threshold` records
# (default 1000): so a write's cost grew with the records since the last save, and every 1000th write
# saved about 1000 records' worth of index. Small writes and a small threshold keep each hold short
# (measured with benchmarks/bench_stall.py; the figures are in README, "Limits of one process").
# Measured on 2 busy cores, 64 writes into a store of 4,000 vectors: 16 vectors a write cost 30 ms of CPU at
# the median and 50 ms at most, all of it with the interpreter lock held; 8 a write 15 and 28 ms, for 8 % more
# CPU per vector (about 0.15 ms a chunk, against some 30 ms to embed it). Below 8 a write's fixed cost (about
# 13 ms) dominates: 4 a write still took 15 ms.
WRITE_SLICE = 8
SYNC_THRESHOLD = 32
# Reads hold the lock too: 1,000 vectors a read took 43 ms of CPU (the bot reloads every vector after each
# commit of a first index, on a search thread), 250 took 9 ms, the same in all.
READ_SLICE = 250

COLLECTION = "backissue-chunks"
# Embedded Chroma keeps its records in this SQLite file (its Rust side opens it with SQLite's defaults: a
# rollback journal, synchronous=FULL). See _use_wal.
SQLITE_FILE = "chroma.sqlite3"
# Chroma's own index settings. Retrieval does not rely on them: measured on the shared archives
# (benchmarks/bench_hnsw.py), HNSW missed true nearest chunks whatever ef_search, so index/search/retriever.py
# searches exactly over the vectors it reads from here.
HNSW = {"space": "cosine", "ef_construction": 200, "ef_search": 200, "max_neighbors": 32,
        "sync_threshold": SYNC_THRESHOLD}


class StoreError(Unavailable):
    """The vector store cannot be opened or used; the message says why."""


@dataclass(frozen=True)
class Hit:
    id: str
    distance: float
    metadata: dict[str, Any]


def _client(path: Path | None, url: str, token: str | None) -> Any:
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if url:
        parsed = urllib.parse.urlparse(url)
        headers = {"Authorization": f"Bearer {token}"} if token else None
        return chromadb.HttpClient(
            host=parsed.hostname or "localhost",
            port=parsed.port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https",
            headers=headers,
            settings=settings,
        )
    if path is None:
        raise StoreError("an embedded store needs a folder")
    path.mkdir(parents=True, exist_ok=True)
    _use_wal(path / SQLITE_FILE)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def _use_wal(file: Path) -> None:
    """Put embedded Chroma's SQLite file in write-ahead-log mode, before Chroma opens it.

    Chroma sets no journal mode, so its file kept SQLite's rollback journal: several fsyncs per commit,
    each while its Rust bindings hold the interpreter lock (the bot's event loop waits meanwhile), and a
    reader in another process (``bot ask`` beside a running reindex) locked out while a write commits.
    WAL is a property of the file, so it holds for Chroma's own connections too, and stays. Chroma's
    connections keep synchronous=FULL (a per-connection setting it does not let us change): in WAL that
    is one fsync of the log per commit and one per checkpoint. A new folder's file is made here, empty,
    and Chroma creates its tables in it.
    """
    if _is_wal(file):
        return  # never open it beside Chroma's own SQLite (see _is_wal)
    try:
        db = sqlite3.connect(file, timeout=5)
        try:
            mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error as exc:  # only how long writes take and whether readers wait: the store works without it
        log.warning("cannot put %s in WAL mode (%s); its writes may stall the bot longer", file, exc)
        return
    if str(mode).lower() != "wal":
        log.warning("%s stays in journal mode %s, not WAL; its writes may stall the bot longer", file, mode)


def _is_wal(file: Path) -> bool:
    """Whether the file is already in WAL mode, read from its header (bytes 18 and 19 are 2), not through SQLite.

    Chroma's Rust bindings carry their own copy of SQLite. A second copy (Python's) opening and closing the same
    file in the same process releases the process's POSIX locks on it and, seeing no other connection of its own,
    checkpoints and deletes the write-ahead log under Chroma: the next Chroma call failed with "disk I/O error"
    (code 522, a short read) when a process opened the store a second time (a bot restarted in-process). So the
    file is opened here only while it is not in WAL mode yet: when it is new, or made by an older version.
    """
    try:
        with file.open("rb") as f:
            head = f.read(20)
    except OSError:
        return False
    return len(head) == 20 and head.startswith(b"SQLite format 3\x00") and head[18] == 2 and head[19] == 2


class VectorStore:
    """One Chroma collection in cosine space."""

    def __init__(self, *, path: Path | None = None, url: str = "", token: str | None = None) -> None:
        self.location = url or str(path)
        try:
            self._client = _client(path, url, token)
            self._collection = self._open()
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"cannot open the Chroma store at {self.location}: {exc}") from exc

    def _open(self) -> Any:
        collection = self._client.get_or_create_collection(
            COLLECTION, configuration={"hnsw": dict(HNSW)}, embedding_function=None
        )
        # A collection made before SYNC_THRESHOLD existed keeps Chroma's default (1000) until told:
        # get_or_create ignores the configuration of a collection that exists, modify changes it in place.
        hnsw = (collection.configuration or {}).get("hnsw") or {}
        if hnsw.get("sync_threshold", SYNC_THRESHOLD) != SYNC_THRESHOLD:
            try:
                collection.modify(configuration={"hnsw": {"sync_threshold": SYNC_THRESHOLD}})
            except Exception as exc:  # only how long writes hold the interpreter: the store works without it
                log.warning("cannot make Chroma save its index every %d records (%s); long writes may stall the bot",
                            SYNC_THRESHOLD, exc)
            else:
                log.info("Chroma now saves its index every %d records (was %s)", SYNC_THRESHOLD, hnsw["sync_threshold"])
        return collection

    def reset(self) -> None:
        """Drop every vector (a new model, or a full rebuild)."""
        try:
            self._client.delete_collection(COLLECTION)
        except Exception:
            log.debug("no collection to delete")
        self._collection = self._open()

    @property
    def client(self) -> Any:
        return self._client

    @property
    def collection(self) -> Any:
        return self._collection

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict[str, Any]],
               documents: Sequence[str] | None = None) -> None:
        for start in range(0, len(ids), WRITE_SLICE):
            end = start + WRITE_SLICE
            self._collection.upsert(
                ids=list(ids[start:end]), embeddings=vectors[start:end], metadatas=list(metadatas[start:end]),
                documents=list(documents[start:end]) if documents is not None else None,
            )

    def delete(self, ids: Sequence[str]) -> None:
        for start in range(0, len(ids), WRITE_SLICE):
            self._collection.delete(ids=list(ids[start : start + WRITE_SLICE]))

    def all_ids(self) -> set[str]:
        out: set[str] = set()
        offset = 0
        while True:
            batch = self._collection.get(include=[], limit=5000, offset=offset)["ids"]
            out.update(batch)
            if len(batch) < 5000:
                return out
            offset += len(batch)

    def count(self) -> int:
        return int(self._collection.count())

    def query(self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None) -> list[Hit]:
        res = self._collection.query(
            query_embeddings=[vector], n_results=k, where=where, include=["distances", "metadatas"]
        )
        ids = res["ids"][0]
        dists = res["distances"][0] if res.get("distances") else [0.0] * len(ids)
        metas = res["metadatas"][0] if res.get("metadatas") else [{}] * len(ids)
        return [Hit(i, float(d), dict(m or {})) for i, d, m in zip(ids, dists, metas, strict=True)]

    def get_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for start in range(0, len(ids), READ_SLICE):
            res = self._collection.get(ids=list(ids[start : start + READ_SLICE]), include=["embeddings"])
            for i, e in zip(res["ids"], res["embeddings"], strict=True):
                out[i] = np.asarray(e, dtype=np.float32)
        return out
