"""Build the index services from the settings, once, at the application's edge.

Here, and only here, the two ways of keeping the index's state are chosen: embedded (everything in
the data folder, one writer holding its lock) or in a Chroma server (``settings.chroma.url``: the
record replicated from the server, a lease for the writer, the announce ledger beside the index).
"""

from __future__ import annotations

import functools
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.feedback.record import FILE_NAME, QuestionRecord
from bot.feedback.server_copy import FILE_NAME as COPY_NAME
from index.embedding.model import Embedder
from index.store.server.records import ServerRecords
from index.store.vectors import VectorStore

# Imported where used: `bot gaps` and `bot status` come here only to open the question record, and the
# index's services (the search: bm25s and scipy; the indexer: the feed readers) would cost them 0.3-0.6 s.
if TYPE_CHECKING:
    import numpy as np

    from bot.announce.ledger import AnnounceLedger
    from bot.feedback.ledger import QuestionLedger
    from bot.settings import Settings
    from index.indexing.indexer import Indexer
    from index.search.retriever import Retriever
    from index.store.catalog import Catalog
    from index.store.locks import DataDirLock
    from index.store.record import WriterLock
    from index.store.server.leases import Leases


@dataclass
class Services:
    settings: Settings
    catalog: Catalog  # the index's record: the data folder's own, or the local copy of the server's
    embedder: Embedder
    indexer: Indexer
    store: Callable[[], VectorStore]  # opens the store on first call
    open_catalog: Callable[[], Catalog]  # another connection to the record, usable from any thread (readers)
    lock: DataDirLock | None = None
    records: Callable[[], ServerRecords] | None = None  # server mode: records beside the index in the server

    def retriever(self, catalog: Catalog | None = None, *, retriever_class: type[Retriever] | None = None,
                  loaded: Callable[[], None] | None = None) -> Retriever:
        from index.search.retriever import Retriever

        retriever_class = retriever_class or Retriever
        return retriever_class(catalog or self.catalog, self.store, self.embedder,
                               self.settings.data_dir / "keyword-index", loaded=loaded,
                               text_fragments=self.settings.answers.text_fragments)

    def leases(self) -> Leases | None:
        """Server mode: leases in the server, so that one of several processes does a job (announcing)."""
        return _leases(self.records) if self.records is not None else None

    def announce_ledger(self) -> AnnounceLedger:
        """Where announcements are recorded: beside the index in the Chroma server, else in data_dir."""
        from bot.announce.server_state import ServerAnnounceState
        from bot.announce.state import AnnounceState

        if self.records is not None:
            return ServerAnnounceState(self.records())
        return AnnounceState(self.settings.announce_state_path)

    def question_record(self, retriever: Retriever | None = None) -> QuestionLedger | None:
        """The record of readers' questions (one for the whole bot, every way of asking writes to it): in the
        data folder, or with a Chroma server in it, shared by every host; None when ``[feedback] enabled =
        false``: then nothing is made. With the ``retriever`` that answers them, each question keeps the vector
        its search made (``bot gaps`` groups by it)."""
        s = self.settings
        if not s.feedback.enabled:
            return None
        vector_of = retriever.vector_of if retriever is not None else None
        model = retriever.embedder.identity if retriever is not None else ""
        if self.records is not None:
            from bot.feedback.server_record import ServerQuestionRecord

            encode = None
            if retriever is not None:
                def encode(texts: list[str]) -> np.ndarray:  # a question its search did not encode
                    with retriever.exclusive():
                        return retriever.embedder.encode(texts)
            return ServerQuestionRecord(self.store().client, self.records(), keep_days=s.feedback.keep_days,
                                        vector_of=vector_of, model=model, encode=encode,
                                        copy=s.data_dir / COPY_NAME, host=_host(s))
        return QuestionRecord(s.data_dir, keep_days=s.feedback.keep_days, vector_of=vector_of, model=model)

    def close(self) -> None:
        self.catalog.close()
        if self.lock is not None:
            self.lock.release()


@functools.cache
def _leases(records: Callable[[], ServerRecords]) -> Leases:
    from index.store.server.leases import Leases

    return Leases(records())


def _host(settings: Settings) -> str:
    """What a process declares its ``[feedback] keep_days`` under in the shared store: its machine and data folder
    (the processes of one data folder share its settings)."""
    return f"{socket.gethostname()}:{settings.data_dir.resolve()}"


def _token(settings: Settings) -> str | None:
    return settings.chroma.token.get_secret_value() if settings.chroma.token else None


def open_announce_state(settings: Settings, services: Services | None = None) -> AnnounceLedger:
    """The announce ledger, also without the index's services (`bot announce` on the host)."""
    from bot.announce.server_state import ServerAnnounceState
    from bot.announce.state import AnnounceState

    if services is not None:
        return services.announce_ledger()
    if settings.chroma.url:
        return ServerAnnounceState(ServerRecords(VectorStore(url=settings.chroma.url, token=_token(settings)).client))
    return AnnounceState(settings.announce_state_path)


def open_question_record(settings: Settings) -> QuestionLedger | None:
    """The question record as it is, also without the index's services (`bot gaps`, `bot status` on any host):
    None when no question was recorded yet (nothing is made to find that out)."""
    if settings.chroma.url:
        from bot.feedback.server_record import ServerQuestionRecord, exists
        from index.store.server.rest import RestClient

        # over the server's HTTP API itself: importing chromadb would cost such a command 1.5-3.5 s
        client: Any = RestClient(settings.chroma.url, token=_token(settings))
        if not exists(client):
            return None
        try:
            records = ServerRecords(client)
        except LookupError:  # no records collection yet (never made without one, but): chromadb makes it
            client = VectorStore(url=settings.chroma.url, token=_token(settings)).client
            records = ServerRecords(client)
        return ServerQuestionRecord(client, records, keep_days=settings.feedback.keep_days,
                                    copy=settings.data_dir / COPY_NAME, host=_host(settings))
    if not (settings.data_dir / FILE_NAME).exists():
        return None
    return QuestionRecord(settings.data_dir, keep_days=settings.feedback.keep_days)


def embedder_for(settings: Settings, *, worker_nice: int = 0) -> Embedder:
    """The configured embedding model (loaded on first use): the index's, and anything that compares with it.
    ``worker_nice``: the niceness of the model's worker threads (the bot's, which index in the background)."""
    return Embedder(settings.embedding.model, batch_size=settings.embedding.batch_size,
                    threads=settings.embedding.threads or None, backend=settings.embedding.backend,
                    export_dir=settings.export_dir, worker_nice=worker_nice)


def build_services(settings: Settings, *, purpose: str, lock_wait: float = 0.0, threaded: bool = False,
                   embedder: Embedder | None = None, reader: bool = False) -> Services:
    """Take the data folder (embedded store: one writer, or readers side by side) and wire the services.

    ``threaded``: the catalog connection may be used from other threads (the bot's reindex thread).
    ``reader``: only searches (``bot ask``); open the store under ``index.store.locks.OpenLock``.
    ``lock_wait``: seconds to wait for the data folder, or for the server's writer lease.
    """
    from index.indexing.indexer import Indexer
    from index.store.catalog import Catalog
    from index.store.locks import DataDirLock, FolderWriter
    from index.store.server.leases import LeaseWriter
    from index.store.server.replica import ReplicatedCatalog

    url = settings.chroma.url
    embedder = embedder or embedder_for(settings)

    opened: list[VectorStore] = []
    opening = threading.Lock()

    def open_store() -> VectorStore:
        """The one store of these services, opened on first use: the reindex thread and the first question may
        both ask at once, and two Chroma clients of one folder in one process must never be made."""
        with opening:
            if not opened:
                opened.append(VectorStore(path=None if url else settings.chroma_path, url=url, token=_token(settings)))
            return opened[0]

    lock = None
    records: Callable[[], ServerRecords] | None = None
    writer: WriterLock
    if url:
        records = functools.cache(lambda: ServerRecords(open_store().client))
        writer = LeaseWriter(functools.partial(_leases, records), wait=lock_wait)

        def open_catalog(threaded: bool = True) -> Catalog:
            return ReplicatedCatalog(settings.catalog_path, open_store, records, threaded=threaded)
    else:
        lock = DataDirLock(settings.data_dir, purpose, shared=reader)
        lock.acquire(wait=lock_wait)
        writer = FolderWriter(lock)

        def open_catalog(threaded: bool = True) -> Catalog:
            return Catalog(settings.catalog_path, threaded=threaded)

    catalog = open_catalog(threaded)
    indexer = Indexer(catalog, open_store, embedder, chunk_overlap=settings.index.chunk_overlap, writer=writer)
    return Services(settings, catalog, embedder, indexer, open_store, open_catalog, lock, records)
