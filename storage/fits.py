"""The record of model fits: when, on how many ratings, with what scores, and failures."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from storage.db import utc_now
from storage.validate import check_id


@dataclass(frozen=True)
class Fit:
    id: int
    started_at: str
    finished_at: str | None
    status: str
    n_ratings: int
    n_users: int | None
    n_movies: int | None
    scores: dict[str, Any]
    model_path: str | None
    error: str | None


def start_fit(db: Database, n_ratings: int) -> int:
    """Record that a fit began; return its id."""
    check_id(n_ratings, "n_ratings")
    with db.atomic():
        cursor = db.execute(
            "INSERT INTO model_fits (started_at, status, n_ratings) VALUES (?, 'running', ?)",
            [utc_now(), n_ratings],
        )
    return cursor.lastrowid


def finish_fit(
    db: Database,
    fit_id: int,
    *,
    n_users: int,
    n_movies: int,
    scores: dict[str, Any],
    model_path: str | None,
) -> None:
    with db.atomic():
        db.execute(
            """
            UPDATE model_fits SET finished_at = ?, status = 'ok', n_users = ?, n_movies = ?,
                scores = ?, model_path = ?
            WHERE id = ?
            """,
            [utc_now(), n_users, n_movies, json.dumps(scores), model_path, fit_id],
        )


def fail_fit(db: Database, fit_id: int, error: str) -> None:
    with db.atomic():
        db.execute(
            "UPDATE model_fits SET finished_at = ?, status = 'failed', error = ? WHERE id = ?",
            [utc_now(), error[:2000], fit_id],
        )


def interrupt_stale_fits(db: Database, started_before: str) -> int:
    """Mark as failed ("interrupted") every fit still 'running' that started before
    `started_before` (ISO-8601 UTC, like utc_now): a process killed mid-fit leaves its row
    running for ever. Return how many were marked."""
    with db.atomic():
        cursor = db.execute(
            """
            UPDATE model_fits SET finished_at = ?, status = 'failed', error = 'interrupted'
            WHERE status = 'running' AND started_at < ?
            """,
            [utc_now(), started_before],
        )
    return cursor.rowcount


def _fit(row: tuple) -> Fit:
    *head, scores, model_path, error = row
    return Fit(*head, json.loads(scores) if scores else {}, model_path, error)


_COLUMNS = (
    "id, started_at, finished_at, status, n_ratings, n_users, n_movies, scores, model_path, error"
)


def last_successful_fit(db: Database) -> Fit | None:
    row = db.execute(
        f"SELECT {_COLUMNS} FROM model_fits WHERE status = 'ok' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return _fit(row) if row else None


def recent_fits(db: Database, limit: int = 10) -> list[Fit]:
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM model_fits ORDER BY id DESC LIMIT ?", [limit]
    ).fetchall()
    return [_fit(row) for row in rows]
