"""Schema migrations: files written by earlier versions open with every record kept, each step applied once."""

from __future__ import annotations

import sqlite3

import pytest

from bot.announce.state import AnnounceState
from index.store.catalog import Catalog
from index.store.migrations import Migrations, applied, has_column

# announce.sqlite3 as the release before recorded migrations wrote it (no _migrations table)
ANNOUNCE_BEFORE_MIGRATIONS = """
CREATE TABLE seeded (source TEXT PRIMARY KEY, at TEXT NOT NULL);
CREATE TABLE posts (
    source TEXT NOT NULL, path TEXT NOT NULL, status TEXT NOT NULL, nonce TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 0, channel_id INTEGER, message_id INTEGER,
    file_hash TEXT NOT NULL DEFAULT '', post_hash TEXT NOT NULL DEFAULT '',
    attempts INTEGER NOT NULL DEFAULT 0, next_attempt REAL NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '', posted_at TEXT, PRIMARY KEY (source, path)
);
CREATE TABLE channel_errors (
    channel_id INTEGER PRIMARY KEY, error TEXT NOT NULL, failures INTEGER NOT NULL,
    next_attempt REAL NOT NULL, since TEXT NOT NULL
);
INSERT INTO seeded VALUES ('weekly', '2024-01-01T00:00:00+00:00');
INSERT INTO posts VALUES ('weekly', 'a.md', 'posted', 'n-a', 0, 11, 101, 'ha', 'pa', 1, 0, '', '2024-01-02T00:00:00+00:00');
INSERT INTO posts VALUES ('weekly', 'b.md', 'seeded', 'n-b', 0, NULL, NULL, 'hb', '', 0, 0, '', NULL);
INSERT INTO posts VALUES ('weekly', 'c.md', 'pending', 'n-c', 2, NULL, NULL, 'hc', '', 3, 1700000000.5,
                          '503 Service Unavailable', NULL);
INSERT INTO channel_errors VALUES (11, 'missing permission: 403', 2, 1700000100.0, '2024-01-03T00:00:00+00:00');
"""

# catalog.sqlite3 before sections had link_share
CATALOG_BEFORE_LINK_SHARE = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE issues (
    source TEXT NOT NULL, path TEXT NOT NULL, hash TEXT NOT NULL, status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '', publish_at TEXT, title TEXT NOT NULL DEFAULT '', url TEXT NOT NULL DEFAULT '',
    date TEXT, description TEXT NOT NULL DEFAULT '', indexed_at TEXT NOT NULL, PRIMARY KEY (source, path)
);
CREATE TABLE sections (
    source TEXT NOT NULL, path TEXT NOT NULL, position INTEGER NOT NULL,
    heading TEXT NOT NULL, heading_path TEXT NOT NULL, level INTEGER NOT NULL,
    anchor TEXT NOT NULL, markdown TEXT NOT NULL, text TEXT NOT NULL, PRIMARY KEY (source, path, position)
);
INSERT INTO meta VALUES ('model', 'all-MiniLM-L6-v2');
INSERT INTO issues VALUES ('weekly', 'a.md', 'h1', 'indexed', '', NULL, 'Issue A', 'https://x/a/', '2024-01-01', '', 't');
INSERT INTO sections VALUES ('weekly', 'a.md', 0, 'Intro', 'Intro', 2, 'intro', 'Hello', 'Hello');
"""


def _old_file(path, script):
    db = sqlite3.connect(path)
    db.executescript(script)
    db.close()


def test_an_announce_ledger_from_before_migrations_keeps_every_record(tmp_path):
    path = tmp_path / "announce.sqlite3"
    _old_file(path, ANNOUNCE_BEFORE_MIGRATIONS)
    before = sqlite3.connect(path).execute("SELECT * FROM posts ORDER BY path").fetchall()

    state = AnnounceState(path)
    rows = state.rows("weekly")
    assert state.is_seeded("weekly")
    assert {p: (r.status, r.nonce, r.message_id, r.attempts, r.last_error) for (_, p), r in rows.items()} == {
        "a.md": ("posted", "n-a", 101, 1, ""), "b.md": ("seeded", "n-b", None, 0, ""),
        "c.md": ("pending", "n-c", None, 3, "503 Service Unavailable")}
    assert state.channel_error(11) is not None and state.channel_error(11)[0] == "missing permission: 403"
    state.close()

    db = sqlite3.connect(path)
    assert db.execute("SELECT * FROM posts ORDER BY path").fetchall()[0][:13] == before[0][:13]
    assert applied(db) == {"m001_initial", "m002_posts_sent_at"}
    assert has_column(db, "posts", "sent_at") and all(r.sent_at is None for r in rows.values())
    db.close()


def test_each_migration_runs_once_and_is_recorded(tmp_path):
    path = tmp_path / "catalog.sqlite3"
    _old_file(path, CATALOG_BEFORE_LINK_SHARE)
    Catalog(path).close()
    db = sqlite3.connect(path)
    assert applied(db) == {"m001_initial", "m002_sections_link_share", "m003_issues_access"}
    assert db.execute("SELECT heading, link_share FROM sections").fetchall() == [("Intro", 0)]
    assert db.execute("SELECT title, access FROM issues").fetchall() == [("Issue A", "")]  # an old issue is public
    stamps = db.execute("SELECT name, applied_at FROM _migrations ORDER BY name").fetchall()
    db.close()

    catalog = Catalog(path)  # opened again: nothing is applied a second time
    assert catalog.get_meta("model") == "all-MiniLM-L6-v2"
    catalog.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT name, applied_at FROM _migrations ORDER BY name").fetchall() == stamps
    db.close()


def test_a_new_file_gets_the_whole_schema(tmp_path):
    Catalog(tmp_path / "catalog.sqlite3").close()
    db = sqlite3.connect(tmp_path / "catalog.sqlite3")
    assert has_column(db, "sections", "link_share") and has_column(db, "issues", "publish_at")
    db.close()


def test_a_failing_step_leaves_nothing_half_done_and_is_tried_again(tmp_path):
    steps = Migrations()
    calls = []

    @steps
    def m001_add_then_fail(db):
        calls.append(1)
        db.execute("CREATE TABLE t (a INTEGER)")
        if len(calls) == 1:
            raise RuntimeError("disk on fire")

    db = sqlite3.connect(tmp_path / "x.sqlite3", isolation_level=None)
    with pytest.raises(RuntimeError):
        steps.apply(db)
    assert applied(db) == set()
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 't'").fetchone() is None  # rolled back
    assert steps.apply(db) == ["m001_add_then_fail"]
    assert steps.apply(db) == []
    assert len(calls) == 2


def test_a_step_cannot_be_declared_twice():
    steps = Migrations()

    @steps
    def m001_x(db):
        pass

    def again(db):
        pass

    again.__name__ = "m001_x"
    with pytest.raises(ValueError, match="declared twice"):
        steps(again)
