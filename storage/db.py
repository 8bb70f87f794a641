"""Opening the database: pragmas, migrations, and the guard against newer schemas."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from storage.errors import SchemaError
from storage.schema import migration_names, migrations


def default_db_path() -> Path:
    """$MOVIEBOT_DB, else moviebot.db in the user's data directory (XDG on Linux)."""
    if env := os.environ.get("MOVIEBOT_DB"):
        return Path(env)
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "moviebot" / "moviebot.db"


def utc_now() -> str:
    """The current time as ISO-8601 UTC text, the format every timestamp column holds."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def seconds_since(timestamp: str | None) -> float:
    """Seconds from a timestamp column's value to now; 0 for None."""
    if timestamp is None:
        return 0.0
    return max(0.0, (datetime.now(UTC) - datetime.fromisoformat(timestamp)).total_seconds())


def connect(path: str | Path, *, migrate: bool = True) -> Database:
    """Open (creating if needed) the database at `path` and bring its schema up to date.

    WAL lets readers run while one writer writes; synchronous=FULL makes a committed write
    survive a power cut, so whatever the bot has acknowledged is on disk.
    """
    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # The bot opens the connection in one thread and uses it from its single DB thread.
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
    except sqlite3.DatabaseError as error:
        raise SchemaError(f"{path} is not a SQLite database ({error})") from error
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    db = Database(conn)
    _refuse_newer_schema(db, path)
    if migrate:
        migrations.apply(db)
    return db


def truncate_wal(db: Database) -> bool:
    """Copy the write-ahead log into the database file and empty it (a TRUNCATE checkpoint),
    so no old frame keeps rows deleted since (after /forget); False when a reader kept it
    from finishing, or the connection is inside a transaction (then call it after commit)."""
    if db.conn.in_transaction:
        return False
    (busy, _, _) = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return busy == 0


def connect_read_only(path: str | Path) -> Database:
    """Open the existing database at `path` for reading only: no migration, no file created
    (sqlite3.OperationalError when it is missing); for metrics and health checks, beside a
    running bot."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    return Database(sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30))


def _refuse_newer_schema(db: Database, path: Path) -> None:
    known = set(migration_names())
    unknown = [m.name for m in migrations.applied(db) if m.name not in known]
    if unknown:
        raise SchemaError(
            f"{path} was written by a newer moviebot (migrations {', '.join(unknown)}); "
            "upgrade moviebot to open it"
        )


def schema_version(db: Database) -> int:
    """How many of this code's migrations the database has applied."""
    return len(migrations.applied(db))
