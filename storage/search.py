"""Finding a movie by what a person typed: exact, accent/case/punctuation-blind, typos, years.

Every title (and alternative title) is normalised once; a query is scored against all of them
with rapidfuzz's vectorised `cdist`, taking the best of three measures:
- `ratio`: edit-distance similarity, which forgives typos ("frozzen" ~ "frozen");
- `token_sort_ratio`: the same after sorting words, which forgives word order;
- `token_set_ratio` x 0.9: query words contained in a longer title ("ted" in "ted 2"), discounted
  so that the exact title always ranks above its sequels.
Ties are broken by popularity (number of ratings).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process
from sqlite_utils import Database

from storage.errors import InvalidArgument
from storage.movies import search_rows
from storage.titles import normalize, split_query_year

MAX_QUERY_LENGTH = 200
MIN_SCORE = 60.0
# Two candidates closer than this (in points out of 100) are ambiguous: the bot asks.
AMBIGUITY_MARGIN = 8.0
# ...unless the leader is this many times more popular (Frozen 2013 vs Frozen 2010).
POPULARITY_DOMINANCE = 10


@dataclass(frozen=True)
class TitleMatch:
    """One candidate for a typed title; `confidence` is the match score out of 1."""

    movie_id: int
    label: str
    score: float
    n_ratings: int

    @property
    def confidence(self) -> float:
        return round(self.score / 100.0, 3)


class TitleIndex:
    """All catalog titles, normalised once, ready to be searched many times."""

    def __init__(self, rows: list[tuple[int, str, int | None, str, int]]) -> None:
        names, owners = [], []
        for row_index, (_movie_id, title, _year, aliases, _n) in enumerate(rows):
            for name in [title, *aliases.splitlines()]:
                if key := normalize(name):
                    names.append(key)
                    owners.append(row_index)
        self._names = names
        self._owner = np.asarray(owners, dtype=np.int64)
        self._ids = np.asarray([row[0] for row in rows], dtype=np.int64)
        self._labels = [f"{row[1]} ({row[2]})" if row[2] else row[1] for row in rows]
        self._years = np.asarray([row[2] or 0 for row in rows], dtype=np.int64)
        self._popularity = np.asarray([row[4] for row in rows], dtype=np.int64)

    @classmethod
    def from_db(cls, db: Database) -> TitleIndex:
        return cls(search_rows(db))

    def __len__(self) -> int:
        return len(self._ids)

    def _scores(self, query: str) -> np.ndarray:
        """Best score of `query` against any name of each movie (one entry per movie)."""
        key = normalize(query)
        per_movie = np.zeros(len(self._ids), dtype=np.float32)
        if not key or not self._names:
            return per_movie
        exact = fuzz.ratio
        measures = [
            process.cdist([key], self._names, scorer=exact, workers=1)[0],
            process.cdist([key], self._names, scorer=fuzz.token_sort_ratio, workers=1)[0],
            process.cdist([key], self._names, scorer=fuzz.token_set_ratio, workers=1)[0] * 0.9,
        ]
        per_name = np.maximum.reduce(measures)
        np.maximum.at(per_movie, self._owner, per_name)
        return per_movie

    def search(self, query: str, limit: int = 5) -> list[TitleMatch]:
        """The best `limit` candidates for `query`, best first; [] when nothing is close."""
        if not isinstance(query, str):
            raise InvalidArgument("a title to search for must be text")
        query = query.strip()
        if not query:
            raise InvalidArgument("a title to search for cannot be empty")
        if len(query) > MAX_QUERY_LENGTH:
            raise InvalidArgument(f"a title is at most {MAX_QUERY_LENGTH} characters")
        scores = self._scores(query)
        title_part, year = split_query_year(query)
        if year is not None:
            # "Cinderella 2015": the title without the year, only among that year's movies;
            # "Blade Runner 2049" still matches as a whole through `scores`.
            with_year = np.where(self._years == year, self._scores(title_part), 0)
            scores = np.maximum(scores, with_year)
        candidates = np.flatnonzero(scores >= MIN_SCORE)
        order = np.lexsort((-self._popularity[candidates], -scores[candidates]))[:limit]
        return [
            TitleMatch(
                movie_id=int(self._ids[i]),
                label=self._labels[i],
                score=round(float(scores[i]), 1),
                n_ratings=int(self._popularity[i]),
            )
            for i in candidates[order]
        ]


def clear_winner(matches: list[TitleMatch]) -> TitleMatch | None:
    """The match to take without asking, or None when there is none or two are too close."""
    if not matches:
        return None
    top = matches[0]
    if len(matches) == 1:
        return top
    runner_up = matches[1]
    if top.score - runner_up.score >= AMBIGUITY_MARGIN:
        return top
    if top.n_ratings >= POPULARITY_DOMINANCE * max(runner_up.n_ratings, 1):
        return top
    return None


def search_titles(db: Database, query: str, limit: int = 5) -> list[TitleMatch]:
    """Search the catalog in `db` once; code that searches often should keep a TitleIndex."""
    return TitleIndex.from_db(db).search(query, limit)
