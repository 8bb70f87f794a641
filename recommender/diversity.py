"""Franchises from catalog titles, and the re-rank that keeps one from filling a list.

A franchise key is read off the title alone (no external data): the title without its year,
alternative titles and leading article, cut at the first ":" or " - " (Star Wars: Episode IV),
without trailing sequel markers (2, III, Part 2, Chapter 3), then the words up to and including
the second word that is not a stop word ("harry potter", "lord of the rings", "toy story").
A key that is another key plus a sequel word joins it ("batman returns", "matrix reloaded"
and "shrek the third" are "batman", "matrix" and "shrek").

:func:`diversify` then walks a ranked list and keeps at most ``per_franchise`` movies of one
franchise in it, with at least ``gap`` places between two of the same franchise (near-duplicates
are spread, not stacked).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

_YEAR = re.compile(r"\s*\((\d{4})(?:[-–]\d{0,4})?\)\s*$")
_PARENS = re.compile(r"\s*\([^)]*\)")
_TRAILING_ARTICLE = re.compile(r",\s*(the|a|an|les|la|le|il|el|der|die|das)$")
_CUT = re.compile(r":| - | – ")
_SEQUEL = re.compile(
    r"(\s+(part|chapter|episode|vol\.?|volume)?\s*"
    r"(\d+|ii|iii|iv|v|vi|vii|viii|ix|x|one|two|three|four|five))+$"
)
_NON_WORD = re.compile(r"[^a-z0-9]+")
STOP_WORDS = frozenset(
    [
        "the",
        "a",
        "an",
        "of",
        "and",
        "in",
        "on",
        "at",
        "to",
        "for",
        "with",
        "from",
        "is",
        "my",
        "your",
        "his",
        "her",
        "our",
        "their",
    ]
)
# Words that, after a franchise's name, make a sequel's title ("Batman Returns").
SEQUEL_WORDS = frozenset(
    [
        "returns",
        "begins",
        "forever",
        "reloaded",
        "revolutions",
        "resurrection",
        "rises",
        "reborn",
        "redux",
        "again",
        "continues",
        "strikes",
        "third",
        "fourth",
        "final",
        "origins",
        "legacy",
    ]
)


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def title_stem(title: str) -> str:
    """The part of a title that names its franchise (see the module docstring)."""
    t = _plain(title).strip()
    t = _YEAR.sub("", t)
    t = _PARENS.sub("", t).strip()
    t = _TRAILING_ARTICLE.sub("", t)
    t = re.sub(r"^(the|a|an)\s+", "", t)
    t = _CUT.split(t, maxsplit=1)[0]
    t = " ".join(_NON_WORD.sub(" ", t).split())
    t = _SEQUEL.sub("", t).strip()
    return t


def _key_of_stem(stem: str) -> str:
    words = stem.split()
    out, content = [], 0
    for w in words:
        out.append(w)
        if w not in STOP_WORDS:
            content += 1
            if content == 2:
                break
    return " ".join(out)


def franchise_keys(titles: Mapping[int, str]) -> dict[int, str]:
    """``{movie_id: franchise key}`` for a catalog ``{movie_id: title}``."""
    keys = {m: _key_of_stem(title_stem(t)) or f"#{m}" for m, t in titles.items()}
    known = set(keys.values())
    for m, k in keys.items():
        words = k.split()
        if len(words) >= 2 and words[-1] in SEQUEL_WORDS:
            base = " ".join(w for w in words[:-1] if w not in STOP_WORDS)
            if base in known:
                keys[m] = base
    return keys


def ranked_depth(n: int) -> int:
    """How many of the ranking to give :func:`diversify` for a list of ``n``: enough to fill it
    however many places the franchise rule takes out (3n + 10)."""
    return 3 * n + 10


def diversify(
    ranked: Sequence[int],
    franchise_of: Mapping[int, str],
    n: int,
    per_franchise: int = 2,
    gap: int = 3,
) -> list[int]:
    """The first ``n`` of ``ranked`` (best first) with at most ``per_franchise`` movies of one
    franchise, and two of the same franchise at least ``gap`` places apart where the list
    allows it (otherwise the next allowed movie fills the place). Movies without a key are their
    own franchise."""
    out: list[int] = []
    count: Counter[str] = Counter()
    last: dict[str, int] = {}
    pending = list(dict.fromkeys(ranked))
    while len(out) < n and pending:
        choice = None
        fallback = None
        for idx, movie in enumerate(pending):
            key = franchise_of.get(movie, f"#{movie}")
            if count[key] >= per_franchise:
                continue
            if key in last and len(out) - last[key] < gap:
                if fallback is None:
                    fallback = idx
                continue
            choice = idx
            break
        if choice is None:
            choice = fallback
        if choice is None:
            break
        movie = pending.pop(choice)
        key = franchise_of.get(movie, f"#{movie}")
        count[key] += 1
        last[key] = len(out)
        out.append(movie)
        pending = [m for m in pending if count[franchise_of.get(m, f"#{m}")] < per_franchise]
    return out


def franchise_counts(movies: Iterable[int], franchise_of: Mapping[int, str]) -> Counter[str]:
    """How many of ``movies`` each franchise has."""
    return Counter(franchise_of.get(m, f"#{m}") for m in movies)
