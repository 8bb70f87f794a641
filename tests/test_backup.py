"""Online backups of the live database, and restoring one the way deploy/README.md says."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlite_utils import Database

from devtools.catalog import FROZEN, TED
from devtools.paths import DEPLOY
from devtools.systemd import expand, unit_service
from storage import ratings, users
from storage.backup import BackupError, backup_database, backup_name
from storage.db import connect
from storage.errors import StorageError

WRITER_IDS = 700_000  # users the writer thread creates, each with exactly two ratings


def restore(backup: Path, db_path: Path) -> None:
    """deploy/README.md, "Restore", with the service stopped: copy, drop -wal/-shm, start."""
    shutil.copyfile(backup, db_path)  # cp BACKUP /var/lib/moviebot/moviebot.db
    for suffix in ("-wal", "-shm"):  # rm -f /var/lib/moviebot/moviebot.db-wal ...-shm
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)


def write_then_crash(db_path: Path, statements: str) -> None:
    """Run `statements` (given db, users, ratings) in a process that dies like kill -9 would:
    without closing the database, so the new commits stay in its -wal file."""
    script = (
        "import os, sys\n"
        "from storage import ratings, users\n"
        "from storage.db import connect\n"
        "db = connect(sys.argv[1])\n"
        f"{statements}\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(db_path)], check=True)


def integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return "\n".join(row[0] for row in conn.execute("PRAGMA integrity_check"))
    finally:
        conn.close()


def writer_pairs(db: Database) -> dict[int, int]:
    """How many ratings each of the writer's users has."""
    rows = db.execute(
        "SELECT u.id, count(r.movie_id) FROM users u LEFT JOIN ratings r ON r.user_id = u.id "
        "WHERE u.id >= ? GROUP BY u.id",
        [WRITER_IDS],
    ).fetchall()
    return dict(rows)


class Writer(threading.Thread):
    """Keeps committing transactions of three rows (a user and two ratings) until stopped."""

    def __init__(self, db_path: Path) -> None:
        super().__init__(name="writer", daemon=True)
        self.db_path = db_path
        self.committed = 0
        self.progress = threading.Condition()
        self.stopping = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        db = connect(self.db_path)
        try:
            while not self.stopping.is_set():
                user_id = WRITER_IDS + self.committed
                with db.atomic():
                    users.save_user(db, user_id, f"writer {user_id}")
                    ratings.set_rating(db, user_id, TED, 8)
                    ratings.set_rating(db, user_id, FROZEN, 9)
                with self.progress:
                    self.committed += 1
                    self.progress.notify_all()
        except BaseException as error:  # reported by the test
            self.error = error
        finally:
            db.close()

    def wait_for(self, count: int, timeout: float = 10) -> int:
        with self.progress:
            if not self.progress.wait_for(lambda: self.committed >= count, timeout):
                raise AssertionError(f"the writer committed only {self.committed} transactions")
            return self.committed

    def finish(self) -> int:
        self.stopping.set()
        self.join(10)
        if self.error is not None:
            raise self.error
        return self.committed


def test_backup_while_another_thread_writes_is_a_valid_consistent_snapshot(
    catalog_db_path: Path, tmp_path: Path
) -> None:
    writer = Writer(catalog_db_path)
    writer.start()
    try:
        before = writer.wait_for(20)
        target = backup_database(catalog_db_path, tmp_path / "backup.db")
        during = writer.committed
        writer.wait_for(during + 20)  # the backup did not stop the writer
    finally:
        after = writer.finish()

    assert target == tmp_path / "backup.db"
    assert integrity(target) == "ok"
    copy = connect(target, migrate=False)
    try:
        pairs = writer_pairs(copy)
        # A snapshot: whole transactions only, a prefix of the writer's, taken during the run.
        assert set(pairs.values()) == {2}
        assert sorted(pairs) == list(range(WRITER_IDS, WRITER_IDS + len(pairs)))
        assert before <= len(pairs) <= during < after
        assert copy.execute("SELECT count(*) FROM movies").fetchone()[0] == 9742
    finally:
        copy.close()


def test_a_backup_is_one_self_contained_file(catalog_db_path: Path, tmp_path: Path) -> None:
    live = connect(catalog_db_path)
    users.save_user(live, 501, "Ann")
    ratings.set_rating(live, 501, TED, 8)  # committed, still only in the -wal file
    target = backup_database(catalog_db_path, tmp_path / "backup.db")
    live.close()

    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("backup")) == [
        "backup.db"
    ]
    conn = sqlite3.connect(target)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("SELECT rating FROM ratings WHERE user_id = 501").fetchall() == [(8,)]
    finally:
        conn.close()


def test_restoring_a_backup_as_documented_brings_back_exactly_its_data(
    catalog_db_path: Path, tmp_path: Path
) -> None:
    live = connect(catalog_db_path)
    users.save_user(live, 501, "Ann")
    ratings.set_rating(live, 501, TED, 8)
    backup = backup_database(live, tmp_path / "backup.db")
    live.close()
    # After the backup the bot rates on, then dies without a checkpoint: its -wal stays behind.
    write_then_crash(
        catalog_db_path,
        f"ratings.set_rating(db, 501, {TED}, 2); ratings.set_rating(db, 501, {FROZEN}, 3)",
    )
    assert Path(f"{catalog_db_path}-wal").stat().st_size > 0

    restore(backup, catalog_db_path)

    db = connect(catalog_db_path)
    try:
        assert ratings.user_ratings(db, 501) == {TED: 8}
        assert users.get_user(db, 501).display_name == "Ann"
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        db.close()


def test_restoring_without_removing_the_old_wal_silently_replays_newer_writes(
    tmp_path: Path,
) -> None:
    """Why the README says to delete -wal and -shm: SQLite would apply them to the copy."""
    db_path = tmp_path / "moviebot.db"
    live = connect(db_path)
    users.save_user(live, 501, "Ann")
    backup = backup_database(live, tmp_path / "backup.db")
    live.close()
    write_then_crash(db_path, "users.save_user(db, 502, 'Bob')")

    shutil.copyfile(backup, db_path)  # the -wal and -shm left in place

    db = connect(db_path)
    try:
        assert [row[0] for row in db.execute("SELECT id FROM users ORDER BY id")] == [501, 502]
    finally:
        db.close()


def test_backup_refuses_to_overwrite_an_existing_file_unless_asked(
    db: Database, tmp_path: Path
) -> None:
    target = tmp_path / "backup.db"
    target.write_text("yesterday's backup")

    with pytest.raises(BackupError, match="already exists"):
        backup_database(db, target)
    assert target.read_text() == "yesterday's backup"
    assert [p.name for p in tmp_path.iterdir() if "backup" in p.name] == ["backup.db"]

    users.save_user(db, 501, "Ann")
    assert backup_database(db, target, overwrite=True) == target
    assert integrity(target) == "ok"


def test_backup_into_a_directory_names_the_file_after_the_database_and_time(
    db: Database, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()

    first = backup_database(tmp_path / "test.db", folder)

    assert first.parent == folder
    assert first.name.startswith("test-") and first.name.endswith("Z.db")
    assert backup_name(Path("/x/moviebot.db"), datetime(2025, 1, 30, 3, 15, tzinfo=UTC)) == (
        "moviebot-20250130T031500Z.db"
    )
    assert integrity(first) == "ok"


@pytest.mark.parametrize(
    ("make_source", "message"),
    [
        (lambda tmp: tmp / "missing.db", "does not exist"),
        (lambda tmp: tmp / "folder", "does not exist"),
        (lambda tmp: tmp / "notes.txt", "not a database"),
    ],
    ids=["missing", "directory", "not-sqlite"],
)
def test_backup_of_something_that_is_not_a_database_is_a_backup_error(
    tmp_path: Path, make_source, message: str
) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "notes.txt").write_text("not a database, just text long enough " * 40)
    target = tmp_path / "out" / "backup.db"
    target.parent.mkdir()
    source = make_source(tmp_path)

    with pytest.raises(BackupError, match=message) as raised:
        backup_database(source, target)

    assert isinstance(raised.value, StorageError)  # the CLI prints it as one "Error:" line
    assert list(target.parent.iterdir()) == []  # no empty or partial file left behind
    assert not (tmp_path / "missing.db").exists()  # and no empty database created


def test_a_backup_removes_the_partial_copies_killed_backups_left_in_its_directory(
    db: Database, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # a pid whose process is gone, like a backup killed with -9
    killed = folder / f".test-20250130T031500Z.db.partial-{child.pid}"
    killed.write_bytes(b"half a copy")
    running = folder / f".test-20250130T031501Z.db.partial-{os.getppid()}"
    running.write_bytes(b"a copy in progress")  # its process is alive: not ours to delete

    made = backup_database(db, folder)

    assert sorted(p.name for p in folder.iterdir()) == sorted([made.name, running.name])
    assert integrity(made) == "ok"


def test_backup_into_a_missing_directory_is_a_backup_error(db: Database, tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="is not a directory"):
        backup_database(db, tmp_path / "nowhere" / "backup.db")


def test_the_backup_unit_backs_up_the_live_database_into_the_backup_directory(
    catalog_db_path: Path, tmp_path: Path
) -> None:
    from moviebot.cli import build_parser

    try:
        build_parser().parse_args(["backup", "--help"])
    except SystemExit as exit:
        if exit.code != 0:
            pytest.skip("`moviebot backup` is not a CLI command yet")
    defaults, exec_start = unit_service(DEPLOY / "moviebot-backup.service")
    backups = tmp_path / "backups"
    backups.mkdir()
    argv = expand(exec_start, {**defaults, "MOVIEBOT_DB": str(catalog_db_path)})
    assert argv[:2] == ["/opt/moviebot/venv/bin/moviebot", "backup"]
    argv = [arg.replace("/var/backups/moviebot", str(backups)) for arg in argv[1:]]

    done = subprocess.run(
        [sys.executable, "-m", "moviebot", *argv], capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    (backup,) = backups.iterdir()
    assert backup.name.startswith("catalog-") and backup.name.endswith("Z.db")
    assert done.stdout.strip() == f"Backed up {catalog_db_path} to {backup}."
    assert integrity(backup) == "ok"
