"""What is deleted about readers cannot be read back from the files: not the Discord ids the answers store held
before m004 hashed them, not a forgotten reader's questions."""

from __future__ import annotations

import hashlib
import sqlite3
import struct
import time
from pathlib import Path

import pytest

from bot.converse import state
from bot.converse.state import STEPS, SqliteConversations
from bot.feedback.record import QuestionRecord
from index.search.retriever import Answer, Filters

_connect = sqlite3.connect


@pytest.fixture(autouse=True)
def deleted_content_kept_by_default(monkeypatch):
    """As SQLite is built by default (Debian's build zeroes deleted content unless told not to, others keep it):
    every connection starts with secure_delete off, so only what the stores ask for themselves counts."""
    def connect(*args, **kwargs):
        db = _connect(*args, **kwargs)
        db.execute("PRAGMA secure_delete=OFF")
        return db

    monkeypatch.setattr(sqlite3, "connect", connect)


ASKERS = [812345678901234567 + n for n in range(50)]  # Discord snowflakes: 8-byte integers in a SQLite record


def _on_disk(path: Path) -> bytes:
    """Everything SQLite keeps of the file: the file and its write-ahead log."""
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _old_file(path: Path, steps: int) -> None:
    """conversations.sqlite3 as an earlier version left it: the first ``steps`` migrations, answers by raw id."""
    old = sqlite3.connect(path, isolation_level=None)  # secure_delete off, as the fixture makes it
    old.create_function("reader_hash", 1, lambda asker: hashlib.sha256(str(asker).encode()).hexdigest())
    old.execute("CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    for step in STEPS.steps[:steps]:
        old.execute("BEGIN")
        step(old)
        old.execute("INSERT INTO _migrations VALUES (?, '2026-11-30T00:00:00+00:00')", (step.__name__,))
        old.execute("COMMIT")
        if step.__name__ == "m003_answer_questions":
            old.executemany("INSERT INTO answers (question, earlier, filters, per_page, shown, asker, private,"
                            " created) VALUES ('what is layer skip', '[]', ?, 3, 3, ?, 1, ?)",
                            [(Filters().to_json(), a, time.time()) for a in ASKERS])
    old.close()


def _ids_in(data: bytes) -> list[int]:
    return [a for a in ASKERS if struct.pack(">q", a) in data or str(a).encode() in data]


@pytest.mark.parametrize("how", ["drop column", "rebuild"])
def test_hashing_the_askers_leaves_no_raw_id_in_the_file(tmp_path, monkeypatch, how):
    if how == "rebuild":  # as on a SQLite older than 3.35
        monkeypatch.setattr(state, "DROP_COLUMN_SINCE", (99, 0, 0))
    path = tmp_path / "conversations.sqlite3"
    _old_file(path, 3)
    assert len(_ids_in(path.read_bytes())) == len(ASKERS)
    store = SqliteConversations(path)
    assert _ids_in(_on_disk(path)) == []  # while the store is open, as a running bot keeps it
    first = store.answer(1)
    assert first is not None and first.asker == store.reader(ASKERS[0])
    store.close()
    assert _ids_in(_on_disk(path)) == []
    columns = [r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(answers)")]
    assert columns == ["id", "question", "earlier", "filters", "per_page", "shown", "private", "shared", "created",
                       "question_id", "asker"]


def test_a_file_hashed_by_the_earlier_m004_loses_the_raw_ids_it_kept_in_free_pages(tmp_path):
    path = tmp_path / "conversations.sqlite3"
    _old_file(path, 4)  # m004 applied without secure_delete nor VACUUM: the ids are in free pages
    assert _ids_in(path.read_bytes())
    SqliteConversations(path).close()
    assert _ids_in(_on_disk(path)) == []


def test_a_forgotten_reader_cannot_be_read_back_from_the_record_while_the_bot_has_it_open(tmp_path):
    running = QuestionRecord(tmp_path, keep_days=180)  # the bot, which keeps the file open
    words = "Which issue covered zeppelin maintenance schedules"
    for n in range(20):
        running.add("ask", 7, f"{words} number {n}?", Filters(), Answer(query="q", no_match=True))
    running.add("ask", 8, "What is LayerSkip?", Filters(), Answer(query="q", no_match=True))
    hashed = running.reader(7)
    gaps = QuestionRecord(tmp_path, keep_days=180)  # `bot gaps --forget-user 7`
    assert gaps.forget(7) == 20
    gaps.close()
    data = _on_disk(tmp_path / "questions.sqlite3")
    assert words.encode() not in data and hashed.encode() not in data
    assert b"What is LayerSkip?" in data
    assert [e.question for e in running.entries()] == ["What is LayerSkip?"]
    running.close()
