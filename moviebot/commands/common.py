"""What the `moviebot` commands share: their error, printing (text or --json), the database,
the model path and the service."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlite_utils import Database

from moviebot.paths import bundled_dataset, model_path_for
from moviebot.progress import FitProgress, ProgressBar
from storage.db import connect
from storage.movielens import import_movielens
from storage.movies import count_movies

if TYPE_CHECKING:
    pass


class CommandError(Exception):
    """A problem the person running the command can fix; printed as one line."""


def emit(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2) if args.json else text)


def open_db(args: argparse.Namespace) -> Database:
    return connect(Path(args.db))


def ensure_catalog(db: Database) -> None:
    """Import the bundled MovieLens catalog into an empty database."""
    if count_movies(db) == 0:
        print("Importing the bundled MovieLens catalog (first run)...", file=sys.stderr)
        import_movielens(db, bundled_dataset(), ProgressBar())


def model_path_of(args: argparse.Namespace) -> Path:
    path = Path(args.model) if getattr(args, "model", None) else model_path_for(Path(args.db))
    if not path.parent.is_dir():
        raise CommandError(f"the model's folder {path.parent} does not exist")
    return path


def open_service(args: argparse.Namespace, *, wait: bool = True):
    """The database (initialised on first use) and the saved model, or a fresh fit; with
    `wait=False` no model (None) when there is none yet: the caller fits in the background
    (`moviebot chat` and `run` answer meanwhile)."""
    from bot.service import MovieService
    from moviebot.training import saved_model, train

    db = open_db(args)
    ensure_catalog(db)
    model_path = model_path_of(args)
    model = saved_model(model_path)
    if model is None and wait:
        with fit_progress(Path(args.db), "first run"):
            model = train(Path(args.db), model_path).model
    return MovieService(db, model)


def fit_progress(db_path: Path, why: str) -> FitProgress:
    """Say that a fit starts, how big it is and how long it usually takes; a progress line
    follows on a terminal."""
    from moviebot.training import expected_fit_seconds

    n_ratings, seconds = expected_fit_seconds(db_path)
    print(
        f"Fitting the model on {n_ratings:,} ratings ({why}; usually about {seconds:.0f} s)...",
        file=sys.stderr,
    )
    return FitProgress(n_ratings, seconds)


def duration(seconds: float) -> str:
    """A rough human duration: 42 s, 17 min, 5.2 h, 3.0 days."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"
