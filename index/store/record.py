"""Where the index's state lives, as the indexer and the retriever see it: small protocols, two implementations.

Embedded, the data folder holds everything: ``index.store.catalog.Catalog`` is the record and
``index.store.locks.FolderWriter`` (the data-folder lock) the writer's right. With a Chroma server,
``index.store.server.replica.ReplicatedCatalog`` keeps the record in the server with a local copy,
and ``index.store.server.leases.LeaseWriter`` is a lease in the server. The application chooses
once (``bot.services.build_services``); the indexer and the retriever never ask which it is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from index.store.catalog import IssueRow, ServedSection, SourceStats


class ServedRecord(Protocol):
    """What the retriever reads: the sections served now, and a generation that moves when they change."""

    def follow(self) -> None:
        """Take in what writers elsewhere wrote (cheap when nothing moved)."""

    def generation(self) -> str: ...

    def served_sections(self, *, with_text: bool = False) -> list[ServedSection]: ...

    def issue_text(self, source: str, path: str) -> list[str]: ...

    def chunk_refs(self) -> list[tuple[str, str, str, int]]: ...


class IndexRecord(ServedRecord, Protocol):
    """What the indexer writes: issue rows switched in transactions, pending chunk ids, the model, runs."""

    chunk_texts_in_store: bool  # the vector store must keep the chunk texts too
    others_write: bool  # other processes write this index: their interrupted runs may leave vectors

    def catch_up(self) -> None:
        """Before writing, under the writer's lock: take in what other writers wrote."""

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]: ...

    def record_issue(self, db: sqlite3.Connection, *, source: str, path: str, hash: str, status: str,
                     **fields: Any) -> list[str]: ...

    def forget_issue(self, db: sqlite3.Connection, source: str, path: str) -> list[str]: ...

    def settle_pending(self, db: sqlite3.Connection, ids: Iterable[str]) -> None: ...

    def issue_rows(self, source: str) -> dict[str, IssueRow]: ...

    def sources(self) -> list[str]: ...

    def add_pending(self, ids: Iterable[str]) -> None: ...

    def orphans(self) -> list[str]: ...

    def clear_pending(self, ids: Iterable[str] | None = None) -> None: ...

    def all_chunk_ids(self) -> set[str]: ...

    def count(self, table: str) -> int: ...

    def stats(self) -> list[SourceStats]: ...

    def record_run(self, source: str, summary: dict[str, Any]) -> None: ...

    def stored_model(self) -> str | None: ...

    def set_model(self, model: str) -> None: ...

    def wipe(self) -> None: ...


class WriterLock(Protocol):
    """The right to write the index: one writer at a time, across processes (and hosts, with a server)."""

    def take(self) -> None:
        """Raises ``index.store.locks.StoreBusy`` naming the holder when another writer has it."""

    def renew(self) -> None:
        """A long run keeps it (a lease would run out)."""

    def release(self) -> None: ...
