"""The catalog from IMDb's datasets: which films are kept, how they merge with MovieLens', and
the one transaction that switches the catalog over.

Kept: every title the catalog already has (by IMDb id, whatever its type or votes: MovieLens'
links name some videos and TV films), and every other title that is a film (`movie` or
`tvMovie`), not adult, with a year and at least MIN_VOTES votes on IMDb. In IMDb's files
about 70,000 films have 500 votes or more, ~50,000 have 1,000 (of ~700,000 films listed): 500
keeps what people rate and import (of a realistic 2026 IMDb export's 41 films, all but a
festival film with 120 votes; every film of a Letterboxd export: tests/test_imdb_catalog.py)
at a size title search handles (tens of thousands of films, a few hundred thousand names);
1,000 would lose festival and small-country films that exports do hold, while lower
thresholds add mostly films nobody here would type, each one more namesake for search to ask
about. TV films are kept because IMDb exports list them as films (history_import imports
them); videos, shorts, series and episodes are not.

Merged by IMDb id: a film the catalog has keeps its id, title, year, genres and ratings, and
gains IMDb's rating, votes, runtime, directors, original title and alternative titles (its
MovieLens alternative titles stay first). A new film gets the id ID_OFFSET + the number of its
IMDb id (tt15398776 -> 1015398776): the same on every instance, and never a MovieLens id
(those are below a million); its genres are mapped onto MovieLens' names (GENRES) and its
`added_at` says when it came. Films are never removed: a film whose votes fall under the
threshold keeps its row (ratings and watchlists point at it) and its last known figures.

The files are read completely (which verifies them) before anything is written; then one
transaction writes every change, so a failure anywhere leaves the catalog as it was, and
readers (WAL) keep reading the old catalog until the commit.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlite_utils import Database

from storage.db import utc_now
from storage.imdb_files import (
    AKAS,
    BASICS,
    CREW,
    FILES,
    MAX_ALIASES,
    RATINGS,
    Basics,
    ImdbFileError,
    Progress,
    check_header,
    read_aliases,
    read_basics,
    read_directors,
    read_ratings,
)
from storage.titles import normalize, parse_movielens_title

ID_OFFSET = 1_000_000_000
MIN_VOTES = 500
KEEP_TYPES = frozenset({"movie", "tvMovie"})
# IMDb's genres in MovieLens' vocabulary (what the bot shows, translates and filters on).
# Biography, History and Sport are dramas unless the film is a documentary; Music films are
# musicals or concert films (MovieLens files both as Musical); Adult, Game-Show, News,
# Reality-TV, Short and Talk-Show have no MovieLens equivalent among films and are dropped.
GENRES = {
    "Action": "Action", "Adventure": "Adventure", "Animation": "Animation",
    "Comedy": "Comedy", "Crime": "Crime", "Documentary": "Documentary", "Drama": "Drama",
    "Family": "Children", "Fantasy": "Fantasy", "Film-Noir": "Film-Noir", "Horror": "Horror",
    "Music": "Musical", "Musical": "Musical", "Mystery": "Mystery", "Romance": "Romance",
    "Sci-Fi": "Sci-Fi", "Thriller": "Thriller", "War": "War", "Western": "Western",
    "Biography": "Drama", "History": "Drama", "Sport": "Drama",
}  # fmt: skip
DRAMA_UNLESS_DOCUMENTARY = frozenset({"Biography", "History", "Sport"})
ATTRIBUTION = "Information courtesy of IMDb (https://www.imdb.com). Used with permission."
TERMS = (
    "IMDb's non-commercial datasets: for personal and non-commercial use only "
    "(https://developer.imdb.com/non-commercial-datasets/); each operator downloads their own "
    "copy, nothing downloaded is shipped."
)


@dataclass(frozen=True)
class Film:
    """One film read from the files, ready to merge."""

    tconst: str
    basics: Basics
    rating: float | None
    votes: int | None
    directors: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class UpdateSummary:
    """What an update did."""

    films: int  # films in the files that the catalog now holds (kept)
    added: int  # new films
    updated: int  # catalog films that got IMDb's facts
    names: int  # alternative titles written
    newest_year: int | None
    write_seconds: float  # how long the write transaction held the database


def imdb_movie_id(tconst: str) -> int:
    """The catalog id of a film first added from IMDb: tt15398776 -> 1015398776."""
    if not (tconst.startswith("tt") and tconst[2:].isdigit()):
        raise ImdbFileError(f"{tconst!r} is not an IMDb title id")
    return ID_OFFSET + int(tconst[2:])


def movielens_genres(imdb_genres: Iterable[str]) -> str:
    """IMDb's genres as MovieLens' "Action|Drama" (GENRES; unknown ones dropped)."""
    names = set(imdb_genres)
    mapped = set()
    for genre in names:
        if genre in DRAMA_UNLESS_DOCUMENTARY and "Documentary" in names:
            continue
        if genre in GENRES:
            mapped.add(GENRES[genre])
    return "|".join(sorted(mapped))


def catalog_imdb_ids(db: Database) -> set[bytes]:
    """The IMDb ids the catalog already has, as the files spell them (b"tt0133093")."""
    rows = db.execute("SELECT DISTINCT imdb_id FROM movies WHERE imdb_id IS NOT NULL")
    return {imdb_id.encode("ascii", "replace") for (imdb_id,) in rows}


def missing_files(folder: Path) -> list[str]:
    return [name for name in FILES if not (folder / name).is_file()]


def read_catalog(
    folder: Path,
    known: set[bytes],
    min_votes: int = MIN_VOTES,
    progress: Progress | None = None,
) -> list[Film]:
    """Every film to keep from the four IMDb files in `folder` (`known`: the catalog's IMDb
    ids, kept whatever their type or votes). Reads each file to its end; ImdbFileError if one
    is missing, damaged or not in IMDb's format."""
    report = progress or (lambda stage, done, total: None)
    if missing := missing_files(folder):
        raise ImdbFileError(f"{folder} has no {', '.join(missing)}")
    for name in FILES:  # a wrong header fails at once, not after reading the others
        check_header(folder / name)
    ratings = read_ratings(folder / RATINGS, min_votes, known, report)
    wanted = dict.fromkeys(ratings.keys() | known)

    def keep(tconst: bytes, basics: Basics) -> bool:
        if tconst in known:
            return True
        return basics.title_type in KEEP_TYPES and not basics.adult and basics.year is not None

    basics = read_basics(folder / BASICS, wanted, keep, report)
    directors = read_directors(folder / CREW, basics, report)
    aliases = read_aliases(folder / AKAS, basics, report)
    films = []
    for tconst, film in basics.items():
        rating, votes = ratings.get(tconst, (None, None))
        films.append(
            Film(
                tconst.decode("ascii"),
                film,
                rating,
                votes,
                directors.get(tconst, ""),
                tuple(aliases.get(tconst, ())),
            )
        )
    return films


def _merge_names(title: str, *groups: Iterable[str], cap: int) -> str:
    """The alternative titles of `groups`, in order, without `title` or repeats after
    normalising; the names after the first group are capped at `cap`."""
    seen = {normalize(title)}
    chosen: list[str] = []
    for number, group in enumerate(groups):
        added = 0
        for name in group:
            key = normalize(name)
            if not key or key in seen or (number > 0 and added >= cap):
                continue
            seen.add(key)
            chosen.append(name.replace("\n", " ").strip())
            added += number > 0
    return "\n".join(chosen)


def apply_catalog(
    db: Database,
    films: list[Film],
    *,
    source: str,
    started_at: str,
    validators: dict[str, dict[str, str]] | None = None,
) -> UpdateSummary:
    """Merge `films` into the catalog in one transaction (the module docstring says how) and
    record the update; everything is computed before the transaction starts."""
    existing: dict[str, list[tuple]] = defaultdict(list)
    for row in db.execute(
        "SELECT id, imdb_id, title, source_title, added_at FROM movies WHERE imdb_id IS NOT NULL"
    ):
        existing[row[1]].append(row)
    bundled_rows, imdb_rows, new_rows = [], [], []
    now = utc_now()
    names = 0
    for film in films:
        b = film.basics
        facts = (film.rating, film.votes, b.runtime, b.original_title, film.directors)
        genres = movielens_genres(b.genres)
        rows = existing.get(film.tconst, [])
        for movie_id, _, title, source_title, added_at in rows:
            if added_at is None:  # from MovieLens: its title, year and genres stay
                own = parse_movielens_title(source_title).aliases
                aliases = _merge_names(title, own, [b.title, *film.aliases], cap=MAX_ALIASES)
                bundled_rows.append((*facts, aliases, movie_id))
            else:  # read_aliases made them distinct from the title and each other
                aliases = "\n".join(film.aliases)
                imdb_rows.append((*facts, aliases, b.title, b.year, genres, b.title, movie_id))
            names += aliases.count("\n") + bool(aliases)
        if not rows:
            aliases = "\n".join(film.aliases)
            names += aliases.count("\n") + bool(aliases)
            new_rows.append(
                (imdb_movie_id(film.tconst), b.title, b.year, genres, aliases, film.tconst)
                + (b.title, *facts, now)
            )
    newest = max((f.basics.year for f in films if f.basics.year), default=None)
    started = time.perf_counter()
    with db.atomic():
        db.conn.executemany(
            """
            UPDATE movies SET imdb_rating = ?, imdb_votes = ?, runtime = ?, original_title = ?,
                directors = ?, aliases = ?
            WHERE id = ?
            """,
            bundled_rows,
        )
        db.conn.executemany(
            """
            UPDATE movies SET imdb_rating = ?, imdb_votes = ?, runtime = ?, original_title = ?,
                directors = ?, aliases = ?, title = ?, year = ?, genres = ?, source_title = ?
            WHERE id = ?
            """,
            imdb_rows,
        )
        db.conn.executemany(
            """
            INSERT INTO movies (id, title, year, genres, aliases, imdb_id, source_title,
                imdb_rating, imdb_votes, runtime, original_title, directors, added_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            new_rows,
        )
        _record(
            db,
            source,
            "ok",
            started_at,
            films=len(films),
            added=len(new_rows),
            names=names,
            newest_year=newest,
            validators=validators,
        )
    return UpdateSummary(
        films=len(films),
        added=len(new_rows),
        updated=len(bundled_rows) + len(imdb_rows),
        names=names,
        newest_year=newest,
        write_seconds=time.perf_counter() - started,
    )


def record_outcome(
    db: Database,
    source: str,
    status: str,
    started_at: str,
    *,
    error: str | None = None,
    validators: dict[str, dict[str, str]] | None = None,
) -> None:
    """Record an update that changed no film: 'unchanged' (the files are the ones applied
    last) or 'failed' (with the one-line reason)."""
    with db.atomic():
        _record(db, source, status, started_at, error=error, validators=validators)


def _record(
    db: Database,
    source: str,
    status: str,
    started_at: str,
    *,
    films: int | None = None,
    added: int | None = None,
    names: int | None = None,
    newest_year: int | None = None,
    validators: dict[str, dict[str, str]] | None = None,
    error: str | None = None,
) -> None:
    db.execute(
        """
        INSERT INTO catalog_updates (source, started_at, finished_at, status, films, added,
            names, newest_year, validators, error)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [
            source,
            started_at,
            utc_now(),
            status,
            films,
            added,
            names,
            newest_year,
            json.dumps(validators) if validators is not None else None,
            error,
        ],
    )


def last_validators(db: Database, source: str) -> dict[str, dict[str, str]]:
    """The files' validators as of the last update that applied or confirmed them from
    `source` ({} when there is none): what a conditional download sends back."""
    row = db.execute(
        """
        SELECT validators FROM catalog_updates
        WHERE source = ? AND status IN ('ok', 'unchanged') AND validators IS NOT NULL
        ORDER BY id DESC LIMIT 1
        """,
        [source],
    ).fetchone()
    return json.loads(row[0]) if row else {}


def last_attempts(db: Database) -> tuple[str | None, str | None]:
    """(when the catalog was last updated or confirmed current, when an update was last
    tried at all), as finished_at timestamps; None when never."""
    success = db.execute(
        "SELECT max(finished_at) FROM catalog_updates WHERE status IN ('ok', 'unchanged')"
    ).fetchone()[0]
    tried = db.execute("SELECT max(finished_at) FROM catalog_updates").fetchone()[0]
    return success, tried


def catalog_status(db: Database) -> dict:
    """What the catalog holds and where it comes from, for `moviebot catalog status`."""
    films, from_imdb, with_facts, newest = db.execute(
        """
        SELECT count(*), count(added_at), count(imdb_votes), max(year) FROM movies
        """
    ).fetchone()
    last_ok = db.execute(
        """
        SELECT finished_at, source, films, added, names FROM catalog_updates
        WHERE status = 'ok' ORDER BY id DESC LIMIT 1
        """
    ).fetchone()
    last = db.execute(
        "SELECT finished_at, source, status, error FROM catalog_updates ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return {
        "films": films,
        "from_imdb": from_imdb,
        "with_imdb_facts": with_facts,
        "newest_year": newest,
        "last_update": (
            dict(zip(("at", "source", "films", "added", "names"), last_ok, strict=True))
            if last_ok
            else None
        ),
        "last_attempt": (
            dict(zip(("at", "source", "status", "error"), last, strict=True)) if last else None
        ),
        "source": "MovieLens latest-small (bundled, up to 2018)"
        + (" + IMDb's datasets" if last_ok else ""),
        "terms": TERMS,
        "attribution": ATTRIBUTION,
    }


def last_catalog_change(db: Database) -> str | None:
    """When an update last changed the catalog (finished_at of the last applied one; None:
    never): the running bot compares it to notice an update, its own or a `moviebot catalog
    update` beside it, and a refit compares it to when the model was fitted."""
    return db.execute(
        "SELECT max(finished_at) FROM catalog_updates WHERE status = 'ok'"
    ).fetchone()[0]


def recent_well_known(db: Database, since_year: int, limit: int) -> list[int]:
    """The `limit` films from `since_year` on with the most IMDb votes, most first (films
    without IMDb's figures are left out): what onboarding adds to the most-rated classics."""
    rows = db.execute(
        """
        SELECT id FROM movies WHERE year >= ? AND imdb_votes IS NOT NULL
        ORDER BY imdb_votes DESC, id LIMIT ?
        """,
        [since_year, limit],
    ).fetchall()
    return [movie_id for (movie_id,) in rows]
