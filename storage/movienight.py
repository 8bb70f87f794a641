"""Movie nights: a group's invite token for the deep link, and its /movienight polls.

A night is opened (`open_night`) with the pool's top picks in the poll's option order; once
the poll is sent its Telegram poll id and message are attached (`poll_sent`); when the poll
closes the winner is recorded once (`close_night`), so the result is announced once.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from sqlite_utils import Database

from storage.db import utc_now
from storage.errors import InvalidArgument
from storage.validate import check_id

# t.me/<bot>?start=<payload> takes 1-64 of [A-Za-z0-9_-]; token_urlsafe(12) is 16 of those.
_TOKEN_BYTES = 12
MAX_TOKEN_LENGTH = 32


@dataclass(frozen=True)
class Night:
    """One /movienight vote."""

    id: int
    chat_id: int
    thread_id: int | None
    opened_by: int | None  # None once the opener used /forget
    movie_ids: tuple[int, ...]
    poll_id: str | None
    message_id: int | None
    closed: bool
    winner_id: int | None


_COLUMNS = "id, chat_id, thread_id, opened_by, movie_ids, poll_id, message_id, closed_at, winner_id"


def _night(row: tuple) -> Night:
    night_id, chat_id, thread_id, opened_by, ids, poll_id, message_id, closed_at, winner = row
    return Night(
        night_id,
        chat_id,
        thread_id,
        opened_by,
        tuple(json.loads(ids)),
        poll_id,
        message_id,
        closed_at is not None,
        winner,
    )


def invite_token(db: Database, chat_id: int) -> str:
    """The chat's invite token (made on first use, then always the same)."""
    check_id(chat_id, "chat id")
    with db.atomic():
        row = db.execute("SELECT token FROM group_invites WHERE chat_id = ?", [chat_id]).fetchone()
        if row is not None:
            return row[0]
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        db.execute(
            "INSERT INTO group_invites (chat_id, token, created_at) VALUES (?, ?, ?)",
            [chat_id, token, utc_now()],
        )
    return token


def revoke_invite(db: Database, chat_id: int) -> bool:
    """Retire the chat's invite token (someone left or was banned, the bot was removed, an
    admin asked): links already shared stop working, the next `invite_token` is new. False
    when the chat had none."""
    check_id(chat_id, "chat id")
    with db.atomic():
        cursor = db.execute("DELETE FROM group_invites WHERE chat_id = ?", [chat_id])
    return cursor.rowcount > 0


def invited_chat(db: Database, token: str) -> int | None:
    """The chat whose invite `token` is, or None for a token that is not one of ours."""
    if not isinstance(token, str) or not 1 <= len(token) <= MAX_TOKEN_LENGTH:
        return None
    row = db.execute("SELECT chat_id FROM group_invites WHERE token = ?", [token]).fetchone()
    return row[0] if row else None


def open_night(
    db: Database, chat_id: int, thread_id: int | None, opened_by: int, movie_ids: list[int]
) -> Night:
    """Open a vote in the chat between `movie_ids` (in option order)."""
    check_id(chat_id, "chat id")
    check_id(opened_by, "user id")
    if not 2 <= len(movie_ids) <= 10:
        raise InvalidArgument(f"a vote needs 2 to 10 movies, not {len(movie_ids)}")
    with db.atomic():
        cursor = db.execute(
            """
            INSERT INTO movie_nights (chat_id, thread_id, opened_by, movie_ids, opened_at)
            VALUES (?, ?, ?, ?, ?)
            """,
            [
                chat_id,
                thread_id,
                opened_by,
                json.dumps([check_id(m, "movie id") for m in movie_ids]),
                utc_now(),
            ],
        )
    return get_night(db, cursor.lastrowid)


def get_night(db: Database, night_id: int) -> Night | None:
    """The vote with this id, or None."""
    check_id(night_id, "night id")
    row = db.execute(f"SELECT {_COLUMNS} FROM movie_nights WHERE id = ?", [night_id]).fetchone()
    return _night(row) if row else None


def open_night_in(db: Database, chat_id: int) -> Night | None:
    """The chat's vote still open, or None."""
    check_id(chat_id, "chat id")
    row = db.execute(
        f"SELECT {_COLUMNS} FROM movie_nights WHERE chat_id = ? AND closed_at IS NULL "
        "ORDER BY id DESC LIMIT 1",
        [chat_id],
    ).fetchone()
    return _night(row) if row else None


def night_of_poll(db: Database, poll_id: str) -> Night | None:
    """The vote whose Telegram poll is `poll_id`, or None (not ours, or from before a retry)."""
    row = db.execute(f"SELECT {_COLUMNS} FROM movie_nights WHERE poll_id = ?", [poll_id]).fetchone()
    return _night(row) if row else None


def poll_sent(db: Database, night_id: int, poll_id: str, message_id: int) -> None:
    """Attach the sent poll to its vote (a resent poll replaces the first one)."""
    with db.atomic():
        db.execute(
            "UPDATE movie_nights SET poll_id = ?, message_id = ? WHERE id = ?",
            [poll_id, message_id, night_id],
        )


def close_night(db: Database, night_id: int, winner_id: int | None) -> bool:
    """Record the vote's result; False when it was closed already (announced once)."""
    with db.atomic():
        cursor = db.execute(
            "UPDATE movie_nights SET closed_at = ?, winner_id = ? "
            "WHERE id = ? AND closed_at IS NULL",
            [utc_now(), winner_id, night_id],
        )
    return cursor.rowcount > 0
