"""A fit's BLAS threads (moviebot.training.fit_threads): all cores but the bot's, at least one."""

from __future__ import annotations

from pathlib import Path

from threadpoolctl import threadpool_info

from moviebot import training
from recommender import Model


def test_a_fit_leaves_one_core_to_the_bot(monkeypatch) -> None:
    for cores, threads in ((1, 1), (2, 1), (4, 3), (16, 15)):
        monkeypatch.setattr(training.os, "sched_getaffinity", lambda _pid, n=cores: set(range(n)))
        assert training.fit_threads() == threads


def test_train_fits_with_that_many_blas_threads(tutorial_db, monkeypatch, tmp_path: Path) -> None:
    seen: list[int] = []
    fit = Model.fit

    def fit_and_look(*args, **kwargs):
        seen.extend(pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas")
        return fit(*args, **kwargs)

    monkeypatch.setattr(Model, "fit", fit_and_look)
    monkeypatch.setattr(training, "fit_threads", lambda: 3)  # not OpenBLAS's default here
    db_path = Path(tutorial_db.conn.execute("PRAGMA database_list").fetchone()[2])
    training.train(db_path, tmp_path / "model.npz")
    assert seen and set(seen) == {3}
