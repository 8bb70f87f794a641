"""The schema: created on open, migrated forward from older versions, newer ones refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from storage.db import connect, schema_version
from storage.errors import SchemaError
from storage.ratings import user_ratings
from storage.schema import migration_names, migrations


def test_new_database_gets_every_table_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    db = connect(tmp_path / "new.db")
    assert {"movies", "users", "ratings", "chat_members", "model_fits", "datasets"} <= set(
        db.table_names()
    )
    assert schema_version(db) == len(migration_names())
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_database_from_an_older_version_is_migrated_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = Database(sqlite3.connect(path))
    migrations.apply(old, stop_before=migration_names()[1])
    assert "user_state" not in old.table_names()
    old.execute("INSERT INTO movies (id, title, genres, source_title) VALUES (1, 'Ted', '', 'Ted')")
    old.execute("INSERT INTO users (id, created_at) VALUES (42, 'then')")
    old.execute(
        "INSERT INTO ratings VALUES (42, 1, 8, 'then', 'then')",
    )
    old.conn.commit()
    old.close()

    db = connect(path)
    assert "user_state" in db.table_names()
    assert schema_version(db) == len(migration_names())
    assert user_ratings(db, 42) == {1: 8}


def test_opening_twice_applies_nothing_new(tmp_path: Path) -> None:
    connect(tmp_path / "a.db").close()
    db = connect(tmp_path / "a.db")
    assert [m.name for m in migrations.applied(db)] == migration_names()


def test_database_from_a_newer_moviebot_is_refused(tmp_path: Path) -> None:
    db = connect(tmp_path / "future.db")
    db["_sqlite_migrations"].insert(
        {"migration_set": "moviebot", "name": "9999_from_the_future", "applied_at": "later"}
    )
    db.close()
    with pytest.raises(SchemaError, match="newer moviebot"):
        connect(tmp_path / "future.db")


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database" * 100)
    with pytest.raises(SchemaError, match="not a SQLite database"):
        connect(path)
    assert path.read_text().startswith("these are my notes")
