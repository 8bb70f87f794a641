"""What a kill -9 during `moviebot train` or `moviebot backup` leaves is cleaned at the next start.

Leftovers made by hand, as a killed process leaves them, in real files and a real SQLite file:
the model's ``NAME<random>.tmp`` (recommender/model_file.py writes there, then renames), a
backup's ``.NAME.partial-PID`` copy (storage/backup.py) and a fit row still 'running'.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from devtools import PATIENCE
from devtools.bot_process import start_bot
from moviebot.cli import main
from moviebot.training import clean_leftovers
from storage import fits
from storage.db import connect

HOUR_AGO = time.time() - 3600


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _leave(path: Path, mtime: float = HOUR_AGO) -> Path:
    path.write_bytes(b"half a file")
    os.utime(path, (mtime, mtime))
    return path


def _db_path(tmp_path: Path, name: str = "bot.db") -> Path:
    path = tmp_path / name
    connect(path).close()
    return path


def test_stale_model_temp_files_are_removed_and_nothing_else(tmp_path):
    db_path = _db_path(tmp_path)
    model = tmp_path / "bot.model.npz"
    stale = _leave(tmp_path / "bot.model.npzx8k2_q1a.tmp")
    fresh = _leave(tmp_path / "bot.model.npzfresh123.tmp", mtime=time.time() + 60)
    other = _leave(tmp_path / "other.model.npzab12cd34.tmp")
    model_itself = _leave(model)

    left = clean_leftovers(db_path, model, started=time.time())

    assert left.model_temp_files == [stale]
    assert not stale.exists()
    assert fresh.exists() and other.exists() and model_itself.exists()


def test_running_fits_from_before_the_start_become_interrupted(tmp_path):
    db_path = _db_path(tmp_path)
    db = connect(db_path)
    try:
        killed = fits.start_fit(db, 10)
        started = time.time()
        time.sleep(0.01)
        current = fits.start_fit(db, 20)

        assert clean_leftovers(db_path, tmp_path / "m.npz", started=started).interrupted_fits == 1

        by_id = {fit.id: fit for fit in fits.recent_fits(db)}
        assert (by_id[killed].status, by_id[killed].error) == ("failed", "interrupted")
        assert by_id[killed].finished_at is not None
        assert by_id[current].status == "running"
    finally:
        db.close()


def test_partial_backups_of_dead_processes_are_removed(tmp_path):
    db_path = _db_path(tmp_path)
    dead = _leave(tmp_path / f".bot-20250130T031500Z.db.partial-{_dead_pid()}")
    ancient = _leave(tmp_path / f".bot-x.db.partial-{os.getppid()}", mtime=time.time() - 2 * 86400)
    live = _leave(tmp_path / f".bot-y.db.partial-{os.getppid()}")  # a backup still copying
    backup = _leave(tmp_path / "bot-20250130T031500Z.db")

    left = clean_leftovers(db_path, tmp_path / "bot.model.npz", started=time.time())

    assert sorted(left.backup_partials) == sorted([dead, ancient])
    assert not dead.exists() and not ancient.exists()
    assert live.exists() and backup.exists()


def test_moviebot_train_cleans_up_before_fitting(tmp_path, tutorial_db, capsys, monkeypatch):
    db_path = Path(tutorial_db.conn.execute("PRAGMA database_list").fetchone()[2])
    killed = fits.start_fit(tutorial_db, 5)
    time.sleep(0.01)
    # This test runs in pytest's process: `moviebot train` "starts" now, after the killed fit.
    monkeypatch.setattr("moviebot.training.PROCESS_STARTED", time.time())
    model = tmp_path / "tutorial.model.npz"
    stale = _leave(tmp_path / "tutorial.model.npzk1ll3d00.tmp")
    partial = _leave(tmp_path / f".tutorial-1.db.partial-{_dead_pid()}")

    assert main(["train", "--db", str(db_path), "--model", str(model)]) == 0

    assert not stale.exists() and not partial.exists() and model.exists()
    statuses = {fit.id: fit.status for fit in fits.recent_fits(tutorial_db)}
    assert statuses[killed] == "failed"
    assert list(statuses.values()).count("ok") == 1


def test_moviebot_run_cleans_up_at_start(tmp_path, catalog_db_path, catalog_model_path):
    db = connect(catalog_db_path)
    killed = fits.start_fit(db, 5)
    db.close()
    stale = _leave(catalog_model_path.parent / f"{catalog_model_path.name}run0dead.tmp")
    partial = _leave(catalog_db_path.parent / f".catalog-1.db.partial-{_dead_pid()}")

    # A closed port: the bot cleans up, then fails to reach the API and exits.
    bot = start_bot(
        "http://127.0.0.1:9",
        catalog_db_path,
        catalog_model_path,
        refit_minutes=0,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    _, err = bot.communicate(timeout=PATIENCE)

    assert bot.returncode == 1, err
    assert not stale.exists() and not partial.exists()
    db = connect(catalog_db_path)
    try:
        (fit,) = [fit for fit in fits.recent_fits(db) if fit.id == killed]
        assert (fit.status, fit.error) == ("failed", "interrupted")
    finally:
        db.close()
