"""Conversations on disk: what a follow-up needs of the questions before it, bounded and expiring.

Each answer the bot posts records the conversation as it stands at that answer (a reply to an older
answer follows up on that answer, not on whatever was asked after it), found by its keys: the
answer's message id (a reply names the message it answers) and the id of the thread it is in (a
thread started from an answer has that answer's id, so no extra key is needed; a later answer in
the thread takes the thread's key over). It keeps the last :data:`MAX_TURNS` questions and the
filters of the first, and is forgotten :data:`TTL_SECONDS` after it was recorded.

:class:`ConversationStore` is the seam: :class:`SqliteConversations` keeps them in SQLite in the data
folder (embedded mode); a server-mode store only has to offer the same methods.
:func:`open_conversations` is the one place a store is chosen.

The same store keeps what an answer's buttons need (:class:`AnswerState`, found by the number its
buttons' ``custom_id`` names): the question, the turns before it, its filters, how many sections it
has shown, whether it is private and who asked, and its row in the question record (what its 👍/👎 vote on).
The asker is kept only as a keyed hash (:mod:`bot.reader_key`, under the data folder's ``feedback.key``):
only they may page a private answer or share it, so a press compares the presser's hash with it
(``store.reader(user_id) == state.asker``). It is forgotten :data:`TTL_SECONDS` after it was made, as
conversations are.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from bot.reader_key import folder_key, reader_hash
from index.search.retriever import Filters
from index.store.migrations import Migrations, run_script, scrub

MAX_TURNS = 4  # earlier questions a follow-up is read with
TTL_SECONDS = 24 * 3600.0
DROP_COLUMN_SINCE = (3, 35, 0)  # SQLite's ALTER TABLE DROP COLUMN

STEPS = Migrations()


@STEPS
def m001_conversations(db: sqlite3.Connection) -> None:
    run_script(db, """
    CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        turns TEXT NOT NULL,        -- JSON list of the last questions, oldest first
        filters TEXT NOT NULL,      -- JSON object: source, issue, since, until
        updated REAL NOT NULL       -- unix time of the last turn
    );
    CREATE TABLE conversation_keys (
        key INTEGER PRIMARY KEY,    -- an answer's message id or a thread id
        conversation TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE
    );
    CREATE INDEX conversation_keys_by_conversation ON conversation_keys(conversation);
    """)


@STEPS
def m002_answers(db: sqlite3.Connection) -> None:
    run_script(db, """
    CREATE TABLE answers (
        id INTEGER PRIMARY KEY AUTOINCREMENT,  -- what the answer's buttons name
        question TEXT NOT NULL,
        earlier TEXT NOT NULL,      -- JSON list: the conversation's questions before it, oldest first
        filters TEXT NOT NULL,      -- Filters.to_json
        per_page INTEGER NOT NULL,  -- sections a page shows
        shown INTEGER NOT NULL,     -- sections shown up to the end of the current page
        asker INTEGER NOT NULL,     -- the Discord user who asked
        private INTEGER NOT NULL,   -- an ephemeral answer: only the asker sees it
        shared INTEGER NOT NULL DEFAULT 0,
        created REAL NOT NULL
    );
    CREATE INDEX answers_by_created ON answers(created);
    """)


@STEPS
def m003_answer_questions(db: sqlite3.Connection) -> None:
    """The answer's row in the question record (bot.feedback.record), which its 👍/👎 buttons vote on."""
    db.execute("ALTER TABLE answers ADD COLUMN question_id INTEGER")


@STEPS
def m004_askers_hashed(db: sqlite3.Connection) -> None:
    """The asker kept as a keyed hash, not their Discord id: existing rows are hashed (with the ``reader_hash``
    SQL function the store registers on its connection before migrating). ``ALTER TABLE DROP COLUMN`` needs
    SQLite 3.35; an older one (Debian 11's is 3.34) rebuilds the table instead, to the same schema. Either way
    the raw ids are then in free space only: the store's ``secure_delete`` zeroes it and it VACUUMs after
    (:func:`_scrub_after`)."""
    if sqlite3.sqlite_version_info >= DROP_COLUMN_SINCE:
        run_script(db, """
        ALTER TABLE answers ADD COLUMN asker_hash TEXT NOT NULL DEFAULT '';
        UPDATE answers SET asker_hash = reader_hash(asker);
        ALTER TABLE answers DROP COLUMN asker;
        ALTER TABLE answers RENAME COLUMN asker_hash TO asker;
        """)
        return
    run_script(db, """
    CREATE TABLE answers_hashed (
        id INTEGER PRIMARY KEY AUTOINCREMENT, question TEXT NOT NULL, earlier TEXT NOT NULL, filters TEXT NOT NULL,
        per_page INTEGER NOT NULL, shown INTEGER NOT NULL, private INTEGER NOT NULL,
        shared INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL, question_id INTEGER,
        asker TEXT NOT NULL DEFAULT ''
    );
    INSERT INTO answers_hashed (id, question, earlier, filters, per_page, shown, private, shared, created,
                                question_id, asker)
        SELECT id, question, earlier, filters, per_page, shown, private, shared, created, question_id,
               reader_hash(asker) FROM answers;
    DROP TABLE answers;
    ALTER TABLE answers_hashed RENAME TO answers;
    CREATE INDEX answers_by_created ON answers(created);
    """)


@STEPS
def m005_askers_scrubbed(db: sqlite3.Connection) -> None:
    """Nothing to change: recorded so that a file m004 migrated before the store zeroed what it deletes (its raw
    ids still in free pages) is VACUUMed once (:func:`_scrub_after`)."""


SCRUBBED_BY = {"m004_askers_hashed", "m005_askers_scrubbed"}  # after these, the file is VACUUMed


def _scrub_after(db: sqlite3.Connection, ran: list[str]) -> None:
    if SCRUBBED_BY & set(ran):
        scrub(db)


@dataclass(frozen=True)
class AnswerState:
    """What an answer's buttons need to page it or share it, after a restart too."""

    question: str
    filters: Filters
    per_page: int
    shown: int
    asker: str  # who asked, as ``ConversationStore.reader`` hashes them
    private: bool
    earlier: tuple[str, ...] = ()
    shared: bool = False
    id: int = 0  # given by the store
    question_id: int | None = None  # its row in the question record (votes); None: not recorded


@dataclass(frozen=True)
class Conversation:
    id: str  # the id of the answer it stands at
    turns: tuple[str, ...] = ()
    filters: Filters = field(default_factory=Filters)

    def then(self, answer_id: int, question: str) -> Conversation:
        """The conversation as it stands at answer ``answer_id`` to ``question``."""
        return replace(self, id=str(answer_id), turns=(*self.turns, question)[-MAX_TURNS:])


class ConversationStore(Protocol):
    def reader(self, user_id: int) -> str:
        """The keyed hash a reader is kept as (an answer's ``asker``): compare it, never their id."""

    def find(self, keys: Iterable[int]) -> Conversation | None:
        """The live conversation the first of ``keys`` that has one leads to; None when none does."""

    def save(self, conversation: Conversation, keys: Iterable[int]) -> None:
        """Record ``conversation`` (its turns and filters) and make ``keys`` lead to it."""

    def keep_answer(self, answer: AnswerState) -> int:
        """Record what an answer's buttons need; the id they name."""

    def answer(self, answer_id: int) -> AnswerState | None:
        """The live answer ``answer_id``; None when it is unknown or expired."""

    def turn_page(self, answer_id: int, shown: int) -> None:
        """The answer now shows sections up to ``shown``."""

    def mark_shared(self, answer_id: int, shared: bool = True) -> bool:
        """Mark the answer shared (or, after a failed share, not); False when it already was (shared once)."""

    def close(self) -> None: ...


class SqliteConversations:
    """Conversations in one SQLite file; safe to use from the event loop and a worker thread."""

    def __init__(self, path: Path, *, ttl: float = TTL_SECONDS, key: bytes | None = None) -> None:
        """``key``: the secret askers are hashed under; by default the data folder's (``path``'s folder)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.ttl = ttl
        self._key = key if key is not None else folder_key(path.parent)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
        self._db.create_function("reader_hash", 1, self.reader, deterministic=True)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA secure_delete=ON")  # what is deleted (askers, as ids before m004) is zeroed
        self._lock = threading.Lock()
        with self._lock:
            _scrub_after(self._db, STEPS.apply(self._db))
            self._expire()

    def _expire(self) -> None:
        self._db.execute("DELETE FROM conversations WHERE updated < ?", (time.time() - self.ttl,))
        self._db.execute("DELETE FROM answers WHERE created < ?", (time.time() - self.ttl,))

    def reader(self, user_id: int) -> str:
        return reader_hash(self._key, user_id)

    def find(self, keys: Iterable[int]) -> Conversation | None:
        with self._lock:
            for key in keys:
                row = self._db.execute(
                    "SELECT c.id, c.turns, c.filters FROM conversation_keys k JOIN conversations c"
                    " ON c.id = k.conversation WHERE k.key = ? AND c.updated >= ?",
                    (int(key), time.time() - self.ttl)).fetchone()
                if row is not None:
                    return Conversation(row[0], tuple(json.loads(row[1])), Filters.from_json(row[2]))
        return None

    def save(self, conversation: Conversation, keys: Iterable[int]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._expire()
                self._db.execute(
                    "INSERT INTO conversations (id, turns, filters, updated) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT(id) DO UPDATE SET turns = excluded.turns, filters = excluded.filters,"
                    " updated = excluded.updated",
                    (conversation.id, json.dumps(list(conversation.turns[-MAX_TURNS:])),
                     conversation.filters.to_json(), time.time()))
                for key in keys:
                    self._db.execute("INSERT OR REPLACE INTO conversation_keys (key, conversation) VALUES (?, ?)",
                                     (int(key), conversation.id))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def keep_answer(self, answer: AnswerState) -> int:
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO answers (question, earlier, filters, per_page, shown, asker, private, shared, created,"
                " question_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (answer.question, json.dumps(list(answer.earlier)), answer.filters.to_json(), answer.per_page,
                 answer.shown, answer.asker, int(answer.private), int(answer.shared), time.time(),
                 answer.question_id))
            return int(cur.lastrowid or 0)

    def answer(self, answer_id: int) -> AnswerState | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, question, earlier, filters, per_page, shown, asker, private, shared, question_id FROM answers"
                " WHERE id = ? AND created >= ?", (int(answer_id), time.time() - self.ttl)).fetchone()
        if row is None:
            return None
        return AnswerState(question=row[1], earlier=tuple(json.loads(row[2])), filters=Filters.from_json(row[3]),
                           per_page=row[4], shown=row[5], asker=row[6], private=bool(row[7]), shared=bool(row[8]),
                           id=row[0], question_id=row[9])

    def turn_page(self, answer_id: int, shown: int) -> None:
        with self._lock:
            self._db.execute("UPDATE answers SET shown = ? WHERE id = ?", (int(shown), int(answer_id)))

    def mark_shared(self, answer_id: int, shared: bool = True) -> bool:
        with self._lock:
            cur = self._db.execute("UPDATE answers SET shared = ? WHERE id = ? AND shared = ?",
                                   (int(shared), int(answer_id), int(not shared)))
            return cur.rowcount == 1

    def close(self) -> None:
        with self._lock:
            self._db.close()


def open_conversations(data_dir: Path) -> ConversationStore:
    """The conversation store: SQLite in the data folder. (A server-mode store would be chosen here.)"""
    return SqliteConversations(data_dir / "conversations.sqlite3")
