"""The state database: migrations, schema version, and what a broken one says."""

import sqlite3

import pytest

from bot.errors import StateError
from bot.state import SCHEMA_VERSION, State


def test_new_database_gets_every_migration(tmp_path):
    with State(tmp_path / "s.db") as state:
        assert state.one("PRAGMA user_version") == SCHEMA_VERSION
        tables = {r[0] for r in state.query("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"lists", "messages", "series", "findings", "outbox", "runs"} <= tables


def test_reopening_keeps_the_data(tmp_path):
    with State(tmp_path / "s.db") as state, state.transaction() as db:
        state.set_cursor(db, "kvm", 123.0)
    with State(tmp_path / "s.db") as state:
        assert state.cursor("kvm") == 123.0


def test_newer_schema_is_refused(tmp_path):
    conn = sqlite3.connect(str(tmp_path / "s.db"))
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StateError, match="newer than this reviewbot"):
        State(tmp_path / "s.db")


def test_a_file_that_is_not_a_database(tmp_path):
    (tmp_path / "s.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StateError, match="cannot open the state database"):
        State(tmp_path / "s.db")


def test_a_failed_transaction_leaves_nothing(tmp_path):
    with State(tmp_path / "s.db") as state:
        with pytest.raises(StateError), state.transaction() as db:
            state.set_cursor(db, "kvm", 1.0)
            db.execute("INSERT INTO no_such_table VALUES (1)")
        assert state.cursor("kvm") is None
