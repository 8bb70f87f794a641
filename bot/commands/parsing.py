"""Reading what a person typed: commands, scores, counts. No replies here, only meaning."""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_MESSAGE = 4096


@dataclass(frozen=True)
class Command:
    """A command as typed: its name and the rest of the message."""

    name: str  # lower-case, without "/" and "@BotName"
    args: str  # the rest of the message, stripped


def parse_command(text: str, bot_username: str | None) -> Command | None:
    """The command in `text`, or None when it is not a command or is meant for another bot."""
    if not text.startswith("/"):
        return None
    head, _, rest = text.partition(" ")
    if "\n" in head:
        head, _, more = head.partition("\n")
        rest = f"{more} {rest}"
    name, _, addressee = head[1:].partition("@")
    if addressee and (bot_username is None or addressee.casefold() != bot_username.casefold()):
        return None
    if not re.fullmatch(r"[A-Za-z0-9_]{1,32}", name):
        return None
    return Command(name.lower(), " ".join(rest.split()))


def for_another_bot(text: str, bot_username: str | None) -> bool:
    """Whether `text` is a command addressed to a different bot: /rate@other_bot."""
    head = text.split(maxsplit=1)[0] if text.strip() else ""
    addressee = head.partition("@")[2]
    if not text.startswith("/") or not addressee:
        return False
    return bot_username is None or addressee.casefold() != bot_username.casefold()


class BadScore(ValueError):
    """A number that cannot be a score: 0, 11, 7.5, -3."""


_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?(?:/10)?$")


def parse_score(token: str) -> int | None:
    """The score in `token` ("8", "8/10"), None when it is no number, BadScore when it is a
    number outside the whole numbers 1-10."""
    token = token.strip()
    if not _NUMBER.match(token):
        return None
    number = token.removesuffix("/10").replace(",", ".")
    value = float(number)
    if value != int(value) or not 1 <= value <= 10:
        raise BadScore(token)
    return int(value)


def split_title_and_score(args: str) -> tuple[str, int | None]:
    """ "Ted 8" -> ("Ted", 8); "Cinderella 2015" -> ("Cinderella 2015", None): a trailing
    four-digit number is a year, part of the title. Raises BadScore for "Ted 11"."""
    title, _, last = args.rpartition(" ")
    if not title:
        return args, None
    if re.fullmatch(r"\d{4}", last):
        return args, None
    score = parse_score(last)
    if score is None:
        return args, None
    return title.strip(), score


def parse_count(token: str, default: int, maximum: int) -> int | None:
    """A count such as the n of /recommend n; None when it is not a whole number 1..maximum."""
    if not token:
        return default
    if not re.fullmatch(r"\d{1,6}", token):
        return None
    value = int(token)
    return value if 1 <= value <= maximum else None


# Release years the catalog can hold; a four-digit number outside is not read as a year.
FIRST_YEAR, LAST_YEAR = 1870, 2100


def parse_years(token: str) -> tuple[int, int] | None:
    """The release years a /recommend token asks for, as an inclusive range: "1994" ->
    (1994, 1994), "1990s" or "90s" -> (1990, 1999), "1990-2005" -> (1990, 2005). None when
    the token is not one of those (a count, a genre, a typo)."""
    token = token.strip().lower().lstrip("'’")
    if m := re.fullmatch(r"(\d{4})", token):
        year = int(m[1])
        return (year, year) if FIRST_YEAR <= year <= LAST_YEAR else None
    if m := re.fullmatch(r"(\d{3})0s", token):
        start = int(m[1]) * 10
        return (start, start + 9) if FIRST_YEAR <= start <= LAST_YEAR else None
    if m := re.fullmatch(r"(\d)0s", token):
        # Two-digit decades mean the last century up to the 20s: "20s" is the 2020s.
        start = int(m[1]) * 10 + (2000 if int(m[1]) <= 2 else 1900)
        return (start, start + 9)
    if m := re.fullmatch(r"(\d{4})[-–](\d{4})", token):
        lo, hi = int(m[1]), int(m[2])
        if FIRST_YEAR <= lo <= hi <= LAST_YEAR:
            return (lo, hi)
    return None
