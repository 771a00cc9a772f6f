"""Run one reindex at a time in a background thread, for /reindex and the control socket alike."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from index.indexer import Indexer
from index.issue import SourceSpec
from index.summary import ReindexSummary

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    requested_by: str
    full: bool
    source: str | None
    started: dt.datetime


class ReindexRunner:
    """Single-flight: while a reindex runs, another request is refused (``start`` returns None)."""

    def __init__(self, indexer: Indexer, specs: Callable[[], Sequence[SourceSpec]],
                 before: Callable[[bool, str | None], object] | None = None) -> None:
        """``before(force, source)`` runs first in the job's thread (fetching git sources)."""
        self._before = before
        self._indexer = indexer
        self._specs = specs
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="reindex")
        self._lock = threading.Lock()
        self.running: Job | None = None
        self.last: tuple[dt.datetime, ReindexSummary] | None = None
        self.last_error: str | None = None
        self.current: concurrent.futures.Future[ReindexSummary] | None = None

    def start(self, *, full: bool = False, source: str | None = None, requested_by: str = "",
              force_fetch: bool = True) -> concurrent.futures.Future[ReindexSummary] | None:
        with self._lock:
            if self.running is not None:
                return None
            self.running = Job(requested_by, full, source, dt.datetime.now(dt.timezone.utc))
            self.current = self._pool.submit(self._run, full, source, force_fetch)
            return self.current

    def _run(self, full: bool, source: str | None, force_fetch: bool) -> ReindexSummary:
        try:
            if self._before is not None:
                self._before(force_fetch, source)
            summary = self._indexer.reindex(self._specs(), full=full, only=source)
            self.last = (dt.datetime.now(dt.timezone.utc), summary)
            self.last_error = None
            log.info("reindex done: %d new, %d changed, %d removed, %d failed", summary.new, summary.changed,
                     summary.removed, len(summary.failed))
            return summary
        except Exception as exc:
            self.last_error = str(exc)
            log.exception("reindex failed")
            raise
        finally:
            with self._lock:
                self.running = None

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
