"""Build the index services from the settings, once, at the application's edge."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from bot.announce.shared_state import SharedAnnounceState
from bot.announce.state import AnnounceState
from bot.settings import Settings
from index.embedding.model import Embedder
from index.indexing.indexer import Indexer
from index.search.retriever import Retriever
from index.store.catalog import Catalog
from index.store.locks import DataDirLock
from index.store.remote import SharedState
from index.store.vectors import VectorStore


@dataclass
class Services:
    settings: Settings
    catalog: Catalog
    embedder: Embedder
    indexer: Indexer
    store: Callable[[], VectorStore]  # opens the store on first call
    lock: DataDirLock | None = None
    shared: Callable[[], SharedState] | None = None  # server mode: the index's state in the server

    def retriever(self, catalog: Catalog | None = None, *, retriever_class: type[Retriever] = Retriever) -> Retriever:
        return retriever_class(catalog or self.catalog, self.store(), self.embedder,
                               self.settings.data_dir / "keyword-index",
                               shared=self.shared() if self.shared is not None else None)

    def close(self) -> None:
        self.catalog.close()
        if self.lock is not None:
            self.lock.release()


def open_announce_state(settings: Settings, services: Services | None = None) -> AnnounceState | SharedAnnounceState:
    """Where announcements are recorded: beside the index in the Chroma server, else in data_dir."""
    if settings.chroma.url:
        if services is not None and services.shared is not None:
            return SharedAnnounceState(services.shared())
        token = settings.chroma.token.get_secret_value() if settings.chroma.token else None
        store = VectorStore(url=settings.chroma.url, token=token)
        return SharedAnnounceState(SharedState(store.client, store.collection))
    return AnnounceState(settings.announce_state_path)


def build_services(settings: Settings, *, purpose: str, lock_wait: float = 0.0, shared: bool = False,
                   embedder: Embedder | None = None, reader: bool = False) -> Services:
    """Take the data folder (embedded store: one writer, or readers side by side) and wire the services.

    ``shared``: the catalog connection may be used from other threads (the bot's reindex thread).
    ``reader``: only searches (``bot ask``); open the store under ``index.store.locks.OpenLock``.
    """
    lock = None
    if not settings.chroma.url:
        lock = DataDirLock(settings.data_dir, purpose, shared=reader)
        lock.acquire(wait=lock_wait)
    catalog = Catalog(settings.catalog_path, shared=shared)
    embedder = embedder or Embedder(
        settings.embedding.model, batch_size=settings.embedding.batch_size,
        threads=settings.embedding.threads or None, backend=settings.embedding.backend,
        export_dir=settings.export_dir,
    )

    @functools.cache
    def open_store() -> VectorStore:
        url = settings.chroma.url
        token = settings.chroma.token.get_secret_value() if settings.chroma.token else None
        return VectorStore(path=None if url else settings.chroma_path, url=url, token=token)

    shared = None
    if settings.chroma.url:
        @functools.cache
        def shared() -> SharedState:
            store = open_store()
            return SharedState(store.client, store.collection)

    indexer = Indexer(catalog, open_store, embedder, chunk_overlap=settings.index.chunk_overlap, shared=shared,
                      lease_wait=lock_wait)
    return Services(settings, catalog, embedder, indexer, open_store, lock, shared)
