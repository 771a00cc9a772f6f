"""Server mode, several hosts: a forgotten reader leaves every host's copy, and the smallest keep_days wins."""

from __future__ import annotations

import sqlite3
import time

import pytest

from bot.feedback import server_record
from bot.feedback.server_copy import FILE_NAME as COPY_NAME
from bot.feedback.server_record import ServerQuestionRecord
from index.search.retriever import Answer, Filters
from index.store.server.records import ServerRecords
from index.store.vectors import VectorStore

pytestmark = [pytest.mark.slow, pytest.mark.chroma_server]
DAY = 86400.0


def _host(chroma, embedder, folder, name, keep_days=180):
    client = VectorStore(url=chroma.url).client  # each host its own client
    return ServerQuestionRecord(client, ServerRecords(client), keep_days=keep_days, encode=embedder.encode,
                                model=embedder.identity, copy=folder / f"data-{name}" / COPY_NAME, host=name)


def _no_match() -> Answer:
    return Answer("q", True, [], "nothing close")


def _copy_of(folder, name) -> tuple[list[str], bytes]:
    """The questions in a host's copy, and every byte of its file and write-ahead log."""
    path = folder / f"data-{name}" / COPY_NAME
    rows = sqlite3.connect(path).execute("SELECT meta FROM questions").fetchall()
    wal = path.with_name(path.name + "-wal")
    return [m for (m,) in rows], path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_a_reader_forgotten_on_one_host_leaves_the_other_hosts_copy_outside_the_period_read(
        tmp_path, chroma, embedder, monkeypatch):
    a, b = _host(chroma, embedder, tmp_path, "a"), _host(chroma, embedder, tmp_path, "b")
    now = time.time()
    for n in range(3):  # asked weeks ago
        a.add("ask", 111, f"Which issue covered zeppelin mooring masts, part {n}?", Filters(), _no_match(),
              now=now - 20 * DAY + n)
    a.add("ask", 333, "Where is the issue about abacus repair?", Filters(), _no_match(), now=now - 10 * DAY)
    a.add("ask", 222, "What is LayerSkip?", Filters(), _no_match(), now=now - 60)
    assert len(b.entries()) == 5  # b's copy now holds every question

    assert a.forget(111) == 3
    assert [e.question for e in b.entries(since=now - 3600)] == ["What is LayerSkip?"]  # b reads today only
    metas, data = _copy_of(tmp_path, "b")
    assert len(metas) == 2 and b"zeppelin" not in data  # not in the file either, while b has it open

    monkeypatch.setattr(server_record, "FORGOTTEN_EVERY", 0.0)  # a recording host looks now and then
    assert a.forget(333) == 1
    b.add("ask", 222, "How does speculative decoding work?", Filters(), _no_match())
    metas, data = _copy_of(tmp_path, "b")
    assert len(metas) == 1 and b"abacus" not in data  # without b reading anything
    a.close()
    b.close()


def test_the_smallest_keep_days_of_the_hosts_prunes_for_all(tmp_path, chroma, embedder):
    strict = _host(chroma, embedder, tmp_path, "strict", keep_days=30)
    lenient = _host(chroma, embedder, tmp_path, "lenient", keep_days=180)
    now = time.time()
    lenient.add("ask", 1, "An old question about punch cards", Filters(), _no_match(), now=now - 100 * DAY)
    lenient.add("ask", 1, "A recent question about punch cards", Filters(), _no_match(), now=now - 10 * DAY)
    assert lenient.prune(now) == 1  # 100 days old: past the strict host's 30, though within its own 180
    assert lenient.kept_days == 30
    assert [e.question for e in strict.entries()] == ["A recent question about punch cards"]

    # a host that has not declared its keep_days for 30 days (stopped) no longer counts
    lenient.add("ask", 1, "A question from two months ago", Filters(), _no_match(), now=now - 60 * DAY)
    assert lenient.prune(now + 31 * DAY) == 0 and lenient.kept_days == 180
    strict.close()
    lenient.close()
