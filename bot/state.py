"""The watcher's state: one SQLite file with numbered schema migrations.

Tables
  lists     one row per polled list: the search cursor (epoch seconds)
  messages  every message seen, so overlapping search windows never count twice
  series    one row per series revision: pending, reviewed, skipped or failed
  findings  what each review found and whether it was reported
  outbox    every reply: pending, sending, sent, unconfirmed, failed or muted
  runs      one row per `reviewbot watch` run with its summary

Every write happens inside `transaction()`, so a run killed at any point
leaves the database as it was after the last finished step.
"""

from __future__ import annotations

import contextlib
import datetime
import sqlite3
import time
from pathlib import Path

from bot.errors import StateError

MIGRATIONS = [
    # 1: the first schema
    """
    CREATE TABLE lists (
        name TEXT PRIMARY KEY,
        cursor REAL NOT NULL,
        polled REAL
    );
    CREATE TABLE messages (
        msgid TEXT PRIMARY KEY,
        list TEXT NOT NULL,
        kind TEXT NOT NULL,              -- patch, cover, reply, pull, other
        series_key TEXT,
        counter INTEGER,
        subject TEXT NOT NULL,
        addresses TEXT NOT NULL DEFAULT '',  -- To and Cc, comma-separated
        sent REAL NOT NULL,              -- the Date header (or first seen, if earlier)
        seen REAL NOT NULL
    );
    CREATE INDEX messages_series ON messages(series_key);
    CREATE TABLE series (
        key TEXT PRIMARY KEY,            -- thread root, revision and size
        list TEXT NOT NULL,
        root TEXT NOT NULL,              -- message-id to fetch the thread by
        subject TEXT NOT NULL,
        author TEXT NOT NULL,
        revision INTEGER NOT NULL,
        expected INTEGER NOT NULL,
        family TEXT,                     -- links the revisions of one series
        status TEXT NOT NULL,            -- pending, reviewed, skipped, failed
        reason TEXT NOT NULL DEFAULT '',
        attempts INTEGER NOT NULL DEFAULT 0,
        first_seen REAL NOT NULL,
        updated REAL NOT NULL
    );
    CREATE INDEX series_status ON series(status);
    CREATE TABLE findings (
        id INTEGER PRIMARY KEY,
        series_key TEXT NOT NULL,
        family TEXT NOT NULL,
        revision INTEGER NOT NULL,
        patch TEXT NOT NULL,
        rule TEXT NOT NULL,
        file TEXT NOT NULL,
        line INTEGER NOT NULL,
        symbol TEXT NOT NULL,
        line_text TEXT NOT NULL,
        status TEXT NOT NULL,            -- reported, repeat, muted
        reason TEXT NOT NULL DEFAULT '',
        reply TEXT
    );
    CREATE INDEX findings_family ON findings(family);
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        msgid TEXT NOT NULL UNIQUE,      -- the reply's own Message-ID
        series_key TEXT NOT NULL,
        patch TEXT NOT NULL,
        list TEXT NOT NULL,
        subject TEXT NOT NULL,
        recipients TEXT NOT NULL,        -- comma-separated envelope recipients
        raw BLOB NOT NULL,
        status TEXT NOT NULL,            -- pending, sending, sent, unconfirmed, failed, muted
        via TEXT NOT NULL DEFAULT '',    -- maildir, smtp or print: set when handed over
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt REAL NOT NULL DEFAULT 0,
        error TEXT NOT NULL DEFAULT '',
        created REAL NOT NULL,
        sent REAL
    );
    CREATE INDEX outbox_status ON outbox(status);
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started REAL NOT NULL,
        finished REAL,
        summary TEXT NOT NULL DEFAULT '',
        status INTEGER
    );
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


class State:
    """An open state database."""

    def __init__(self, path: Path, *, timeout: float = 10.0) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(self.path), timeout=timeout, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except (sqlite3.Error, OSError) as ex:
            raise StateError(f"cannot open the state database {self.path}: {_why(ex)}") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StateError(
                f"{self.path} has schema version {version}, newer than this reviewbot "
                f"({SCHEMA_VERSION}); upgrade reviewbot or use another [state] dir")
        for number in range(version, SCHEMA_VERSION):
            with self.transaction():
                for statement in _statements(MIGRATIONS[number]):
                    self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number + 1}")

    @contextlib.contextmanager
    def transaction(self):
        """BEGIN IMMEDIATE ... COMMIT; rolled back on any exception."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as ex:
            raise StateError(f"state database {self.path} is busy or unwritable: "
                             f"{_why(ex)}") from None
        try:
            yield self.db
            self.db.execute("COMMIT")
        except sqlite3.Error as ex:
            self._rollback()
            raise StateError(f"cannot write the state database {self.path}: {_why(ex)}") from None
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        try:
            self.db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # SQLite already rolled back (e.g. after SQLITE_FULL)

    def query(self, sql: str, *args) -> list[sqlite3.Row]:
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.Error as ex:
            raise StateError(f"cannot read the state database {self.path}: {_why(ex)}") from None

    def one(self, sql: str, *args):
        rows = self.query(sql, *args)
        if not rows:
            return None
        return rows[0][0] if len(rows[0]) == 1 else rows[0]

    # -- lists ------------------------------------------------------------
    def cursor(self, listname: str) -> float | None:
        return self.one("SELECT cursor FROM lists WHERE name = ?", listname)

    def set_cursor(self, db, listname: str, cursor: float) -> None:
        db.execute("INSERT INTO lists(name, cursor, polled) VALUES (?, ?, ?) "
                   "ON CONFLICT(name) DO UPDATE SET cursor = excluded.cursor, "
                   "polled = excluded.polled", (listname, cursor, time.time()))

    # -- runs -------------------------------------------------------------
    def start_run(self, started: float) -> int:
        with self.transaction() as db:
            return db.execute("INSERT INTO runs(started) VALUES (?)", (started,)).lastrowid

    def finish_run(self, run_id: int, summary: str, status: int) -> None:
        with self.transaction() as db:
            db.execute("UPDATE runs SET finished = ?, summary = ?, status = ? WHERE id = ?",
                       (time.time(), summary, status, run_id))


def utc(epoch: float | None, seconds: bool = True) -> str:
    """A stored epoch time for people: "2026-11-25 09:50:00 UTC", or "never"."""
    if epoch is None:
        return "never"
    fmt = "%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC"
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime(fmt)


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _why(ex: Exception) -> str:
    text = str(ex)
    if "readonly" in text or "read-only" in text:
        return text + " (is the [state] dir read-only?)"
    if "locked" in text or "busy" in text:
        return text + " (another process holds the database; [state] busy_timeout)"
    if "full" in text or "disk" in text:
        return text + " (is the disk full?)"
    return text
