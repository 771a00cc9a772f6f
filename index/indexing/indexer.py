"""Incremental, crash-safe indexing of newsletter issues.

A full run re-reads and re-embeds every issue in place (chunk ids depend on content, so the
index keeps answering throughout) and then deletes any vector no section uses. Only a new
embedding model empties the index first.

For each changed issue: its new chunk ids are first recorded as pending, then embedded
and written to the vector store, then the catalog switches the issue to its new rows
in one transaction, and only then are the old vectors deleted. A run killed at any
point leaves every issue served in its old or new state; the next run deletes vectors
that no committed row uses and carries on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.chunking.chunks import Chunk, make_chunks
from index.embedding.model import Embedder, ModelLoadError
from index.errors import InvalidRequest, Stopped
from index.indexing.plan import Todo, plan_source
from index.indexing.progress import ProgressFn, Tracker
from index.indexing.summary import FileReport, ReindexSummary
from index.reading.issue import Issue, IssueReadError, SourceSpec, parse_issue
from index.store.locks import FolderWriter
from index.store.record import IndexRecord, WriterLock
from index.store.vectors import VectorStore

log = logging.getLogger(__name__)


class UnknownSource(InvalidRequest, ValueError):
    """A source name that no configured source has."""


class ReindexStopped(Stopped):
    """The process is shutting down: the run stopped between two steps; the next run finishes it."""


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def chunk_id(source: str, path: str, file_hash: str, n: int) -> str:
    digest = hashlib.sha1(f"{source}\0{path}\0{file_hash}".encode()).hexdigest()[:20]
    return f"{digest}-{n}"


def _date_str(value: dt.datetime | None) -> str | None:
    return value.date().isoformat() if value else None


@dataclass
class _Pending:
    spec: SourceSpec
    rel: str
    file_hash: str
    kind: str  # new | changed | reembedded (unchanged, re-read by a full run)
    issue: Issue
    chunks: list[Chunk]
    size: int  # bytes of the file: its share of the run's work


class Indexer:
    """Keeps a catalog and a vector store in step with the issue files of some sources."""

    def __init__(
        self,
        catalog: IndexRecord,
        open_store: Callable[[], VectorStore],
        embedder: Embedder,
        *,
        batch_chunks: int = 512,
        chunk_overlap: int = 48,
        clock: Callable[[], dt.datetime] = _utcnow,
        writer: WriterLock | None = None,
    ) -> None:
        """``catalog``: the index's record; ``writer``: taken for each run (by default the caller sees to it)."""
        self.writer = writer or FolderWriter()
        self.catalog = catalog
        self._open_store = open_store
        self._store: VectorStore | None = None
        self.embedder = embedder
        self.batch_chunks = batch_chunks
        self.chunk_overlap = chunk_overlap
        self.clock = clock
        self.stopping = threading.Event()  # set at shutdown: the run stops at its next step
        self._failed: dict[tuple[str, str], tuple[str, str]] = {}  # (source, path) -> (hash, reason) of failed files

    @property
    def store(self) -> VectorStore:
        if self._store is None:
            self._store = self._open_store()
        return self._store

    # --- recovery -----------------------------------------------------------------------
    def recover(self) -> int:
        """Delete vectors left by an interrupted run; returns how many."""
        orphans = self.catalog.orphans()
        if orphans:
            log.info("removing %d vectors left by an interrupted run", len(orphans))
            self.store.delete(orphans)
        if orphans or self.catalog.count("pending"):
            self.catalog.clear_pending()
        return len(orphans)

    # --- the run ------------------------------------------------------------------------
    def reindex(
        self,
        sources: Sequence[SourceSpec],
        *,
        full: bool = False,
        only: str | None = None,
        progress: ProgressFn | None = None,
    ) -> ReindexSummary:
        started = time.monotonic()
        now = self.clock()
        summary = ReindexSummary()
        selected = [s for s in sources if only is None or s.name == only]
        if only is not None and not selected:
            names = ", ".join(s.name for s in sources) or "none configured"
            raise UnknownSource(f"no source named {only!r} (sources: {names})")

        self.writer.take()
        try:
            return self._reindex(sources, selected, full, only, progress, started, now, summary)
        finally:
            self.writer.release()

    def _reindex(self, sources: Sequence[SourceSpec], selected: list[SourceSpec], full: bool, only: str | None,
                 progress: ProgressFn | None, started: float, now: dt.datetime,
                 summary: ReindexSummary) -> ReindexSummary:
        self.recover()
        self.catalog.catch_up()
        stored_model = self.catalog.stored_model()
        if stored_model is not None and stored_model != self.embedder.identity:
            # other vectors (maybe another dimension): start over; the index is empty until the run ends
            log.warning("embedding model changed (%s -> %s): rebuilding the whole index",
                        stored_model, self.embedder.identity)
            full, only, selected = True, None, list(sources)
            self.store.reset()
            self.catalog.wipe()
        self.catalog.set_model(self.embedder.identity)
        if self.catalog.others_write:
            self._sweep()  # vectors another process's interrupted run left behind

        todo: list[Todo] = []
        removals: list[tuple[str, str]] = []
        if only is None:
            configured = {s.name for s in sources}
            for name in self.catalog.sources():
                if name not in configured:
                    removals.extend((name, p) for p in self.catalog.issue_rows(name))
        for spec in selected:
            plan_source(spec, self.catalog.issue_rows(spec.name), now, full, summary, todo, removals, self._failed)

        self._remove(removals)
        summary.removed = len(removals)
        self._process(todo, now, summary, progress)
        if full and only is None:
            self._sweep()

        summary.sections = sum(s.sections for s in self.catalog.stats() if s.name in {x.name for x in selected})
        summary.model_loaded = self.embedder.loaded
        summary.seconds = round(time.monotonic() - started, 3)
        missing = {r.source for r in summary.missing}
        for spec in selected:
            if spec.name not in missing:  # its "last indexed" stays the last run that read it
                self.catalog.record_run(spec.name, summary.to_dict())
        return summary

    def _sweep(self) -> None:
        """Delete vectors that no catalog row uses (a full run's clean-up)."""
        stray = sorted(self.store.all_ids() - self.catalog.all_chunk_ids())
        if stray:
            log.info("deleting %d vectors that no indexed section uses", len(stray))
            self.store.delete(stray)

    def _remove(self, removals: list[tuple[str, str]]) -> None:
        if not removals:
            return
        stale: list[str] = []
        with self.catalog.transaction() as db:
            for source, path in removals:
                stale.extend(self.catalog.forget_issue(db, source, path))
        self._delete_vectors(stale)

    def _delete_vectors(self, ids: list[str]) -> None:
        if ids:
            self.store.delete(ids)
            self.catalog.clear_pending(ids)

    def _process(
        self,
        todo: list[Todo],
        now: dt.datetime,
        summary: ReindexSummary,
        progress: ProgressFn | None,
    ) -> None:
        batch: list[_Pending] = []
        track = Tracker(progress, len(todo), sum(len(t[2]) for t in todo))
        track.start()
        for spec, rel, raw, file_hash, kind in todo:
            if self.stopping.is_set():
                raise ReindexStopped("the reindex stopped: the process is shutting down")
            try:
                issue = parse_issue(raw, rel, spec, now)
            except IssueReadError as exc:
                summary.failed.append(FileReport(spec.name, rel, str(exc)))
                self._failed[(spec.name, rel)] = (file_hash, str(exc))  # not read again until it changes
                track.issue_done(rel, len(raw))
                continue
            self._failed.pop((spec.name, rel), None)
            summary.warnings.extend(FileReport(spec.name, rel, w) for w in issue.warnings)
            for w in issue.warnings:
                log.info("%s/%s: %s", spec.name, rel, w)
            if not issue.publication.published:
                summary.held_back.append(FileReport(spec.name, rel, issue.publication.reason))
                self._record_held(spec, rel, file_hash, issue)
                track.issue_done(rel, len(raw))
                continue
            try:
                chunks = make_chunks(
                    issue.title, issue.sections, self.embedder.tokenizer(), self.embedder.max_tokens,
                    overlap=self.chunk_overlap,
                )
            except ModelLoadError:  # the model (its tokenizer) is unusable: no file's fault, the run stops
                raise
            except Exception as exc:  # one file's text, not the run
                log.warning("%s/%s: cutting into chunks failed", spec.name, rel, exc_info=True)
                reason = f"could not be cut into chunks ({type(exc).__name__})"
                summary.failed.append(FileReport(spec.name, rel, reason))
                self._failed[(spec.name, rel)] = (file_hash, reason)
                track.issue_done(rel, len(raw))
                continue
            batch.append(_Pending(spec, rel, file_hash, kind, issue, chunks, len(raw)))
            if sum(len(p.chunks) for p in batch) >= self.batch_chunks:
                self._flush(batch, summary, track)
                batch = []
        if batch:
            self._flush(batch, summary, track)

    def _record_held(self, spec: SourceSpec, rel: str, file_hash: str, issue: Issue) -> None:
        pub = issue.publication
        with self.catalog.transaction() as db:
            stale = self.catalog.record_issue(
                db, source=spec.name, path=rel, hash=file_hash, status="held", reason=pub.reason,
                publish_at=pub.publish_at.isoformat() if pub.publish_at else None,
                title=issue.title, url=issue.url, date=_date_str(issue.date), description=issue.description,
                access=issue.access,
            )
        self._delete_vectors(stale)

    def _flush(self, batch: list[_Pending], summary: ReindexSummary, track: Tracker) -> None:
        ids: list[str] = []
        texts: list[str] = []
        metas: list[dict[str, Any]] = []
        for p in batch:
            by_pos = {s.position: s for s in p.issue.sections}
            for n, c in enumerate(p.chunks):
                s = by_pos[c.section]
                ids.append(chunk_id(p.spec.name, p.rel, p.file_hash, n))
                texts.append(c.text)
                date = p.issue.date
                metas.append({
                    "source": p.spec.name, "path": p.rel, "title": p.issue.title,
                    "date": _date_str(date) or "", "day": int(date.strftime("%Y%m%d")) if date else 0,
                    "heading": s.heading, "heading_path": " › ".join(s.path), "anchor": s.anchor,
                    "url": f"{p.issue.url}#{s.anchor}" if s.anchor else p.issue.url,
                    "position": s.position, "window": c.window,
                })
        self.catalog.add_pending(ids)
        if ids:
            vectors = self._encode(texts, sum(p.size for p in batch), track)
            self.store.upsert(ids, vectors, metas, documents=texts if self.catalog.chunk_texts_in_store else None)
        stale: list[str] = []
        pos = 0
        with self.catalog.transaction() as db:
            for p in batch:
                n = len(p.chunks)
                my_ids = ids[pos : pos + n]
                pos += n
                stale.extend(self.catalog.record_issue(
                    db, source=p.spec.name, path=p.rel, hash=p.file_hash, status="indexed",
                    title=p.issue.title, url=p.issue.url, date=_date_str(p.issue.date),
                    description=p.issue.description, access=p.issue.access,
                    sections=[(s.position, s.heading, list(s.path), s.level, s.anchor, s.markdown, s.text, s.link_share)
                              for s in p.issue.sections],
                    chunks=[(cid, c.section, c.window, c.text) for cid, c in zip(my_ids, p.chunks, strict=True)],
                ))
            self.catalog.settle_pending(db, ids)
        self.writer.renew()
        self._delete_vectors(stale)
        for p in batch:
            setattr(summary, p.kind, getattr(summary, p.kind) + 1)
        summary.chunks_embedded += len(ids)
        track.batch_done(len(batch), batch[-1].rel)

    def _encode(self, texts: list[str], size: int, track: Tracker) -> np.ndarray:
        """Embed in slices, so progress moves while a batch is embedded."""
        step = max(2 * self.embedder.batch_size, 32)  # about two seconds of work on 2 cores
        parts = []
        for i in range(0, len(texts), step):
            if self.stopping.is_set():  # the batch's chunks are recorded as pending: the next run cleans up
                raise ReindexStopped("the reindex stopped: the process is shutting down")
            parts.append(self.embedder.encode(texts[i : i + step]))
            track.embedded(len(parts[-1]), len(texts), size)
        return np.concatenate(parts)
