"""Matching an imported history to the catalog: an IMDb id, else the title and year, each
row's movie and how it was found (bot/files/history_import.py reads the file and plans the
import)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlite_utils import Database

from storage.imports import movies_by_imdb_id
from storage.movies import search_rows
from storage.search import Kind, Resolution, TitleIndex
from storage.titles import normalize

# Letterboxd and MovieLens may date a film a year apart (festival premiere vs release): an
# exact title this far off, of a name no other catalog movie has, is shown as a weak match
# (reported, not imported: it may as well be a remake the catalog lacks).
YEAR_SLACK = 1


class Match(StrEnum):
    """How a title and year found the catalog."""

    FOUND = "found"
    WEAK = "weak"  # a candidate, not sure enough to take
    NONE = "none"


@dataclass(frozen=True)
class TitleFound:
    """The answer of `match_title`: the movie (FOUND), or the best candidate (WEAK)."""

    match: Match
    movie_id: int | None = None
    candidate: str | None = None  # the label of the weak candidate


class CatalogMatcher:
    """The catalog, ready to match many export rows: by IMDb id, by exact title and year,
    then by the title index's acceptance rule."""

    def __init__(self, db: Database, index: TitleIndex | None = None) -> None:
        """Read the catalog once; `index` is the bot's own title index when it has one."""
        self.index = index or TitleIndex.from_db(db)
        self.by_imdb = movies_by_imdb_id(db)
        self.years: dict[int, int | None] = {}
        self.labels: dict[int, str] = {}
        self._by_name_year: dict[tuple[str, int | None], set[int]] = {}
        self._by_name: dict[str, set[int]] = {}
        self._names: dict[int, set[str]] = {}
        for movie_id, title, year, aliases, _rest in search_rows(db):
            self.years[movie_id] = year
            self.labels[movie_id] = f"{title} ({year})" if year else title
            self._names[movie_id] = {normalize(n) for n in [title, *aliases.splitlines()]} - {""}
            for name in self._names[movie_id]:
                self._by_name_year.setdefault((name, year), set()).add(movie_id)
                self._by_name.setdefault(name, set()).add(movie_id)
        # The newest year the catalog knows: a film after it is "newer than my catalog".
        self.newest_year: int | None = max((y for y in self.years.values() if y), default=None)

    def match_titles(self, pairs: list[tuple[str, int | None]]) -> list[TitleFound]:
        """`match_title` of every (title, year) pair, batched: each distinct pair is matched
        once, the exact names by dict, the rest in one `TitleIndex.match_many` call (an
        export's zip repeats its titles across ratings, watched and watchlist)."""
        found: dict[tuple[str, int | None], TitleFound | None] = {}
        for pair in pairs:
            if pair not in found:
                found[pair] = self._by_name_only(*pair)
        left = [pair for pair, answer in found.items() if answer is None]
        queries = [(title[:200], year) for title, year in left]
        for pair, resolution in zip(left, self.index.match_many(queries), strict=True):
            found[pair] = self._judged(*pair, resolution)
        return [found[pair] for pair in pairs]  # type: ignore[misc]

    def match_title(self, title: str, year: int | None) -> TitleFound:
        """The catalog movie called `title` from `year`; never a guess.

        1. A name (title or alternative title) equal to `title` after normalising, from that
           year: found when exactly one movie has it, weak when several do.
        2. The same name YEAR_SLACK years off, when no other catalog movie has that name:
           weak, shown with that candidate (a festival year, or a remake the catalog lacks:
           of the catalog's own same-name pairs, 10 of 424 are a year or less apart).
        3. Else the title index (storage.search.resolve, the acceptance rule of /rate) on
           "title year" for a candidate: found only when it has a name with the same words in
           another order, from that year; any other candidate is weak. An export's titles
           are exact, not typed: a letter or a digit off ("Superman III" for "Superman II",
           same year) is another film, so the typo tolerance /rate needs is not used here.
        """
        return self.match_titles([(title, year)])[0]

    def _by_name_only(self, title: str, year: int | None) -> TitleFound | None:
        """Steps 1 and 2 of `match_title`; None when the title index must be asked."""
        key = normalize(title)
        if not key:
            return TitleFound(Match.NONE)
        if year is not None:
            exact = self._by_name_year.get((key, year), set())
            if len(exact) == 1:
                return TitleFound(Match.FOUND, next(iter(exact)))
            if len(exact) > 1:
                first = min(exact)
                return TitleFound(Match.WEAK, candidate=self.labels[first])
            named = self._by_name.get(key, set())
            if len(named) == 1:
                (only,) = named
                near = self.years[only]
                if near is not None and abs(near - year) <= YEAR_SLACK:
                    return TitleFound(Match.WEAK, candidate=self.labels[only])
        elif len(self._by_name.get(key, ())) == 1:
            return TitleFound(Match.FOUND, next(iter(self._by_name[key])))
        return None

    def _judged(self, title: str, year: int | None, resolution: Resolution) -> TitleFound:
        """Step 3 of `match_title`: the title index's answer, taken only when sure."""
        if resolution.kind is Kind.NONE:
            return TitleFound(Match.NONE)
        top = resolution.choices[0]
        words = sorted(normalize(title).split())
        same_words = any(sorted(name.split()) == words for name in self._names[top.movie_id])
        same_year = year is None or self.years.get(top.movie_id) == year
        if resolution.kind is Kind.EXACT and same_words and same_year:
            return TitleFound(Match.FOUND, top.movie_id)
        return TitleFound(Match.WEAK, candidate=top.label)
