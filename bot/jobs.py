"""Run one reindex at a time in a background thread, for the refresh loop, /reindex and the control socket alike."""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.indexing.indexer import Indexer, ReindexStopped
from index.indexing.progress import Step
from index.indexing.summary import ReindexSummary
from index.priority import lower_this_thread
from index.reading.issue import SourceSpec
from index.store.locks import StoreBusy

log = logging.getLogger(__name__)

# niceness of the reindex thread and the model's workers in `bot run`: indexing yields the cores to the event loop
# and to answers (index.priority); on an idle machine it runs as fast as before
BACKGROUND_NICE = 5


@dataclass(frozen=True)
class Job:
    requested_by: str
    full: bool
    source: str | None
    started: dt.datetime
    first: bool = False  # the index was empty when it began: /ask says indexing is under way


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class ReindexRunner:
    """Single-flight: while a reindex runs, another request is refused (``start`` returns None).

    Each run records, per source, when it was checked and when a change was last seen, in
    ``checks_path`` (JSON) so `bot status` in another process can show it too.
    """

    def __init__(self, indexer: Indexer, specs: Callable[[], Sequence[SourceSpec]],
                 before: Callable[[bool, str | None], object] | None = None, checks_path: Path | None = None,
                 nice: int = 0) -> None:
        """``before(force, source)`` runs first in the job's thread (fetching git sources); the thread runs at
        niceness ``nice``."""
        self._before = before
        self._indexer = indexer
        self._specs = specs
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="reindex",
                                                           initializer=lower_this_thread, initargs=(nice,))
        self._lock = threading.Lock()
        self.running: Job | None = None
        self.progress: Step | None = None  # how far the running job is
        self.last: tuple[dt.datetime, ReindexSummary] | None = None
        self.last_error: str | None = None
        self.current: concurrent.futures.Future[ReindexSummary] | None = None
        self._failed: set[tuple[str, str, str]] = set()  # the last run's failed files: logged again only when they change
        self.checks_path = checks_path
        self.checks: dict[str, dict[str, str | None]] = read_checks(checks_path)

    def start(self, *, full: bool = False, source: str | None = None, requested_by: str = "",
              force_fetch: bool = True) -> concurrent.futures.Future[ReindexSummary] | None:
        with self._lock:
            if self.running is not None:
                return None
            self.running = Job(requested_by, full, source, dt.datetime.now(dt.timezone.utc))
            self.progress = None
            self.current = self._pool.submit(self._run, full, source, force_fetch)
            self.current.add_done_callback(self._ended)
            return self.current

    def _ended(self, future: concurrent.futures.Future[ReindexSummary]) -> None:
        if future.cancelled():  # cancelled before it began (shutdown): _run never clears the job
            with self._lock:
                self.running = None

    async def wait(self, future: concurrent.futures.Future[ReindexSummary]) -> ReindexSummary:
        """Wait for a job without cancelling it when the waiter is cancelled (a loop stopping, a reply
        abandoned): a reindex others wait for too runs to its end."""
        return await asyncio.shield(asyncio.wrap_future(future))

    def _progress(self, step: Step) -> None:
        self.progress = step

    def _fingerprints(self, names: list[str]) -> dict[str, str]:
        """Per source, a digest of what the catalog holds (each issue's path, hash and status)."""
        out = {}
        for name in names:
            rows = sorted((r.path, r.hash, r.status) for r in self._indexer.catalog.issue_rows(name).values())
            out[name] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return out

    def _run(self, full: bool, source: str | None, force_fetch: bool) -> ReindexSummary:
        try:
            if self.running and not self._indexer.catalog.count("issues"):
                self.running = dataclasses.replace(self.running, first=True)
            if self._before is not None:
                self._before(force_fetch, source)
            specs = self._specs()
            names = [s.name for s in specs if source is None or s.name == source]
            before = self._fingerprints(names)
            summary = self._indexer.reindex(specs, full=full, only=source, progress=self._progress)
            self._record_checks(before, self._fingerprints(names))
            self.last = (dt.datetime.now(dt.timezone.utc), summary)
            self.last_error = None
            failed = {(r.source, r.path, r.reason) for r in summary.failed}
            news = summary.new or summary.changed or summary.removed or failed != self._failed
            self._failed = failed
            log.log(logging.INFO if news else logging.DEBUG, "reindex done: %d new, %d changed, %d removed, %d failed",
                    summary.new, summary.changed, summary.removed, len(summary.failed))
            return summary
        except ReindexStopped:
            log.info("reindex stopped for shutdown; the next start finishes it")
            raise
        except StoreBusy as exc:
            if self.running is not None and self.running.requested_by in ("start", "refresh"):
                log.debug("check skipped: %s", exc)  # server mode: another process is writing; next interval
            else:
                self.last_error = str(exc)
                log.warning("reindex refused: %s", exc)
            raise
        except Exception as exc:
            self.last_error = str(exc)
            log.exception("reindex failed")
            raise
        finally:
            with self._lock:
                self.running = None
                self.progress = None

    def _record_checks(self, before: dict[str, str], after: dict[str, str]) -> None:
        now = _now()
        for name, fingerprint in after.items():
            entry = self.checks.setdefault(name, {"last_checked": None, "last_change": None})
            entry["last_checked"] = now
            if fingerprint != before.get(name) or entry.get("last_change") is None:
                entry["last_change"] = now
        if self.checks_path is not None:
            tmp = self.checks_path.with_name(self.checks_path.name + ".tmp")
            try:
                tmp.write_text(json.dumps(self.checks))
                tmp.replace(self.checks_path)
            except OSError as exc:
                log.warning("cannot record the source checks in %s: %s", self.checks_path, exc)

    def shutdown(self) -> None:
        """Stop a running reindex at its next step (a batch of chunks at most) and wait for it."""
        self._indexer.stopping.set()
        self._pool.shutdown(wait=True, cancel_futures=True)


def read_checks(path: Path | None) -> dict[str, dict[str, Any]]:
    """Per source: last_checked, last_change (ISO times), as the running bot last wrote them."""
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def progress_text(runner: ReindexRunner) -> str:
    """How far the running reindex is, e.g. " (12%: 120 of 1131 issues)"; the share follows the embedding work."""
    step = runner.progress
    return f" ({step.fraction:.0%}: {step.issues_done} of {step.issues_total} issues)" if step else ""


def indexing_notice(runner: ReindexRunner) -> str | None:
    """While the first index of an empty archive runs: say so, and how far it is."""
    job = runner.running
    if job is None or not job.first:
        return None
    return f"Indexing the archive is under way{progress_text(runner)}; answers come from what is indexed so far."
