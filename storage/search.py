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

Whether a search result may be acted on without asking is `resolve`'s to say, by one rule
(RULE) chosen on a labelled set of typed titles and junk (`python -m devtools.title_calibration`):
a best name that matches the whole typed text closely is taken; a weaker one, or a typed text
that is only part of a title ("leon"), is offered as a choice; anything else is refused.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from enum import StrEnum

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
        self._row_of = {int(movie_id): i for i, movie_id in enumerate(self._ids)}
        self._names_of_row: list[list[str]] = [[] for _ in rows]
        for name, owner in zip(names, owners, strict=True):
            self._names_of_row[owner].append(name)

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

    def fit(self, query: str, match: TitleMatch) -> Fit:
        """How `query` fits the names of the movie `match` is for (see Fit)."""
        row = self._row_of[match.movie_id]
        title_part, year = split_query_year(query)
        # "cinderella 2015" names Cinderella (2015): the year is not part of its title.
        key = normalize(title_part if year is not None and year == self._years[row] else query)
        words = set(key.split())
        typed = len(normalize(query).split())
        whole, cover = 0.0, 0.0
        for name in self._names_of_row[row]:
            whole = max(whole, fuzz.ratio(key, name), fuzz.token_sort_ratio(key, name))
            name_words = set(name.split())
            if words and words <= name_words:
                cover = max(cover, len(words) / len(name_words))
        return Fit(whole=round(whole, 1), cover=round(cover, 3), words=typed)


@dataclass(frozen=True)
class Fit:
    """How a typed text fits one movie's names, for the acceptance rule.

    `whole`: the whole text against the whole best name (edit-distance and word-order
    similarity, out of 100; a year that is the movie's does not count against it).
    `cover`: when every typed word is a word of one name, the share of that name's words
    typed ("leon" of "leon the professional": 1/3), else 0: a partial title, not a typo.
    `words`: how many words were typed (a year included).
    """

    whole: float
    cover: float
    words: int


class Kind(StrEnum):
    """What `resolve` found."""

    EXACT = "exact"  # one movie, clearly: act on it
    ASK = "ask"  # maybe one of `choices` (best first): ask which, act on none unasked
    NONE = "none"  # nothing close enough to offer


@dataclass(frozen=True)
class Resolution:
    """The answer to "which movie is this text?": the kind, and the matches it offers."""

    kind: Kind
    choices: tuple[TitleMatch, ...] = ()

    @property
    def movie(self) -> TitleMatch | None:
        """The movie meant, when it is clear (EXACT); None otherwise."""
        return self.choices[0] if self.kind is Kind.EXACT else None


@dataclass(frozen=True)
class Rule:
    """The thresholds of the acceptance rule (chosen by devtools/title_calibration.py)."""

    exact: float  # Fit.whole at least this, and a clear winner: taken without asking
    ask: float  # Fit.whole at least this: offered
    partial_cover: float  # a partial title covering at least this share of a name: offered
    obscure: int  # a one-word exact title of a movie with fewer ratings than this: offered

    def decide(self, matches: list[TitleMatch], fit: Fit | None) -> Kind:
        """EXACT, ASK or NONE for `matches` (best first) whose first one fits as `fit`."""
        if not matches or fit is None:
            return Kind.NONE
        top = matches[0]
        if fit.whole >= self.exact and clear_winner(matches) is top:
            # One typed word that is the title of a film almost nobody rated ("whatever",
            # "nothing", "lol") is far likelier a word than that film: ask.
            if fit.words == 1 and top.n_ratings < self.obscure:
                return Kind.ASK
            return Kind.EXACT
        if fit.whole >= self.ask or fit.cover >= self.partial_cover:
            return Kind.ASK
        return Kind.NONE


RULE = Rule(exact=90.0, ask=75.0, partial_cover=0.25, obscure=5)
CHOICES = 5


def resolve(titles: Database | TitleIndex, query: str) -> Resolution:
    """Which movie `query` names, by RULE: EXACT (act on `movie`), ASK (offer `choices`, best
    first) or NONE. Never raises for text: empty or over-long text resolves to NONE.

    Pass a TitleIndex when resolving many titles (building one reads the whole catalog)."""
    index = titles if isinstance(titles, TitleIndex) else TitleIndex.from_db(titles)
    if not isinstance(query, str) or not query.strip() or len(query.strip()) > MAX_QUERY_LENGTH:
        return Resolution(Kind.NONE)
    matches = index.search(query, CHOICES)
    kind = RULE.decide(matches, index.fit(query, matches[0]) if matches else None)
    if kind is Kind.EXACT:
        return Resolution(kind, (matches[0],))
    if kind is Kind.ASK:
        return Resolution(kind, tuple(matches))
    return Resolution(kind)


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
