"""Argument checks shared by every storage function: wrong input raises before any write."""

from __future__ import annotations

from storage.errors import InvalidArgument, InvalidRating

# Telegram ids fit in 52 bits; SQLite integers in 63. Anything beyond is a caller's bug.
_MAX_ID = 2**62
MAX_NAME_LENGTH = 256


def check_id(value: object, what: str) -> int:
    """Return `value` if it is a plain int usable as an id, else raise InvalidArgument."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{what} must be an integer, not {type(value).__name__}")
    if not -_MAX_ID < value < _MAX_ID:
        raise InvalidArgument(f"{what} {value} is out of range")
    return value


def check_rating(value: object) -> int:
    """Return `value` if it is a whole number from 1 to 10, else raise InvalidRating."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidRating(f"a rating must be a whole number from 1 to 10, not {value!r}")
    if not 1 <= value <= 10:
        raise InvalidRating(f"a rating must be from 1 to 10, not {value}")
    return value


def check_optional_text(value: object, what: str, max_length: int = MAX_NAME_LENGTH) -> str | None:
    """Return `value` trimmed to `max_length` characters, None for None; other types raise."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidArgument(f"{what} must be text, not {type(value).__name__}")
    # Lone surrogates cannot be encoded as UTF-8 and would fail inside SQLite.
    cleaned = value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    return cleaned[:max_length]
