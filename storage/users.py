"""People: the Telegram users who talk to the bot and the community imported with a dataset."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from storage.db import utc_now
from storage.errors import UnknownUser
from storage.validate import check_id, check_optional_text


@dataclass(frozen=True)
class User:
    id: int
    display_name: str | None
    language: str | None
    created_at: str


def save_user(
    db: Database, user_id: int, display_name: str | None = None, language: str | None = None
) -> None:
    """Create the user, or refresh their name and language when they are given."""
    check_id(user_id, "user id")
    name = check_optional_text(display_name, "display name")
    lang = check_optional_text(language, "language", max_length=16)
    with db.atomic():
        db.execute(
            """
            INSERT INTO users (id, display_name, language, created_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET
                display_name = coalesce(excluded.display_name, display_name),
                language = coalesce(excluded.language, language)
            """,
            [user_id, name, lang, utc_now()],
        )


def require_user(db: Database, user_id: int) -> None:
    """Raise UnknownUser unless the user is stored (checked before writes that refer to them)."""
    if db.execute("SELECT 1 FROM users WHERE id = ?", [user_id]).fetchone() is None:
        raise UnknownUser(f"no user with id {user_id}; save_user first")


def get_user(db: Database, user_id: int) -> User:
    """The stored user; UnknownUser if they never talked to the bot."""
    check_id(user_id, "user id")
    row = db.execute(
        "SELECT id, display_name, language, created_at FROM users WHERE id = ?", [user_id]
    ).fetchone()
    if row is None:
        raise UnknownUser(f"no user with id {user_id}")
    return User(*row)


def forget_user(db: Database, user_id: int) -> int:
    """Delete the user and everything stored about them; return how many ratings went."""
    check_id(user_id, "user id")
    with db.atomic():
        (n_ratings,) = db.execute(
            "SELECT count(*) FROM ratings WHERE user_id = ?", [user_id]
        ).fetchone()
        # ratings, pool memberships, conversation state and hidden movies cascade.
        db.execute("DELETE FROM users WHERE id = ?", [user_id])
    return n_ratings
