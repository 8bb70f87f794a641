"""Finding a movie by what a person typed: exact, accent/case/punctuation-blind, typos, years.

Every title (and alternative title) is normalised once; a query is scored against them with
rapidfuzz's vectorised `cdist`, taking the best of three measures:
- `ratio`: edit-distance similarity, which forgives typos ("frozzen" ~ "frozen");
- `token_sort_ratio`: the same after sorting words, which forgives word order;
- `token_set_ratio` x 0.9: query words contained in a longer title ("ted" in "ted 2"), discounted
  so that the exact title always ranks above its sequels (only names sharing a word with the
  query are scored by it: for the others it is never higher than token_sort_ratio).
Only the names that can score are scored: storage/title_candidates.py picks them by shared
character bigrams and words, so a search stays at a few milliseconds over 250k names.
A query ending in a year is first matched among that year's movies only; the whole text is
scored against every title only when that finds no near-exact match ("Blade Runner 2049").
Ties are broken by popularity (ratings here, and IMDb votes; see `popularity`), and a far
better-known film with every typed word in a name goes before an obscure exact title. Recent
answers are remembered: the same titles are asked for again and again.

Whether a search result may be acted on without asking is `resolve`'s to say, by one rule
(RULE) chosen on a labelled set of typed titles and junk (`python -m devtools.title_calibration`):
a best name that matches the whole typed text closely is taken; a weaker one, or a typed text
that is only part of a title ("leon"), is offered as a choice; anything else is refused.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from rapidfuzz import fuzz, process
from sqlite_utils import Database

from storage.errors import InvalidArgument
from storage.movies import title_rows
from storage.title_candidates import NameIndex
from storage.titles import normalize, split_query_year

MAX_QUERY_LENGTH = 200
MIN_SCORE = 60.0
# Two candidates closer than this (in points out of 100) are ambiguous: the bot asks.
AMBIGUITY_MARGIN = 8.0
# ...unless the leader is this many times more popular (Frozen 2013 vs Frozen 2010).
POPULARITY_DOMINANCE = 10
# How many far more popular candidates are checked for containing every typed word.
ECLIPSE_CHECKS = 50
# A year-restricted match this good makes scoring the whole catalog unnecessary.
NEAR_EXACT = 95.0
# token_set_ratio counts for less: the exact title ranks above its sequels ("ted", "ted 2").
TOKEN_SET_WEIGHT = 0.9
CACHE_SIZE = 4096
# The exchange rate of IMDb votes to ratings here is measured on films with this many ratings,
# when at least this many films have both (see popularity).
VOTES_RATE_MIN_RATINGS = 10
VOTES_RATE_MIN_FILMS = 20


@dataclass(frozen=True)
class TitleMatch:
    """One candidate for a typed title; `confidence` is the match score out of 1.

    `n_ratings`: its ratings here; `popularity`: the blend with IMDb's votes (see popularity)."""

    movie_id: int
    label: str
    score: float
    n_ratings: int
    popularity: float

    @property
    def confidence(self) -> float:
        return round(self.score / 100.0, 3)


def popularity(n_ratings: np.ndarray, imdb_votes: np.ndarray) -> np.ndarray:
    """How well known each film is, in ratings here: max(ratings here, IMDb votes / k).

    k is the catalog's own exchange rate, the median of votes / ratings over the films with
    both (at least VOTES_RATE_MIN_RATINGS ratings here, so the ratio is not noise): about
    10,000 with MovieLens latest-small's 610 users. In these units the
    thresholds chosen on ratings (POPULARITY_DOMINANCE, Rule.obscure) keep their meaning, a
    bundled catalog without votes ranks as before, and a film nobody here rated yet ranks by
    its votes (Parasite 2019, 900k votes, far above Parasite 1982's 5k). The max, not votes
    alone: ratings here are evidence too (a film this bot's users rate a lot).
    With fewer than VOTES_RATE_MIN_FILMS such films, k is the ratio of the totals."""
    ratings = n_ratings.astype(np.float64)
    known = np.asarray([v is not None and v > 0 for v in imdb_votes], dtype=bool)
    if not known.any():
        return ratings
    votes = np.where(known, imdb_votes, 0).astype(np.float64)
    both = known & (n_ratings >= VOTES_RATE_MIN_RATINGS)
    if both.sum() >= VOTES_RATE_MIN_FILMS:
        rate = float(np.median(votes[both] / ratings[both]))
    else:
        rate = max(votes[known].sum(), 1.0) / max(ratings[known].sum(), 1.0)
    return np.maximum(ratings, votes / max(rate, 1e-9))


class TitleIndex:
    """All catalog titles, normalised once, ready to be searched many times.

    Never changed once built (but for its cache of recent answers): after a catalog update the
    bot builds a new one off the event loop (asyncio.to_thread, its own database connection;
    about 2 s of CPU at 250k names) and swaps the reference; searches meanwhile use the old."""

    def __init__(self, rows: list[tuple]) -> None:
        """`rows`: (id, title, year, aliases, ratings here[, IMDb votes]) per movie, as
        storage.movies.title_rows gives them."""
        names: list[str] = []
        first_name = np.zeros(len(rows) + 1, dtype=np.int64)
        for row_index, (_movie_id, title, _year, aliases, *_rest) in enumerate(rows):
            own = dict.fromkeys(normalize(name) for name in [title, *aliases.splitlines()])
            names.extend(key for key in own if key)
            first_name[row_index + 1] = len(names)
        self._first_name = first_name
        self._owner = np.repeat(np.arange(len(rows), dtype=np.int64), np.diff(first_name))
        self._index = NameIndex(names)
        self._cache: OrderedDict[tuple[str, int], list[TitleMatch]] = OrderedDict()
        self._ids = np.asarray([row[0] for row in rows], dtype=np.int64)
        self._labels = [f"{row[1]} ({row[2]})" if row[2] else row[1] for row in rows]
        self._years = np.asarray([row[2] or 0 for row in rows], dtype=np.int64)
        self._name_years = self._years[self._owner]
        self._n_ratings = np.asarray([row[4] for row in rows], dtype=np.int64)
        votes = np.asarray([row[5] if len(row) > 5 else None for row in rows], dtype=object)
        self._popularity = popularity(self._n_ratings, votes)
        self._row_of = {int(movie_id): i for i, movie_id in enumerate(self._ids)}
        self._by_name_year: dict[tuple[str, int], list[int]] | None = None  # match_many's

    @classmethod
    def from_db(cls, db: Database) -> TitleIndex:
        return cls(title_rows(db))

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def name_count(self) -> int:
        """How many distinct names (titles and aliases, normalised) the films have."""
        return self._index.size

    def match_many(self, titles: list[tuple[str, int | None]]) -> list[Resolution]:
        """Resolve many (title, year) pairs at once (an export's rows): a name and year that
        exactly one film has is EXACT by a dict lookup; every other pair is `resolve`d as
        "title year" (the candidate search: what a typed title costs)."""
        if self._by_name_year is None:
            by_name_year: dict[tuple[str, int], list[int]] = {}
            for i, owner in enumerate(self._owner.tolist()):
                key = (self._index.name(i), int(self._years[owner]))
                by_name_year.setdefault(key, []).append(owner)
            self._by_name_year = by_name_year
        found = []
        for title, year in titles:
            rows = set(self._by_name_year.get((normalize(title), year or 0), ()))
            if len(rows) == 1:
                found.append(Resolution(Kind.EXACT, (self._match(rows.pop(), 100.0),)))
            else:
                found.append(resolve(self, f"{title} {year}" if year else title))
        return found

    def _match(self, row: int, score: float) -> TitleMatch:
        return TitleMatch(
            movie_id=int(self._ids[row]),
            label=self._labels[row],
            score=round(score, 1),
            n_ratings=int(self._n_ratings[row]),
            popularity=round(float(self._popularity[row]), 1),
        )

    def _names_of_row(self, row: int) -> list[str]:
        first, end = self._first_name[row], self._first_name[row + 1]
        return [self._index.name(i) for i in range(first, end)]

    def _scores(self, query: str, year: int | None = None) -> np.ndarray:
        """Best score of `query` against any name of each movie (one entry per movie); with
        `year`, only that year's movies' names are scored, the rest score 0.

        Per name: max(ratio, token_sort_ratio, token_set_ratio x 0.9 when it shares a word),
        on the names storage.title_candidates picks (the others cannot reach MIN_SCORE)."""
        per_movie = np.zeros(len(self._ids), dtype=np.float32)
        key = normalize(query)
        if not key or not self._index.size:
            return per_movie
        allowed = None if year is None else self._name_years == year
        near = self._index.near(key, allowed)
        whole, check, shares = self._index.sharing(key, MIN_SCORE / TOKEN_SET_WEIGHT, allowed)
        if near.size:
            choices = self._index.names(near)
            per_name = np.maximum(
                process.cdist([key], choices, scorer=fuzz.ratio, workers=1)[0],
                process.cdist([key], choices, scorer=fuzz.token_sort_ratio, workers=1)[0],
            )
            np.maximum.at(per_movie, self._owner[near], per_name)
            check = np.union1d(check, near[shares[near]])
        if whole.size:
            # One side's words all among the other's: token_set_ratio is 100.
            np.maximum.at(per_movie, self._owner[whole], np.float32(100 * TOKEN_SET_WEIGHT))
        if check.size:
            subset = self._index.names(check)
            token_set = process.cdist([key], subset, scorer=fuzz.token_set_ratio, workers=1)[0]
            np.maximum.at(per_movie, self._owner[check], token_set * TOKEN_SET_WEIGHT)
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
            scores = self._scores(title_part, year)
        if scores is None or scores.max(initial=0) < NEAR_EXACT:
            # No year, or nothing from that year fits: the whole text ("Blade Runner 2049").
            whole = self._scores(query)
            scores = whole if scores is None else np.maximum(scores, whole)
        candidates = np.flatnonzero(scores >= MIN_SCORE)
        order = candidates[np.lexsort((-self._popularity[candidates], -scores[candidates]))]
        if year is None and order.size > 1:
            order = self._eclipsed_first(normalize(query), order, limit)
        return [self._match(i, float(scores[i])) for i in order[:limit].tolist()]

    def _eclipsed_first(self, key: str, order: np.ndarray, limit: int) -> np.ndarray:
        """`order` (movie rows, best first) with the films that outshine the first put ahead
        of it: every typed word in one of their names, and POPULARITY_DOMINANCE times its
        popularity ("lord of the rings": Fellowship, 198 ratings, before Bakshi's 1978 film
        of that exact title, 15). The first stays among the first `limit` to be offered."""
        top = order[0]
        words = set(key.split())
        if self._popularity[top] <= 0 or not words:
            return order
        popular = order[self._popularity[order] >= POPULARITY_DOMINANCE * self._popularity[top]]
        ahead = []
        for row in popular[:ECLIPSE_CHECKS].tolist():
            if any(words <= set(name.split()) for name in self._names_of_row(row)):
                ahead.append(row)
                if len(ahead) == limit - 1:
                    break
        if not ahead:
            return order
        return np.concatenate([ahead, order[~np.isin(order, ahead)]])

    def fit(self, query: str, match: TitleMatch) -> Fit:
        """How `query` fits the names of the movie `match` is for (see Fit)."""
        row = self._row_of[match.movie_id]
        title_part, year = split_query_year(query)
        # "cinderella 2015" names Cinderella (2015): the year is not part of its title.
        key = normalize(title_part if year is not None and year == self._years[row] else query)
        words = set(key.split())
        # Counted as typed, before normalize drops a leading article: "The Babadook" is two
        # words, a title, where "babadook" alone may be a word (Rule.obscure).
        typed = sum(1 for word in query.split() if any(ch.isalnum() for ch in word))
        whole, cover = 0.0, 0.0
        for name in self._names_of_row(row):
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
    `words`: how many words were typed (a year and a leading article included).
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
    obscure: int  # a one-word exact title of a film less popular than this (ratings): offered
    obscure_new: int  # the same for a film with no ratings here (popularity from IMDb votes)

    def decide(self, matches: list[TitleMatch], fit: Fit | None) -> Kind:
        """EXACT, ASK or NONE for `matches` (best first) whose first one fits as `fit`."""
        if not matches or fit is None:
            return Kind.NONE
        top = matches[0]
        if fit.whole >= self.exact and clear_winner(matches) is top:
            # One typed word that is the title of a film almost nobody rated ("whatever",
            # "nothing", "lol") is far likelier a word than that film: ask.
            if fit.words == 1 and top.popularity < self.obscure:
                return Kind.ASK
            # ...and one nobody here has rated must be famous by IMDb's votes ("film": a
            # film called Film with 275k votes in the synthetic catalog, but no rating here).
            if fit.words == 1 and top.n_ratings == 0 and top.popularity < self.obscure_new:
                return Kind.ASK
            return Kind.EXACT
        if fit.whole >= self.ask or fit.cover >= self.partial_cover:
            return Kind.ASK
        return Kind.NONE


RULE = Rule(exact=90.0, ask=75.0, partial_cover=0.25, obscure=5, obscure_new=60)
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
    if any(other.score > top.score for other in matches[1:]):
        return None  # put first for its popularity over a closer match: never taken unasked
    if top.score - runner_up.score >= AMBIGUITY_MARGIN:
        return top
    if top.popularity >= POPULARITY_DOMINANCE * max(runner_up.popularity, 1):
        return top
    return None


def search_titles(db: Database, query: str, limit: int = 5) -> list[TitleMatch]:
    """Search the catalog in `db` once; code that searches often should keep a TitleIndex."""
    return TitleIndex.from_db(db).search(query, limit)
