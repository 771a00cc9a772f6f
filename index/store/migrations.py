"""Named schema migrations for a SQLite file: each applied once, in order, and recorded in the file.

A file declares its steps once::

    steps = Migrations()

    @steps
    def m001_initial(db): ...

    @steps
    def m002_posts_sent_at(db): ...

and ``steps.apply(db)`` runs those not yet recorded in ``_migrations``, each in its own transaction with
its record, so a step is never half applied and never applied twice — also when two processes open
the file at once (the second waits for the first's write lock, then finds the step recorded).
Steps are only ever appended; a released step is never edited or renamed.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable

log = logging.getLogger(__name__)
Step = Callable[[sqlite3.Connection], None]


class Migrations:
    def __init__(self) -> None:
        self.steps: list[Step] = []

    def __call__(self, step: Step) -> Step:
        if any(s.__name__ == step.__name__ for s in self.steps):
            raise ValueError(f"migration {step.__name__} is declared twice")
        self.steps.append(step)
        return step

    def apply(self, db: sqlite3.Connection) -> list[str]:
        """Apply the steps ``db`` has not recorded yet; the names of those applied now.

        ``db`` must be in autocommit mode (``isolation_level=None``): each step opens its own transaction.
        """
        db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        done = applied(db)
        ran = []
        for step in self.steps:
            if step.__name__ in done:
                continue
            db.execute("BEGIN IMMEDIATE")
            try:
                if db.execute("SELECT 1 FROM _migrations WHERE name = ?", (step.__name__,)).fetchone():
                    db.execute("COMMIT")  # another process applied it meanwhile
                    continue
                step(db)
                db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                           (step.__name__, dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            ran.append(step.__name__)
        if ran:
            log.debug("applied migrations %s", ", ".join(ran))
        return ran


def applied(db: sqlite3.Connection) -> set[str]:
    """Names of the migrations recorded in ``db``."""
    try:
        return {r[0] for r in db.execute("SELECT name FROM _migrations")}
    except sqlite3.OperationalError:  # no such table: nothing applied yet
        return set()


def run_script(db: sqlite3.Connection, script: str) -> None:
    """Run each statement of ``script`` inside the current transaction (``executescript`` would commit it)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            db.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement: {statement.strip()[:80]}")


def has_column(db: sqlite3.Connection, table: str, column: str) -> bool:
    return column in {r[1] for r in db.execute(f"PRAGMA table_info({table})")}


def scrub(db: sqlite3.Connection) -> None:
    """Leave nothing deleted recoverable from the file: rebuild it (``VACUUM``, outside any transaction) and, in
    WAL mode, copy the log back and empty it, so neither free pages nor old log frames keep deleted rows."""
    db.execute("VACUUM")
    checkpoint(db)


def checkpoint(db: sqlite3.Connection) -> bool:
    """In WAL mode, copy the log into the file and truncate it (old frames keep rows since deleted); False
    when a reader held it back (then it is done by a later checkpoint)."""
    busy, _log, _done = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        log.debug("a reader held back the WAL checkpoint")
    return not busy
