"""Online backups: a consistent copy of the live database while the bot keeps writing.

SQLite's backup API (``sqlite3.Connection.backup``) copies every page inside one read
transaction. In WAL mode that transaction sees one committed snapshot and does not block
writers, so the copy holds exactly the ratings committed before it started, never half of a
transaction. Copying the file with ``cp`` instead can tear: the newest commits live in the
``-wal`` file until a checkpoint moves them into the main file.

The copy is written beside the target under a temporary name, switched from WAL to a rollback
journal (a backup is one self-contained file, no ``-wal``/``-shm`` next to it), checked with
``PRAGMA quick_check``, flushed to disk and only then renamed into place, so a file at the
target path is always a complete backup. Restoring is in deploy/README.md.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from storage.errors import StorageError

PARTIAL_MARK = ".partial-"  # a copy in progress: .NAME.partial-PID beside the target
STALE_PARTIAL_SECONDS = 24 * 3600


class BackupError(StorageError):
    """The database could not be backed up (missing, not SQLite, target exists, disk full)."""


def backup_name(db_path: Path, now: datetime | None = None) -> str:
    """The file name a backup into a directory gets: moviebot-20250130T031500Z.db."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{db_path.stem}-{stamp}.db"


def backup_database(
    source: str | Path | Database, target: str | Path, *, overwrite: bool = False
) -> Path:
    """Copy the database `source` to `target` consistently while others write; return the path.

    `source` is the database file (opened with a connection of its own: the way to back up
    the database of a running bot from another process) or an open Database, used only from
    the thread that owns it. `target` is a file, or an existing directory that then receives
    ``NAME-YYYYmmddTHHMMSSZ.db``. An existing target file is an error unless `overwrite`.
    """
    if isinstance(source, Database):
        source_conn, label, owned = source.conn, "the open database", False
    else:
        source_path = Path(source)
        if not source_path.is_file():
            raise BackupError(f"{source_path} does not exist (nothing to back up)")
        label, owned = str(source_path), True
        try:
            # Not storage.db.connect: a backup must not migrate or otherwise change the source.
            source_conn = sqlite3.connect(str(source_path), timeout=30)
        except sqlite3.Error as error:
            raise BackupError(f"cannot open {source_path}: {error}") from error

    target = Path(target)
    if target.is_dir():
        target = target / backup_name(_source_file(source_conn, label))
    if target.exists() and not overwrite:
        raise BackupError(f"{target} already exists; pass overwrite to replace it")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} is not a directory")

    remove_stale_partials(target.parent)
    partial = target.with_name(f".{target.name}{PARTIAL_MARK}{os.getpid()}")
    try:
        _copy(source_conn, label, partial)
        os.replace(partial, target)
        _fsync_directory(target.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        if owned:
            source_conn.close()
    return target


def remove_stale_partials(directory: Path, *, max_age: float = STALE_PARTIAL_SECONDS) -> list[Path]:
    """Delete the ``.NAME.partial-PID`` copies that killed backups left in `directory`: those
    whose process is gone, and any older than `max_age` seconds (a reused pid). Return them."""
    removed = []
    now = time.time()
    for path in Path(directory).glob(f".*{PARTIAL_MARK}*"):
        pid_text = path.name.rpartition(PARTIAL_MARK)[2]
        try:
            old = now - path.stat().st_mtime > max_age
        except FileNotFoundError:
            continue
        if not (old or not pid_text.isdigit() or not _process_alive(int(pid_text))):
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    except OSError:
        return False
    return True


def _copy(source_conn: sqlite3.Connection, label: str, partial: Path) -> None:
    """Copy every page in one step (one snapshot), make the copy self-contained and check it."""
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()  # left behind by a killed backup with this pid
    try:
        destination = sqlite3.connect(str(partial))
    except sqlite3.Error as error:
        raise BackupError(f"cannot create {partial}: {error}") from error
    try:
        # pages=-1: all pages in a single step. Stepping in chunks would let a writer's
        # commit in between restart the copy from the beginning, possibly forever.
        source_conn.backup(destination, pages=-1)
        destination.execute("PRAGMA journal_mode=DELETE")
        (verdict,) = destination.execute("PRAGMA quick_check").fetchone()
        if verdict != "ok":
            raise BackupError(f"the copy of {label} failed its integrity check: {verdict}")
    except sqlite3.Error as error:
        raise BackupError(f"cannot back up {label}: {error}") from error
    except OSError as error:
        raise BackupError(f"cannot write {partial}: {error}") from error
    finally:
        destination.close()
    # sqlite syncs at commit; this makes sure the bytes are on disk before the rename.
    with open(partial, "rb+") as copied:
        os.fsync(copied.fileno())


def _source_file(conn: sqlite3.Connection, label: str) -> Path:
    """The file behind the connection's main database (for naming a backup)."""
    for _, name, filename in conn.execute("PRAGMA database_list"):
        if name == "main" and filename:
            return Path(filename)
    raise BackupError(f"{label} is an in-memory database; give a file name as the target")


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
