"""/export: a user's ratings and watchlist as CSV files other sites import.

- "letterboxd": the ratings in Letterboxd's import format (letterboxd.com/import): tmdbID and
  imdbID (Letterboxd matches on those first), Title, Year, Rating10 (our 1-10 scale, which
  Letterboxd halves into stars) and WatchedDate. WatchedDate is left empty: we know when a
  score was given, not when the film was watched, and a date there makes a diary entry.
- "letterboxd-watchlist": the watchlist in the same format, without ratings (Letterboxd's
  watchlist importer takes it).
- "imdb": the ratings in IMDb's own export layout (Const, Your Rating, Date Rated, Title, URL,
  Title Type, Year, Genres), which IMDb-reading tools and this bot's own import accept. Movies
  without an IMDb id cannot be written there and are left out.
"""

from __future__ import annotations

import csv
import io

from sqlite_utils import Database

from bot.ui.replies import Document
from storage.imports import ExportRow, history_for_export

FILE_NAMES = {
    "letterboxd": "moviebot-ratings-letterboxd.csv",
    "imdb": "moviebot-ratings-imdb.csv",
    "letterboxd-watchlist": "moviebot-watchlist-letterboxd.csv",
}
LETTERBOXD_COLUMNS = ["tmdbID", "imdbID", "Title", "Year", "Rating10", "WatchedDate"]
WATCHLIST_COLUMNS = ["tmdbID", "imdbID", "Title", "Year"]
IMDB_COLUMNS = [
    "Const",
    "Your Rating",
    "Date Rated",
    "Title",
    "URL",
    "Title Type",
    "Year",
    "Genres",
]


def render(db: Database, document: Document) -> tuple[str, bytes]:
    """(file name, UTF-8 CSV bytes) of the export `document` asks for."""
    rated, saved = history_for_export(db, document.subject)
    if document.kind == "letterboxd":
        return FILE_NAMES["letterboxd"], _csv(
            LETTERBOXD_COLUMNS,
            (
                [r.tmdb_id or "", r.imdb_id or "", r.title, r.year or "", r.rating, ""]
                for r in rated
            ),
        )
    if document.kind == "letterboxd-watchlist":
        return FILE_NAMES["letterboxd-watchlist"], _csv(
            WATCHLIST_COLUMNS,
            ([r.tmdb_id or "", r.imdb_id or "", r.title, r.year or ""] for r in saved),
        )
    if document.kind == "imdb":
        return FILE_NAMES["imdb"], _csv(IMDB_COLUMNS, (_imdb_row(r) for r in rated if r.imdb_id))
    raise ValueError(f"no export called {document.kind!r}")


def _letterboxd_row(row: ExportRow) -> list[object]:
    return [row.tmdb_id or "", row.imdb_id or "", row.title, row.year or "", row.rating, ""]


def _imdb_row(row: ExportRow) -> list[object]:
    return [
        row.imdb_id,
        row.rating,
        row.date[:10],
        row.title,
        f"https://www.imdb.com/title/{row.imdb_id}/",
        "Movie",
        row.year or "",
        ", ".join(g for g in row.genres.split("|") if g and g != "(no genres listed)"),
    ]


def _csv(columns: list[str], rows) -> bytes:
    """The rows as CSV text with a header, encoded UTF-8 (what both sites read)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")
