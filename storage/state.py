"""Per-user conversation state and hidden movies, kept in SQLite so a restart loses nothing."""

from __future__ import annotations

import json
from typing import Any

from sqlite_utils import Database

from storage.db import utc_now
from storage.errors import InvalidArgument
from storage.movies import require_movie
from storage.users import require_user
from storage.validate import check_id

MAX_STATE_BYTES = 64 * 1024


def get_state(db: Database, user_id: int) -> dict[str, Any]:
    """The user's conversation state; {} when there is none."""
    check_id(user_id, "user id")
    row = db.execute("SELECT state FROM user_state WHERE user_id = ?", [user_id]).fetchone()
    return json.loads(row[0]) if row else {}


def set_state(db: Database, user_id: int, state: dict[str, Any]) -> None:
    """Replace the user's conversation state (an empty dict clears it)."""
    check_id(user_id, "user id")
    if not isinstance(state, dict):
        raise InvalidArgument("state must be a dict")
    text = json.dumps(state)
    if len(text) > MAX_STATE_BYTES:
        raise InvalidArgument("state is too large")
    with db.atomic():
        if not state:
            db.execute("DELETE FROM user_state WHERE user_id = ?", [user_id])
            return
        require_user(db, user_id)
        db.execute(
            """
            INSERT INTO user_state (user_id, state, updated_at) VALUES (?, ?, ?)
            ON CONFLICT (user_id) DO UPDATE SET state = excluded.state,
                updated_at = excluded.updated_at
            """,
            [user_id, text, utc_now()],
        )


def hide_movie(db: Database, user_id: int, movie_id: int) -> None:
    """Keep this movie out of the user's recommendations."""
    check_id(user_id, "user id")
    check_id(movie_id, "movie id")
    with db.atomic():
        require_user(db, user_id)
        require_movie(db, movie_id)
        db.execute(
            "INSERT OR IGNORE INTO hidden_movies (user_id, movie_id, hidden_at) VALUES (?, ?, ?)",
            [user_id, movie_id, utc_now()],
        )


def hidden_movies(db: Database, user_id: int) -> set[int]:
    check_id(user_id, "user id")
    rows = db.execute("SELECT movie_id FROM hidden_movies WHERE user_id = ?", [user_id])
    return {row[0] for row in rows}


def unhide_movie(db: Database, user_id: int, movie_id: int) -> bool:
    """Let this movie back into the user's recommendations; return whether it was hidden."""
    check_id(user_id, "user id")
    check_id(movie_id, "movie id")
    with db.atomic():
        cursor = db.execute(
            "DELETE FROM hidden_movies WHERE user_id = ? AND movie_id = ?", [user_id, movie_id]
        )
    return cursor.rowcount > 0
