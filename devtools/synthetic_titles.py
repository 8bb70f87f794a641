"""A catalog the size IMDb's datasets give (tens of thousands of films, a few hundred thousand
names), for title search's bench and calibration at that size.

The real bundled rows stay as they are (so the labelled set still names them), each given
IMDb-like votes (its ratings here x VOTES_PER_RATING, with noise). Extra films get ids from
1_000_000_000 up, no ratings here, log-normal votes, and titles recombined from the words of
the bundled titles (word frequencies as there: "love", "man", "night" often; never only
"the", "of", "and": few real titles are), with the names
IMDb's akas add: a Spanish-looking alias (accented words), a Russian one (the title in
Cyrillic letters), sometimes another original title.
"""

from __future__ import annotations

import random

FIRST_NEW_ID = 1_000_000_000
VOTES_PER_RATING = 5000

_SPANISH = {
    "the": "el", "of": "de", "and": "y", "love": "amor", "man": "hombre", "night": "noche",
    "day": "día", "life": "vida", "house": "casa", "story": "historia", "world": "mundo",
    "girl": "niña", "dead": "muerto", "last": "último", "king": "rey", "time": "tiempo",
    "heart": "corazón", "city": "ciudad", "war": "guerra", "black": "negro", "in": "en",
}  # fmt: skip
_CYRILLIC = dict(
    zip("abcdefghijklmnopqrstuvwxyz", "абцдефгхийклмнопкрстуввкыз", strict=True)
)  # fmt: skip


# Titles made only of these are rare on IMDb ("The", "Of the"), common in a random mix of words.
_FUNCTION_WORDS = frozenset(
    ["the", "a", "an", "of", "and", "in", "to", "on", "for", "with", "at", "from", "by", "or",
     "is", "my", "your", "his", "her", "de", "la", "le", "el", "les", "des", "du", "il", "lo",
     "los", "las", "un", "une"]
)  # fmt: skip


def _title(words: list[str], size: int, rng: random.Random) -> str:
    while True:
        picked = [rng.choice(words) for _ in range(size)]
        if any(w.lower() not in _FUNCTION_WORDS for w in picked):
            return " ".join(picked)


def _spanish(title: str, rng: random.Random) -> str:
    words = [_SPANISH.get(w.lower(), w) for w in title.split()]
    if rng.random() < 0.5:
        words.append(rng.choice(["película", "canción", "añoranza", "pasión", "jóvenes"]))
    return " ".join(words)


def _cyrillic(title: str) -> str:
    return "".join(_CYRILLIC.get(ch, ch) for ch in title.lower()).capitalize()


def synthetic_rows(base: list[tuple], extra_films: int, seed: int = 0) -> list[tuple]:
    """`base` (title_rows of the bundled catalog) with votes, and `extra_films` new films:
    (id, title, year, aliases, ratings here, IMDb votes) rows, as storage.movies.title_rows."""
    rng = random.Random(seed)
    rows = [
        (*row[:5], int(row[4] * VOTES_PER_RATING * rng.lognormvariate(0, 0.5)) or None)
        for row in base
    ]
    words = [w for row in base for w in row[1].split() if w.isalpha()]
    for i in range(extra_films):
        size = rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5, 6))
        title = _title(words, size, rng).title()
        aliases = []
        if rng.random() < 0.8:
            aliases.append(_spanish(title, rng))
        if rng.random() < 0.95:
            aliases.append(_cyrillic(title))
        if rng.random() < 0.7:
            aliases.append(_title(words, rng.randint(1, 4), rng))
        if rng.random() < 0.65:
            aliases.append(title + ": " + " ".join(rng.choice(words) for _ in range(2)))
        votes = int(rng.lognormvariate(7.5, 1.8))
        year = rng.randint(1915, 2026)
        rows.append((FIRST_NEW_ID + i, title, year, "\n".join(aliases), 0, votes))
    return rows
