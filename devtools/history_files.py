"""IMDb and Letterboxd export files for tests and benchmarks, built from the bundled catalog.

``catalog_sample(db, n)`` picks real catalog movies (real IMDb ids and titles); the writers
lay rows out exactly as the two sites export them; ``zip_bomb`` is a small zip that unpacks
to far more than an export, ``row_bomb`` one that unpacks to millions of tiny rows.
"""

from __future__ import annotations

import csv
import io
import random
import zipfile
from dataclasses import dataclass

from sqlite_utils import Database

IMDB_HEADER = [
    "Const",
    "Your Rating",
    "Date Rated",
    "Title",
    "Original Title",
    "URL",
    "Title Type",
    "IMDb Rating",
    "Runtime (mins)",
    "Year",
    "Genres",
    "Num Votes",
    "Release Date",
    "Directors",
]
LETTERBOXD_RATINGS_HEADER = ["Date", "Name", "Year", "Letterboxd URI", "Rating"]
LETTERBOXD_HEADER = ["Date", "Name", "Year", "Letterboxd URI"]
# Real IMDb titles that are not films: a series, a mini-series, an episode, a game.
NOT_MOVIES = [
    ("tt0903747", "Breaking Bad", 2008, "TV Series"),
    ("tt0944947", "Game of Thrones", 2011, "TV Series"),
    ("tt0795176", "Planet Earth", 2006, "TV Mini Series"),
    ("tt0959621", "Pilot", 2008, "TV Episode"),
    ("tt2140553", "Grand Theft Auto V", 2013, "Video Game"),
]
# Real films the bundled catalog (MovieLens, up to 2018) does not have.
NOT_IN_CATALOG = [
    ("tt1160419", "Dune", 2021),
    ("tt1877830", "The Batman", 2022),
    ("tt1745960", "Top Gun: Maverick", 2022),
    ("tt1979376", "Toy Story 4", 2019),
    ("tt7286456", "Joker", 2019),
]


@dataclass(frozen=True)
class CatalogMovie:
    movie_id: int
    imdb_id: str
    title: str
    year: int


def catalog_sample(db: Database, n: int, seed: int = 0) -> list[CatalogMovie]:
    """`n` catalog movies with an IMDb id and a year, drawn at random (`seed`)."""
    rows = db.execute(
        "SELECT id, imdb_id, title, year FROM movies "
        "WHERE imdb_id IS NOT NULL AND year IS NOT NULL ORDER BY id"
    ).fetchall()
    picked = random.Random(seed).sample(rows, min(n, len(rows)))
    return [CatalogMovie(*row) for row in picked]


def imdb_row(
    const: str, score: int | str, title: str, year: int, title_type: str = "Movie", day: int = 1
) -> list[str]:
    """One line of IMDb's ratings export."""
    return [
        const,
        str(score),
        f"2024-01-{day:02d}",
        title,
        title,
        f"https://www.imdb.com/title/{const}/",
        title_type,
        "7.5",
        "120",
        str(year),
        "Drama",
        "1000",
        f"{year}-01-01",
        "Someone",
    ]


def letterboxd_row(title: str, year: int | None, stars: float | None = None, day: int = 1):
    """One line of Letterboxd's ratings.csv (with `stars`) or watched/watchlist.csv."""
    row = [f"2024-02-{day:02d}", title, str(year or ""), "https://boxd.it/abc"]
    return row if stars is None else [*row, f"{stars:g}"]


def to_csv(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def imdb_csv(rows: list[list[str]]) -> bytes:
    return to_csv(IMDB_HEADER, rows)


def letterboxd_zip(
    ratings: list[list[str]], watched: list[list[str]] = (), watchlist: list[list[str]] = ()
) -> bytes:
    """A Letterboxd export zip: ratings.csv, watched.csv, watchlist.csv and files we skip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ratings.csv", to_csv(LETTERBOXD_RATINGS_HEADER, ratings))
        archive.writestr("watched.csv", to_csv(LETTERBOXD_HEADER, list(watched)))
        archive.writestr("watchlist.csv", to_csv(LETTERBOXD_HEADER, list(watchlist)))
        archive.writestr("profile.csv", "Date Joined,Username\r\n2020-01-01,someone\r\n")
        archive.writestr("lists/favourites.csv", "Letterboxd list export v7\r\n")
    return buffer.getvalue()


def row_bomb(rows: int = 3_000_000) -> bytes:
    """A zip of a few KB whose ratings.csv is a Letterboxd header and `rows` one-letter rows
    (issue 24: 6 KB that took the bot to 1.4 GB when read whole)."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("ratings.csv", "w", force_zip64=True) as member,
    ):
        member.write(b"Date,Name,Year,Letterboxd URI,Rating\n")
        for _ in range(rows // 100_000):
            member.write(b"x\n" * 100_000)
    return buffer.getvalue()


def zip_bomb(unpacked_bytes: int = 512 * 2**20) -> bytes:
    """A zip of well under a megabyte whose ratings.csv unpacks to `unpacked_bytes`."""
    buffer = io.BytesIO()
    chunk = b"0" * 2**20
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("ratings.csv", "w", force_zip64=True) as member,
    ):
        for _ in range(unpacked_bytes // len(chunk)):
            member.write(chunk)
    return buffer.getvalue()
