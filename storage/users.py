"""People: the Telegram users who talk to the bot and the community imported with a dataset."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from storage import journal
from storage.db import truncate_wal, utc_now
from storage.errors import UnknownUser
from storage.validate import check_id, check_optional_text

# How long a /forget is remembered (as a digest): while the daily backups, kept 14 days, still
# hold the data.
FORGOTTEN_DAYS = 15


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


@dataclass(frozen=True)
class UserSummary:
    id: int
    display_name: str | None
    n_ratings: int


def list_users(db: Database, limit: int) -> list[UserSummary]:
    """Up to `limit` users, those with the most ratings first (then by id)."""
    rows = db.execute(
        """
        SELECT users.id, users.display_name, count(ratings.movie_id) AS n
        FROM users LEFT JOIN ratings ON ratings.user_id = users.id
        GROUP BY users.id ORDER BY n DESC, users.id LIMIT ?
        """,
        [limit],
    ).fetchall()
    return [UserSummary(*row) for row in rows]


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
    """Delete the user and every row that holds their id, name or words, in one transaction;
    return how many ratings went.

    The ratings, pool memberships, conversation state, hidden movies, watchlist, seen movies
    pending imports, alert subscriptions and alerts (sent or
    not) cascade; the update
    journal's rows of theirs are cleared (`journal.forget_sender`); the deleted ratings are
    counted, without saying whose, so the next refit drops them from the model; a one-way
    digest of the id is kept for `FORGOTTEN_DAYS` (`was_forgotten`). It ends with a TRUNCATE
    checkpoint (`truncate_wal`), so the write-ahead log keeps no frame of what went; called
    inside a transaction (the bot's group commit), the caller checkpoints after commit."""
    check_id(user_id, "user id")
    with db.atomic():
        (n_ratings,) = db.execute(
            "SELECT count(*) FROM ratings WHERE user_id = ?", [user_id]
        ).fetchone()
        db.execute("DELETE FROM users WHERE id = ?", [user_id])
        if n_ratings:
            db.execute(
                "INSERT INTO rating_deletions (deleted_at, n_ratings) VALUES (?, ?)",
                [utc_now(), n_ratings],
            )
        journal.forget_sender(db, user_id)
        db.execute(
            "INSERT OR REPLACE INTO forgotten_users (digest, forgotten_at) VALUES (?, ?)",
            [_digest(user_id), utc_now()],
        )
    truncate_wal(db)
    return n_ratings


def was_forgotten(db: Database, user_id: int) -> bool:
    """Whether the user used /forget within `FORGOTTEN_DAYS` (see `forget_user`)."""
    check_id(user_id, "user id")
    row = db.execute(
        "SELECT 1 FROM forgotten_users WHERE digest = ?", [_digest(user_id)]
    ).fetchone()
    return row is not None


def prune_forgotten(db: Database, older_than: str | None = None) -> int:
    """Drop the marks of /forget older than `older_than` (default: `FORGOTTEN_DAYS` ago)."""
    if older_than is None:
        cutoff = datetime.now(UTC) - timedelta(days=FORGOTTEN_DAYS)
        older_than = cutoff.isoformat(timespec="microseconds")
    with db.atomic():
        cursor = db.execute("DELETE FROM forgotten_users WHERE forgotten_at < ?", [older_than])
    return cursor.rowcount


def _digest(user_id: int) -> str:
    """A one-way digest of a user id: recognises the id again, does not hold it."""
    return hashlib.sha256(f"moviebot-forgotten:{user_id}".encode()).hexdigest()


def choose_language(db: Database, user_id: int, language: str | None) -> None:
    """Store the language the user picked for the bot's replies (None: Telegram's again)."""
    check_id(user_id, "user id")
    lang = check_optional_text(language, "language", max_length=16)
    with db.atomic():
        require_user(db, user_id)
        db.execute("UPDATE users SET chosen_language = ? WHERE id = ?", [lang, user_id])


def chosen_language(db: Database, user_id: int) -> str | None:
    """The language the user picked for the bot's replies; None when they never picked one
    (then Telegram's `language_code` decides) or were never seen."""
    check_id(user_id, "user id")
    row = db.execute("SELECT chosen_language FROM users WHERE id = ?", [user_id]).fetchone()
    return row[0] if row else None
