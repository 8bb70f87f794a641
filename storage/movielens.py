"""Importing a MovieLens-format dataset (a folder or a zip): movies, links, and its ratings.

Stars (0.5-5 in halves) are doubled onto our 1-10 scale. Each dataset's people become users
with negative ids, -(dataset number x 10^9 + MovieLens userId): Telegram user ids are positive,
so the two can never collide, and two datasets' "user 1" stay two people. A userId must be
from 1 to USER_ID_BLOCK - 1 to stay inside its dataset's block (a negative or huge one would
land on another dataset's people, or on a real Telegram user).
Importing the same dataset again adds nothing. A file that is not what it claims (not UTF-8,
a bad zip, a line or a zip member too large, an id out of range) is one DatasetError and the
database is left as it was: a zip's declared sizes are checked before anything is inflated,
and lines are read at most MAX_LINE characters at a time, so a zip bomb cannot fill memory.
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlite_utils import Database

from storage.db import utc_now
from storage.errors import DatasetError
from storage.titles import parse_movielens_title

USER_ID_BLOCK = 1_000_000_000
BATCH = 50_000
# Movie ids are stored as SQLite integers (8 bytes); MovieLens's are below a million.
MAX_MOVIE_ID = 2**53
# A CSV line longer than this is not MovieLens (its longest title line is under 200).
MAX_LINE = 64 * 1024
# What a zip's files may inflate to in all, and how much they may inflate by: the full
# MovieLens (ml-latest, 33M ratings) is about 1 GB of CSV at about 5:1.
MAX_UNCOMPRESSED = 8 * 1024**3
MAX_RATIO = 100
# What a damaged or mis-encoded file raises while it is read.
_BAD_FILE = (UnicodeDecodeError, zipfile.BadZipFile, zlib.error, EOFError, csv.Error)

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True)
class ImportSummary:
    dataset: str
    movies_added: int
    users_added: int
    ratings_added: int


def synthetic_user_id(dataset_number: int, movielens_user_id: int) -> int:
    """Our id for MovieLens user `movielens_user_id` (1 to USER_ID_BLOCK - 1) of a dataset."""
    if not 1 <= movielens_user_id < USER_ID_BLOCK:
        raise DatasetError(f"userId {movielens_user_id} is outside 1-{USER_ID_BLOCK - 1}")
    return -(dataset_number * USER_ID_BLOCK + movielens_user_id)


class _Source:
    """The CSV files of a MovieLens folder or zip, opened as text."""

    def __init__(self, path: Path, stack: ExitStack) -> None:
        self.path = path
        self._stack = stack
        if path.is_dir():
            self.name = path.name
            self._zip = None
        elif zipfile.is_zipfile(path):
            self.name = path.stem
            try:
                self._zip = stack.enter_context(zipfile.ZipFile(path))
            except (zipfile.BadZipFile, OSError, EOFError) as error:
                raise DatasetError(f"{path} is not a readable zip file ({error})") from error
            _check_sizes(path, self._zip)
        else:
            raise DatasetError(f"{path} is neither a folder nor a zip file")

    def open(self, filename: str, required: bool = True) -> IO[str] | None:
        if self._zip is None:
            file = self.path / filename
            if not file.is_file():
                if required:
                    raise DatasetError(f"{self.path} has no {filename}")
                return None
            return self._stack.enter_context(file.open(encoding="utf-8", newline=""))
        members = [n for n in self._zip.namelist() if n.split("/")[-1] == filename]
        if not members:
            if required:
                raise DatasetError(f"{self.path} has no {filename}")
            return None
        raw = self._stack.enter_context(self._zip.open(min(members, key=len)))
        return io.TextIOWrapper(raw, encoding="utf-8", newline="")


def _check_sizes(path: Path, archive: zipfile.ZipFile) -> None:
    """Refuse a zip whose files would inflate too far, before inflating any of them."""
    infos = archive.infolist()
    total = sum(info.file_size for info in infos)
    if total > MAX_UNCOMPRESSED:
        raise DatasetError(
            f"{path} would inflate to {total:,} bytes; the limit is {MAX_UNCOMPRESSED:,}"
        )
    for info in infos:
        if info.file_size > 1024**2 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise DatasetError(
                f"{path}: {info.filename} inflates {info.file_size // max(info.compress_size, 1):,}"
                f" times over (a zip bomb?); MovieLens files inflate about 5 times"
            )


def _lines(file: IO[str], filename: str) -> Iterator[str]:
    """The file's lines, refusing one longer than MAX_LINE before it is all in memory."""
    while line := file.readline(MAX_LINE + 1):
        if len(line) > MAX_LINE:
            raise DatasetError(f"{filename} has a line longer than {MAX_LINE:,} characters")
        yield line


def _rows(file: IO[str], filename: str, columns: tuple[str, ...]) -> Iterator[tuple[int, list]]:
    reader = csv.reader(_lines(file, filename))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header[: len(columns)]) != columns:
        raise DatasetError(f"{filename} should start with the header {','.join(columns)}")
    for line_number, row in enumerate(reader, start=2):
        if row:
            yield line_number, row


def _count_lines(source: _Source, filename: str) -> int:
    file = source.open(filename)
    return sum(1 for _ in _lines(file, filename)) - 1


def _check_movie_id(movie_id: int, filename: str, line: int) -> int:
    if not 1 <= movie_id <= MAX_MOVIE_ID:
        raise DatasetError(f"{filename} line {line}: movie id {movie_id} is out of range")
    return movie_id


def import_movielens(
    db: Database, path: str | Path, progress: Progress | None = None
) -> ImportSummary:
    """Import the MovieLens dataset at `path` in one transaction: all of it, or nothing."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path} does not exist")
    report = progress or (lambda stage, done, total: None)
    try:
        return _import(db, path, report)
    except _BAD_FILE as error:
        # Raised inside the transaction, so nothing of the file was kept.
        raise DatasetError(f"{path} cannot be read: {error}") from error
    except OSError as error:
        raise DatasetError(f"{path} cannot be read: {error.strerror or error}") from error


def _import(db: Database, path: Path, report: Progress) -> ImportSummary:
    with ExitStack() as stack:
        source = _Source(path, stack)
        total_ratings = _count_lines(source, "ratings.csv")
        with db.atomic():
            dataset_number = _dataset_number(db, source.name)
            movies_before = db.execute("SELECT count(*) FROM movies").fetchone()[0]
            links = _read_links(source)
            merged = _merged_ids(db, links)
            _import_movies(db, source, merged)
            _import_links(db, links, merged)
            movies_added = db.execute("SELECT count(*) FROM movies").fetchone()[0] - movies_before
            users_added, ratings_added = _import_ratings(
                db, source, dataset_number, total_ratings, report, merged
            )
            db.execute(
                "UPDATE datasets SET n_movies = ?, n_ratings = ? WHERE id = ?",
                [movies_added, ratings_added, dataset_number],
            )
    return ImportSummary(source.name, movies_added, users_added, ratings_added)


def _dataset_number(db: Database, name: str) -> int:
    row = db.execute("SELECT id FROM datasets WHERE name = ?", [name]).fetchone()
    if row:
        return row[0]
    cursor = db.execute("INSERT INTO datasets (name, imported_at) VALUES (?, ?)", [name, utc_now()])
    return cursor.lastrowid


def _merged_ids(db: Database, links: list[tuple]) -> dict[int, int]:
    """{dataset movieId: catalog id} for the dataset's films that the catalog has already
    under another id, found by IMDb id (a film added from IMDb's datasets, whose id is
    storage.imdb_catalog's): the dataset's ratings go to that film instead of a duplicate."""
    by_imdb: dict[str, int] = {}
    ids = set()
    for movie_id, imdb in db.execute("SELECT id, imdb_id FROM movies ORDER BY id"):
        ids.add(movie_id)
        if imdb is not None:
            by_imdb.setdefault(imdb, movie_id)
    merged = {}
    for imdb, _tmdb, movie_id in links:
        # A movieId the catalog has already keeps its own row, as before.
        existing = by_imdb.get(imdb)
        if existing is not None and existing != movie_id and movie_id not in ids:
            merged[movie_id] = existing
    return merged


def _import_movies(db: Database, source: _Source, merged: dict[int, int]) -> None:
    rows = []
    for line, row in _rows(source.open("movies.csv"), "movies.csv", ("movieId", "title", "genres")):
        try:
            movie_id = int(row[0])
            raw_title, genres = row[1], row[2]
        except (ValueError, IndexError) as error:
            raise DatasetError(f"movies.csv line {line}: {row!r} is not id,title,genres") from error
        _check_movie_id(movie_id, "movies.csv", line)
        if movie_id in merged:
            continue
        parsed = parse_movielens_title(raw_title)
        genres = "" if genres == "(no genres listed)" else genres
        aliases = "\n".join(parsed.aliases)
        rows.append((movie_id, parsed.title, parsed.year, genres, aliases, raw_title))
    db.conn.executemany(
        """
        INSERT OR IGNORE INTO movies (id, title, year, genres, aliases, source_title)
        VALUES (?, ?, ?, ?, ?, ?)
        """,
        rows,
    )


def _read_links(source: _Source) -> list[tuple]:
    """(imdb id, tmdb id, movieId) for each row of links.csv; [] when there is none."""
    file = source.open("links.csv", required=False)
    if file is None:
        return []
    rows = []
    for line, row in _rows(file, "links.csv", ("movieId", "imdbId", "tmdbId")):
        try:
            movie_id = int(row[0])
            imdb_number = int(row[1]) if row[1].strip() else 0
            imdb = f"tt{imdb_number:07d}" if row[1].strip() else None
            tmdb = int(row[2]) if len(row) > 2 and row[2].strip() else None
        except (ValueError, IndexError) as error:
            raise DatasetError(
                f"links.csv line {line}: {row!r} is not movieId,imdbId,tmdbId"
            ) from error
        if not (0 <= imdb_number <= MAX_MOVIE_ID and 0 <= (tmdb or 0) <= MAX_MOVIE_ID):
            raise DatasetError(f"links.csv line {line}: {row!r} has an id out of range")
        rows.append((imdb, tmdb, _check_movie_id(movie_id, "links.csv", line)))
    return rows


def _import_links(db: Database, links: list[tuple], merged: dict[int, int]) -> None:
    rows = [(imdb, tmdb, merged.get(movie_id, movie_id)) for imdb, tmdb, movie_id in links]
    # Only fill gaps, so importing again (or a second dataset) never rewrites known links.
    db.conn.executemany(
        """
        UPDATE movies SET imdb_id = coalesce(imdb_id, ?), tmdb_id = coalesce(tmdb_id, ?)
        WHERE id = ?
        """,
        rows,
    )


def _import_ratings(
    db: Database,
    source: _Source,
    dataset_number: int,
    total: int,
    report: Progress,
    merged: dict[int, int],
) -> tuple[int, int]:
    known_movies = {row[0] for row in db.execute("SELECT id FROM movies")}
    users_before = db.execute("SELECT count(*) FROM users").fetchone()[0]
    ratings_before = db.execute("SELECT count(*) FROM ratings").fetchone()[0]
    seen_users: set[int] = set()
    batch: list[tuple] = []
    done = 0
    columns = ("userId", "movieId", "rating", "timestamp")
    for line, row in _rows(source.open("ratings.csv"), "ratings.csv", columns):
        try:
            movielens_user = int(row[0])
            movie_id = int(row[1])
            score = float(row[2]) * 2
            stamp = datetime.fromtimestamp(int(row[3]), UTC).isoformat(timespec="seconds")
        except (ValueError, IndexError, OverflowError, OSError) as error:
            raise DatasetError(f"ratings.csv line {line}: {row!r} is not a rating row") from error
        if not 1 <= movielens_user < USER_ID_BLOCK:
            raise DatasetError(
                f"ratings.csv line {line}: userId {movielens_user} is outside 1-{USER_ID_BLOCK - 1}"
            )
        user = synthetic_user_id(dataset_number, movielens_user)
        _check_movie_id(movie_id, "ratings.csv", line)
        movie_id = merged.get(movie_id, movie_id)
        if not (1 <= score <= 10 and score == int(score)):
            raise DatasetError(f"ratings.csv line {line}: {row[2]} is not 0.5-5 in half stars")
        if movie_id not in known_movies:
            raise DatasetError(f"ratings.csv line {line}: movie {movie_id} is not in movies.csv")
        if user not in seen_users:
            seen_users.add(user)
            db.execute(
                "INSERT OR IGNORE INTO users (id, display_name, created_at) VALUES (?, ?, ?)",
                [user, f"{source.name} user {row[0]}", utc_now()],
            )
        batch.append((user, movie_id, int(score), stamp, stamp))
        if len(batch) >= BATCH:
            done += _insert_ratings(db, batch)
            report("ratings", done, total)
    done += _insert_ratings(db, batch)
    report("ratings", done, total)
    users_added = db.execute("SELECT count(*) FROM users").fetchone()[0] - users_before
    ratings_added = db.execute("SELECT count(*) FROM ratings").fetchone()[0] - ratings_before
    return users_added, ratings_added


def _insert_ratings(db: Database, batch: list[tuple]) -> int:
    db.conn.executemany(
        """
        INSERT OR IGNORE INTO ratings (user_id, movie_id, rating, created_at, updated_at)
        VALUES (?, ?, ?, ?, ?)
        """,
        batch,
    )
    n = len(batch)
    batch.clear()
    return n
