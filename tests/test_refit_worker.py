"""The bot's refit in a child process (moviebot.refit_worker through training.RefitProcess)."""

from __future__ import annotations

from pathlib import Path

from moviebot.training import RefitProcess
from recommender import Model


def test_a_refit_in_its_process_returns_the_new_model(tutorial_db, tmp_path: Path) -> None:
    db_path = Path(tutorial_db.conn.execute("PRAGMA database_list").fetchone()[2])
    model_path = tmp_path / "model.npz"
    # The bot holds the child's stdin open until it exits: the child must still exit cleanly.
    model = RefitProcess()(db_path, model_path)
    assert isinstance(model, Model)
    assert model_path.exists()


def test_a_forced_refit_runs_when_nothing_changed(tutorial_db, tmp_path: Path) -> None:
    """The bot forces a refit when its model knows films the database lacks (the Refitter
    passes force=True): the process refits even though no rating changed."""
    db_path = Path(tutorial_db.conn.execute("PRAGMA database_list").fetchone()[2])
    model_path = tmp_path / "model.npz"
    refit = RefitProcess()
    assert isinstance(refit(db_path, model_path), Model)
    assert refit(db_path, model_path) is None  # nothing changed since
    assert isinstance(refit(db_path, model_path, force=True), Model)
