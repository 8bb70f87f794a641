"""Fitting the model on the database's ratings, saving it, and recording the fit.

Used by `moviebot train`, by the bot's periodic refit (`RefitProcess`: in a child process,
moviebot/refit_worker.py, so the chat never waits for it and a shutdown can abandon it) and at
start-up when there is no saved model yet (the same child process: the bot and the console
answer while it fits; `FirstFit` for the console).
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlite_utils import Database
from threadpoolctl import threadpool_limits

from bot.telegram.redact import redact
from recommender import Model, ModelConfig, Ratings
from recommender.content import MovieContent
from recommender.errors import ModelFileError
from storage import fits
from storage.backup import remove_stale_partials
from storage.db import connect
from storage.imdb_catalog import last_catalog_change
from storage.movies import all_movie_ids, content_rows
from storage.ratings import count_rating_changes_since, count_ratings, ratings_arrays

log = logging.getLogger(__name__)

PROCESS_STARTED = time.time()  # (imported at the start of the command) for clean_leftovers


def fit_threads() -> int:
    """BLAS threads for a fit: every core this process may use but one, at least one.

    The core left over is the bot's: a refit runs beside the live bot (its event loop keeps a
    core busy under load), and OpenBLAS threads that find no free core spin and wait on each
    other (measured on 2 cores with one kept busy: a fit with two BLAS threads took 1.6x its
    time with one). So 1 thread on 2 cores, 3 on 4, 15 on 16."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


@dataclass(frozen=True)
class TrainResult:
    model: Model
    fit_id: int
    n_ratings: int
    seconds: float


def train(
    db_path: Path,
    model_path: Path,
    config: ModelConfig | None = None,
    *,
    engine: str = "local",
    master: str = "local[2]",
    workdir: str | None = None,
    threads: int | None = None,
) -> TrainResult:
    """Fit on every rating in the database, save atomically, record the fit; failures are
    recorded too and re-raised. `engine="spark"` fits the factors on Apache Spark (`master`)
    and serves them exactly like a local fit (recommender/spark_engine.py). The local fit
    uses `threads` BLAS threads (default `fit_threads()`)."""
    db = connect(db_path)
    try:
        user_ids, movie_ids, values = ratings_arrays(db)
        fit_id = fits.start_fit(db, len(values))
        started = time.perf_counter()
        try:
            ratings = Ratings(user_ids, movie_ids, values.astype(np.float64))
            catalog = np.asarray(all_movie_ids(db), dtype=np.int64)
            if engine == "spark":
                from recommender.spark_engine import fit_with_spark

                model = fit_with_spark(
                    ratings,
                    config,
                    master=master,
                    movie_ids=catalog,
                    workdir=workdir,
                    content=catalog_content(db),
                )
            else:
                with threadpool_limits(limits=threads or fit_threads(), user_api="blas"):
                    model = Model.fit(
                        ratings, config=config, movie_ids=catalog, content=catalog_content(db)
                    )
            model.save(model_path)
        except Exception as error:
            fits.fail_fit(db, fit_id, redact(f"{type(error).__name__}: {error}"))
            raise
        seconds = time.perf_counter() - started
        fits.finish_fit(
            db,
            fit_id,
            n_users=int(np.unique(user_ids).size),
            n_movies=len(model.movie_ids),
            scores={"fit_seconds": round(seconds, 3), "engine": engine},
            model_path=str(model_path),
        )
        log.info("fit %d: %d ratings in %.2f s", fit_id, len(values), seconds)
        return TrainResult(model, fit_id, len(values), seconds)
    finally:
        db.close()


def catalog_content(db: Database) -> MovieContent:
    """Every film's genres, year, runtime, directors and IMDb rating and votes: films nobody
    rated yet are recommended from them (recommender/content.py)."""
    rows = content_rows(db)
    return MovieContent.build(
        [r.id for r in rows],
        [r.genres for r in rows],
        [r.year for r in rows],
        runtime=[r.runtime for r in rows],
        directors=[r.directors for r in rows],
        prior_rating=[r.imdb_rating for r in rows],
        prior_votes=[r.imdb_votes for r in rows],
    )


@dataclass(frozen=True)
class Leftovers:
    """What `clean_leftovers` removed."""

    model_temp_files: list[Path]
    backup_partials: list[Path]
    interrupted_fits: int


def clean_leftovers(db_path: Path, model_path: Path, *, started: float | None = None) -> Leftovers:
    """Remove what a process killed mid-train or mid-backup left behind, at the start of
    `moviebot run` and `train`: the model's temp files next to `model_path` (written as
    ``NAME<random>.tmp``, then renamed: recommender/model_file.py), older than `started`
    (default: when this process started), backup partial copies beside the database
    (storage/backup.py), and fits still 'running' that began before `started`."""
    started = PROCESS_STARTED if started is None else started
    temp_files = []
    for path in model_path.parent.glob(f"{glob.escape(model_path.name)}*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < started:
                path.unlink()
                temp_files.append(path)
    partials = remove_stale_partials(db_path.parent)
    db = connect(db_path)
    try:
        since = datetime.fromtimestamp(started, UTC).isoformat(timespec="microseconds")
        interrupted = fits.interrupt_stale_fits(db, since)
    finally:
        db.close()
    for path in temp_files + partials:
        log.info("removed %s (left by a killed process)", path)
    if interrupted:
        log.info("marked %d unfinished fit(s) as interrupted", interrupted)
    return Leftovers(temp_files, partials, interrupted)


# A fit of the bundled catalog (100,836 ratings), the whole `moviebot train`, takes 6.5-9.2 CPU
# seconds with one BLAS thread (2026-12-05, bench/bench_train.py); the first fit's progress
# line is scaled from it.
FIT_SECONDS_PER_100K = 8.0


def expected_fit_seconds(db_path: Path) -> tuple[int, float]:
    """How many ratings a fit would use and about how long it takes: the last fit's time
    scaled to the ratings there are now, else `FIT_SECONDS_PER_100K`."""
    db = connect(db_path)
    try:
        n_ratings = count_ratings(db)
        last = fits.last_successful_fit(db)
    finally:
        db.close()
    seconds = (last.scores or {}).get("fit_seconds") if last else None
    if seconds and last.n_ratings:
        return n_ratings, float(seconds) * n_ratings / last.n_ratings
    return n_ratings, FIT_SECONDS_PER_100K * n_ratings / 100_000


def saved_model(model_path: Path) -> Model | None:
    """The saved model, or None when there is none or it is unusable (logged)."""
    if model_path.exists():
        try:
            return Model.load(model_path)
        except ModelFileError as error:
            log.warning("model file %s unusable (%s); refitting", model_path, error)
    return None


def load_or_train(db_path: Path, model_path: Path) -> Model:
    """The saved model if there is a usable one, else a fresh fit (a few seconds)."""
    return saved_model(model_path) or train(db_path, model_path).model


def refit_if_changed(db_path: Path, model_path: Path, *, force: bool = False) -> Model | None:
    """A new model fitted on the database's ratings and saved (as `train`), or None when
    neither a rating nor the catalog changed since the last fit (unless `force`: the model
    does not match the database): the bot's periodic refit."""
    if not force and not refit_needed(db_path):
        return None
    return train(db_path, model_path).model


def refit_needed(db_path: Path) -> bool:
    """Whether a refit would change the model: ratings changed since the last fit, or a
    catalog update was applied after it began (the new films get their content map only from
    a fit: recommender/content.py)."""
    if ratings_changed_since_last_fit(db_path):
        return True
    db = connect(db_path)
    try:
        last, changed = fits.last_successful_fit(db), last_catalog_change(db)
    finally:
        db.close()
    return last is not None and changed is not None and changed > last.started_at


def ratings_changed_since_last_fit(db_path: Path) -> int:
    """How many ratings a refit would pick up, deletions by /forget included (all of them when
    there was no fit)."""
    db = connect(db_path)
    try:
        last = fits.last_successful_fit(db)
        if last is None:
            return count_ratings(db)
        return count_rating_changes_since(db, last.started_at)
    finally:
        db.close()


class RefitFailed(Exception):
    """The refit process exited with an error (its own log lines say which)."""


# How moviebot.refit_worker tells the bot what happened.
REFITTED, UNCHANGED = 0, 3


class RefitProcess:
    """The bot's periodic refit (`refit_if_changed`) in a child process, so that a shutdown
    never waits for it: `abandon()` kills it (a 25M-rating refit takes minutes, more than the
    unit's TimeoutStopSec). The model is saved atomically by the child (temp file, then
    rename), so a kill leaves the old model file or the new one, never half of one; the fit it
    recorded as running is marked interrupted by `clean_leftovers` at the next start.

    Called in a worker thread (bot/telegram/app.py's Refitter): waits for the child, then loads
    the model it saved; None when nothing changed or the refit was abandoned. The child also
    exits when this process dies (its stdin closes).
    """

    def __init__(self, log_format: str = "text") -> None:
        self._log_format = log_format
        self._lock = threading.Lock()
        self._children: set[subprocess.Popen] = set()
        self._abandoned = False

    def __call__(self, db_path: Path, model_path: Path, *, force: bool = False) -> Model | None:
        if not force and not refit_needed(db_path):
            return None
        command = [sys.executable, "-m", "moviebot.refit_worker", str(db_path), str(model_path)]
        command += ["--force"] if force else []
        with self._lock:
            if self._abandoned:  # the bot is stopping
                return None
            child = subprocess.Popen(
                [*command, "--log-format", self._log_format], stdin=subprocess.PIPE
            )
            self._children.add(child)
        log.info("refit started (process %d)", child.pid)
        try:
            code = child.wait()
        finally:
            with self._lock:
                self._children.discard(child)
            if child.stdin is not None:
                child.stdin.close()
        if code == REFITTED:
            return Model.load(model_path)
        if code == UNCHANGED:
            return None
        if self._abandoned:
            log.info("refit abandoned at shutdown (process %d); the old model stays", child.pid)
            return None
        raise RefitFailed(f"refit process {child.pid} exited with {code}")

    def abandon(self) -> int:
        """Kill every refit in progress and start no more; returns how many were killed."""
        with self._lock:
            self._abandoned = True
            children = list(self._children)
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                child.kill()
        return len(children)


class FirstFit:
    """The first fit of a fresh database for the console, in the background: a thread waits
    for a `RefitProcess` child and offers the model to the service (`MovieService.offer_model`),
    which swaps it in at the next request; the console answers meanwhile."""

    def __init__(self, refit: Callable[..., Model | None] | None = None) -> None:
        """Fit with `refit` (default: a `RefitProcess`, called with force=True)."""
        self.refit = refit or RefitProcess()
        self._thread: threading.Thread | None = None

    def start(self, db_path: Path, model_path: Path, deliver: Callable[[Model], None]) -> None:
        """Start fitting; `deliver` gets the model (in the fit's thread) when it is saved."""

        def run() -> None:
            try:
                model = self.refit(db_path, model_path, force=True)
            except Exception:
                log.exception("the first fit failed; the best-rated lists keep serving")
                return
            if model is not None:
                deliver(model)

        self._thread = threading.Thread(target=run, name="first-fit", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self) -> None:
        """Wait for the fit to end (the model saved, so the next start loads it)."""
        if self._thread is not None:
            self._thread.join()

    def abandon(self) -> None:
        """Stop the fit (its child process is killed): nothing is saved."""
        if isinstance(self.refit, RefitProcess):
            self.refit.abandon()
