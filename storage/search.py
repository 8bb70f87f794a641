"""Finding a movie by what a person typed: exact, accent/case/punctuation-blind, typos, years.

Every title (and alternative title) is normalised once; a query is scored against all of them
with rapidfuzz's vectorised `cdist`, taking the best of three measures:
- `ratio`: edit-distance similarity, which forgives typos ("frozzen" ~ "frozen");
- `token_sort_ratio`: the same after sorting words, which forgives word order;
- `token_set_ratio` x 0.9: query words contained in a longer title ("ted" in "ted 2"), discounted
  so that the exact title always ranks above its sequels. Only names sharing a word with the
  query can score higher here than by token_sort_ratio, so only those are scored (an inverted
  index of words), which keeps a search at a few milliseconds over 10k titles.
A query ending in a year is first matched among that year's movies only; the whole text is
scored against every title only when that finds no near-exact match ("Blade Runner 2049").
Ties are broken by popularity (number of ratings). Recent answers are remembered: the same
titles are asked for again and again.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
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
# A year-restricted match this good makes scoring the whole catalog unnecessary.
NEAR_EXACT = 95.0
# Words in more names than this ("of", "and") do not narrow the token_set_ratio candidates.
COMMON_WORD = 1500
CACHE_SIZE = 4096


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
        postings: dict[str, list[int]] = defaultdict(list)
        for name_index, name in enumerate(names):
            for word in set(name.split()):
                postings[word].append(name_index)
        self._postings = {w: np.asarray(ix, dtype=np.int64) for w, ix in postings.items()}
        names_by_year: dict[int, list[int]] = defaultdict(list)
        for name_index, owner in enumerate(owners):
            names_by_year[rows[owner][2] or 0].append(name_index)
        self._names_by_year = {y: np.asarray(ix, dtype=np.int64) for y, ix in names_by_year.items()}
        self._cache: OrderedDict[tuple[str, int], list[TitleMatch]] = OrderedDict()
        self._ids = np.asarray([row[0] for row in rows], dtype=np.int64)
        self._labels = [f"{row[1]} ({row[2]})" if row[2] else row[1] for row in rows]
        self._years = np.asarray([row[2] or 0 for row in rows], dtype=np.int64)
        self._popularity = np.asarray([row[4] for row in rows], dtype=np.int64)

    @classmethod
    def from_db(cls, db: Database) -> TitleIndex:
        return cls(search_rows(db))

    def __len__(self) -> int:
        return len(self._ids)

    def _scores(self, query: str, among: np.ndarray | None = None) -> np.ndarray:
        """Best score of `query` against any name of each movie (one entry per movie);
        `among` limits the names scored (indices into the names), the rest score 0."""
        per_movie = np.zeros(len(self._ids), dtype=np.float32)
        key = normalize(query)
        if not key or not self._names:
            return per_movie
        names = np.arange(len(self._names)) if among is None else among
        if names.size == 0:
            return per_movie
        choices = [self._names[i] for i in names]
        per_name = np.maximum(
            process.cdist([key], choices, scorer=fuzz.ratio, workers=1)[0],
            process.cdist([key], choices, scorer=fuzz.token_sort_ratio, workers=1)[0],
        )
        sharing = self._names_sharing_a_word(key, names)
        if sharing.size:
            subset = [self._names[i] for i in names[sharing]]
            token_set = process.cdist([key], subset, scorer=fuzz.token_set_ratio, workers=1)[0]
            per_name[sharing] = np.maximum(per_name[sharing], token_set * 0.9)
        np.maximum.at(per_movie, self._owner[names], per_name)
        return per_movie

    def _names_sharing_a_word(self, key: str, names: np.ndarray) -> np.ndarray:
        """Positions in `names` of the names that share a word with `key`."""
        found = [self._postings.get(word) for word in set(key.split())]
        found = [ix for ix in found if ix is not None]
        if not found:
            return np.zeros(0, dtype=np.int64)
        if any(ix.size > COMMON_WORD for ix in found):
            return np.arange(names.size)
        return np.flatnonzero(np.isin(names, np.concatenate(found)))

    def search(self, query: str, limit: int = 5) -> list[TitleMatch]:
        """The best `limit` candidates for `query`, best first; [] when nothing is close."""
        if not isinstance(query, str):
            raise InvalidArgument("a title to search for must be text")
        query = query.strip()
        if not query:
            raise InvalidArgument("a title to search for cannot be empty")
        if len(query) > MAX_QUERY_LENGTH:
            raise InvalidArgument(f"a title is at most {MAX_QUERY_LENGTH} characters")
        if (query, limit) in self._cache:
            self._cache.move_to_end((query, limit))
            return list(self._cache[(query, limit)])
        matches = self._search(query, limit)
        self._cache[(query, limit)] = matches
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return list(matches)

    def _search(self, query: str, limit: int) -> list[TitleMatch]:
        title_part, year = split_query_year(query)
        scores = None
        if year is not None:
            # "Cinderella 2015": the title without the year, among that year's movies only.
            among = self._names_by_year.get(year, np.zeros(0, dtype=np.int64))
            scores = self._scores(title_part, among)
        if scores is None or scores.max(initial=0) < NEAR_EXACT:
            # No year, or nothing from that year fits: the whole text ("Blade Runner 2049").
            whole = self._scores(query)
            scores = whole if scores is None else np.maximum(scores, whole)
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
