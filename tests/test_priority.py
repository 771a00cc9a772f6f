"""Indexing in the bot yields the cores: its thread and the model's worker threads run at a lower priority, so the
event loop and answers come first when the cores are contended (benchmarks/bench_stall.py measures the effect)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from bot.jobs import BACKGROUND_NICE, ReindexRunner
from index import priority

pytestmark = pytest.mark.skipif(not priority.supported(), reason="niceness is per thread on Linux only")


def _nice(tid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, tid)


def _in_thread(fn) -> int:
    seen: list[int] = []
    t = threading.Thread(target=lambda: seen.append(fn()))
    t.start()
    t.join()
    return seen[0]


def test_a_thread_lowers_itself_and_only_itself():
    main = _nice(threading.get_native_id())

    def lowered() -> int:
        assert priority.lower_this_thread(7)
        return _nice(threading.get_native_id())

    assert _in_thread(lowered) == max(7, main)
    assert _nice(threading.get_native_id()) == main


def test_threads_started_inside_the_block_are_lowered_and_others_not():
    stop = threading.Event()
    before = threading.Thread(target=stop.wait)
    before.start()
    inside: list[threading.Thread] = []
    try:
        with priority.lower_new_threads(6):
            inside.append(threading.Thread(target=stop.wait))
            inside[0].start()
        assert _nice(inside[0].native_id) == 6
        assert _nice(before.native_id) == _nice(threading.get_native_id())
    finally:
        stop.set()
        before.join()
        for t in inside:
            t.join()


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="ONNX Runtime starts no worker thread on one core")
def test_the_models_worker_threads_run_at_the_niceness_asked_for(embedder):
    from index.embedding.model import Embedder

    if embedder.backend == "torch":
        pytest.skip("the torch backend's workers start lazily; only ONNX sessions start theirs when loaded")
    before = priority._threads()
    lowered = Embedder(backend=embedder.backend, export_dir=embedder.export_dir, worker_nice=8)
    lowered.load()  # the exported graph is cached: this only opens a session
    new = priority._threads() - before
    assert new and any(_nice(t) == 8 for t in new)
    assert lowered.encode(["what is layer skip"]).shape == (1, 384)
    assert _nice(threading.get_native_id()) != 8  # the thread that loaded it keeps its priority


def test_the_bots_reindex_thread_runs_at_the_background_niceness(tmp_path: Path, embedder, samples: Path, spec_for):
    from index.indexing.indexer import Indexer
    from index.store.catalog import Catalog
    from index.store.vectors import VectorStore

    catalog = Catalog(tmp_path / "catalog.sqlite3", threaded=True)  # as the bot's: used from the reindex thread
    store = VectorStore(path=tmp_path / "chroma")
    seen: list[int] = []
    runner = ReindexRunner(Indexer(catalog, lambda: store, embedder), lambda: [spec_for(samples)],
                           before=lambda force, only: seen.append(_nice(threading.get_native_id())),
                           nice=BACKGROUND_NICE)
    try:
        future = runner.start(requested_by="test")
        assert future is not None
        summary = future.result(timeout=300)
    finally:
        runner.shutdown()
        catalog.close()
    assert seen == [BACKGROUND_NICE] and summary.new > 0  # it indexed, from the lowered thread
    assert _nice(threading.get_native_id()) != BACKGROUND_NICE

