"""A person's /settings: genres never to recommend, and how adventurous the picks are."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from storage.db import utc_now
from storage.errors import InvalidArgument
from storage.users import require_user
from storage.validate import check_id

# How adventurous the picks are: the ranking stage's novelty knob (bot/service.py maps these).
POPULAR, BALANCED, HIDDEN_GEMS = -1, 0, 1
MAX_EXCLUDED = 30


@dataclass(frozen=True)
class UserSettings:
    """What /settings holds for one person (the defaults until they change something)."""

    excluded_genres: tuple[str, ...] = ()
    adventurous: int = BALANCED


def get_settings(db: Database, user_id: int) -> UserSettings:
    """The person's settings, or the defaults."""
    check_id(user_id, "user id")
    row = db.execute(
        "SELECT excluded_genres, adventurous FROM user_settings WHERE user_id = ?", [user_id]
    ).fetchone()
    if row is None:
        return UserSettings()
    genres, adventurous = row
    return UserSettings(tuple(g for g in genres.split("|") if g), adventurous)


def save_settings(db: Database, user_id: int, settings: UserSettings) -> None:
    """Store the person's settings (they must be a stored user)."""
    check_id(user_id, "user id")
    if settings.adventurous not in (POPULAR, BALANCED, HIDDEN_GEMS):
        raise InvalidArgument(f"adventurous must be -1, 0 or 1, not {settings.adventurous!r}")
    genres = sorted(set(settings.excluded_genres))
    if len(genres) > MAX_EXCLUDED or any("|" in g or not g for g in genres):
        raise InvalidArgument("excluded genres must be at most 30 names without '|'")
    with db.atomic():
        require_user(db, user_id)
        db.execute(
            """
            INSERT INTO user_settings (user_id, excluded_genres, adventurous, updated_at)
            VALUES (?, ?, ?, ?)
            ON CONFLICT (user_id) DO UPDATE SET excluded_genres = excluded.excluded_genres,
                adventurous = excluded.adventurous, updated_at = excluded.updated_at
            """,
            [user_id, "|".join(genres), settings.adventurous, utc_now()],
        )
