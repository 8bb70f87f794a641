"""Reading a ratings history exported from IMDb or Letterboxd, and deciding what it adds.

    file (bytes, name) --read_file--> rows --plan_import--> Plan: what is new, what differs,
    what is not in the catalog, not a movie, only weakly matched, unreadable --> applied on one
    tap (storage/imports.apply_import), or by `moviebot import-ratings`

Formats, told apart by their header (and, for Letterboxd's watched and watchlist files, which
share one header, by the file name):
- IMDb's ratings export: Const, Your Rating (1-10, our scale), Date Rated, Title, ..., Title
  Type, ..., Year. Matched by IMDb id (the catalog has it from MovieLens' links.csv).
- IMDb's watchlist export: Position, Const, ... (rows go on the watchlist).
- Letterboxd's ratings.csv (Date, Name, Year, Letterboxd URI, Rating in half stars 0.5-5,
  doubled onto 1-10), watched.csv and watchlist.csv (Date, Name, Year, Letterboxd URI), or the
  whole export .zip (those three files are read, the rest is left alone). Matched by title and
  year (`match_title`): a weak match is reported, never guessed.

Reading and planning are pure: the catalog comes in as a `CatalogMatcher`, the user's
current history as a `History` (`current_history` reads it), so the bot, the console and
`moviebot import-ratings` share them; storage/imports.apply_import stores a plan.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import IO

from sqlite_utils import Database

from bot.files.capped_csv import CapExceeded, capped_stream, records
from bot.files.history_matching import CatalogMatcher, Match
from bot.files.history_preview import preview_lines
from bot.files.import_plan import Plan
from bot.ui import i18n
from bot.ui.i18n import N_, _
from storage import ratings, watchlist

# Telegram lets a bot download files up to 20 MB (getFile); the CLI keeps the same cap.
MAX_FILE_BYTES = 20 * 2**20
# What a zip may unpack to, checked on its directory before anything is inflated.
MAX_UNPACKED_BYTES = 64 * 2**20
# Rows per import: Letterboxd's heaviest users log around 10,000 films.
MAX_ROWS = 25_000
# Lines per CSV (blank ones too) and characters per row (quoted lines joined): an export's
# rows are a few hundred characters; more is refused while reading, before it is in memory.
MAX_LINES = 2 * MAX_ROWS + 1000
MAX_ROW_CHARS = 64 * 2**10

LETTERBOXD_FILES = ("ratings.csv", "watched.csv", "watchlist.csv")
# IMDb "Title Type"s that are not films (both the current and the older export's spelling,
# compared case- and space-blind).
NOT_MOVIES = frozenset(
    {
        "tvseries",
        "tvminiseries",
        "tvepisode",
        "videogame",
        "podcastseries",
        "podcastepisode",
        "musicvideo",
    }
)

UNRECOGNISED = N_(
    "I don't recognise that file. Send me IMDb's ratings export (imdb.com → Your ratings → "
    "Export) or Letterboxd's export (Settings → Data → Export: the .zip, or its ratings.csv, "
    "watched.csv or watchlist.csv). Nothing was imported."
)


class BadFile(Exception):
    """A file that cannot be imported; the message says why, for the person who sent it."""


class Source(StrEnum):
    """Which export a row came from: what it means for the user's history (its value, in
    English, names it in the preview, translated there)."""

    IMDB_RATINGS = N_("IMDb ratings")
    IMDB_WATCHLIST = N_("IMDb watchlist")
    LETTERBOXD_RATINGS = N_("Letterboxd ratings")
    LETTERBOXD_WATCHED = N_("Letterboxd watched")
    LETTERBOXD_WATCHLIST = N_("Letterboxd watchlist")
    # Letterboxd's import format (tmdbID, imdbID, Title, Year, Rating10): what /export writes.
    IMPORT_RATINGS = N_("Letterboxd-format ratings")
    IMPORT_WATCHLIST = N_("Letterboxd-format watchlist")

    @property
    def action(self) -> str:
        """What a matched row does: "rate", "save" (watchlist) or "seen"."""
        if self in (Source.IMDB_RATINGS, Source.LETTERBOXD_RATINGS, Source.IMPORT_RATINGS):
            return "rate"
        if self is Source.LETTERBOXD_WATCHED:
            return "seen"
        return "save"


@dataclass(frozen=True)
class Row:
    """One line of an export, read but not matched yet."""

    source: Source
    line: int
    title: str
    year: int | None
    imdb_id: str | None = None
    score: int | None = None  # 1-10, for ratings
    title_type: str | None = None  # IMDb's
    date: str = ""
    problem: str | None = None  # why the row cannot be used (a bad score, no title)

    @property
    def label(self) -> str:
        return (
            f"{self.title} ({self.year})"
            if self.year
            else self.title or _("line {n}").format(n=self.line)
        )


# ---------------------------------------------------------------------- reading


def read_file(data: bytes, file_name: str) -> list[Row]:
    """Every row of the export in `data` (a CSV or a zip of them); BadFile when it is not one
    (empty, not UTF-8 text, an unknown header, too big, a zip bomb, too many rows).

    Read as a stream: a zip member is inflated a piece at a time (never past
    MAX_UNPACKED_BYTES in all), the CSV parsed a line at a time, and the file refused as soon
    as it passes MAX_ROWS rows, MAX_LINES lines or a row of MAX_ROW_CHARS, before the rest
    exists in memory (issue 24: a 6 KB zip of 3 M tiny rows took 1.4 GB; now some 20 MB)."""
    if not data:
        raise BadFile(_("That file is empty. Nothing was imported."))
    if len(data) > MAX_FILE_BYTES:
        raise BadFile(too_large_message())
    if data[:4] == b"PK\x03\x04":
        return _read_zip(data)
    if b"\x00" in data:  # a binary file, not text
        raise BadFile(_(UNRECOGNISED))
    return _read_csv(io.BytesIO(data), file_name, [MAX_ROWS])


def too_large_message() -> str:
    """What to say about a file over MAX_FILE_BYTES."""
    return _(
        "That file is over {megabytes} MB, more than Telegram lets me download. Send the "
        "ratings CSV on its own. Nothing was imported."
    ).format(megabytes=MAX_FILE_BYTES // 2**20)


def _read_zip(data: bytes) -> list[Row]:
    """The rows of the exports inside a zip, refusing a bomb before inflating anything."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [m for m in archive.infolist() if not m.is_dir()]
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise BadFile(_("That zip file is damaged. Nothing was imported.")) from error
    unpacked = sum(m.file_size for m in members)
    if unpacked > MAX_UNPACKED_BYTES:
        raise BadFile(
            _(
                "That zip unpacks to more than {megabytes} MB, far more than an export. "
                "Nothing was imported."
            ).format(megabytes=MAX_UNPACKED_BYTES // 2**20)
        )
    rows: list[Row] = []
    found = False
    budget, rows_left = [MAX_UNPACKED_BYTES], [MAX_ROWS]
    for member in members:
        name = member.filename
        wanted = "/" not in name and name.lower() in LETTERBOXD_FILES
        if not (wanted or (name.lower().endswith(".csv") and "imdb" in name.lower())):
            continue
        try:
            with archive.open(member) as stream:
                capped = capped_stream(stream, budget)
                if not capped.peek(1):
                    continue
                rows.extend(_read_csv(capped, name, rows_left))
        except CapExceeded:
            raise BadFile(
                _("That zip unpacks to more than {megabytes} MB. Nothing was imported.").format(
                    megabytes=MAX_UNPACKED_BYTES // 2**20
                )
            ) from None
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError) as error:
            raise BadFile(_("That zip file is damaged. Nothing was imported.")) from error
        found = True
    if not found:
        raise BadFile(
            _(
                "That zip holds no IMDb or Letterboxd export I know (ratings.csv, watched.csv, "
                "watchlist.csv). Nothing was imported."
            )
        )
    return rows


def _read_csv(stream: IO[bytes], file_name: str, rows_left: list[int]) -> list[Row]:
    """The rows of one CSV export, its format told by the header; at most `rows_left[0]`
    rows (shared by a zip's files, and taken off it), else BadFile at the first one over."""
    rows: list[Row] = []
    source: Source | None = None
    column: dict[str, int] = {}
    try:
        # No export has rows that long, or so many lines.
        refuse = lambda why: BadFile(_(UNRECOGNISED))  # noqa: E731
        for line, cells in records(stream, MAX_ROW_CHARS, MAX_LINES, refuse):
            if not any(cells):
                continue
            if source is None:
                header = [cell.strip() for cell in cells]
                source = detect(header, file_name)
                column = {name: i for i, name in enumerate(header)}
                continue
            if len(rows) >= rows_left[0]:
                raise BadFile(
                    _(
                        "That export has more than {most} rows; I take up to {most} at a time. "
                        "Split it and send the parts. Nothing was imported."
                    ).format(most=i18n.number(MAX_ROWS))
                )
            rows.append(_row(source, column, line, cells))
    except UnicodeDecodeError as error:
        raise BadFile(
            _(
                "That file isn't UTF-8 text. IMDb and Letterboxd export UTF-8 CSV files: send "
                "one of those as it was downloaded. Nothing was imported."
            )
        ) from error
    except csv.Error as error:
        raise BadFile(_(UNRECOGNISED)) from error
    if source is None:
        raise BadFile(_("That file is empty. Nothing was imported."))
    rows_left[0] -= len(rows)
    return rows


def detect(header: list[str], file_name: str) -> Source:
    """Which export a header belongs to; BadFile when none."""
    names = set(header)
    if {"Title", "Year"} <= names and ("imdbID" in names or "tmdbID" in names):
        return Source.IMPORT_RATINGS if "Rating10" in names else Source.IMPORT_WATCHLIST
    if {"Const", "Position"} <= names:
        return Source.IMDB_WATCHLIST
    if {"Const", "Your Rating"} <= names:
        return Source.IMDB_RATINGS
    if {"Name", "Year"} <= names and ("Letterboxd URI" in names or "Date" in names):
        if "Rating" in names:
            return Source.LETTERBOXD_RATINGS
        base = file_name.rsplit("/", 1)[-1].lower()
        return Source.LETTERBOXD_WATCHLIST if "watchlist" in base else Source.LETTERBOXD_WATCHED
    raise BadFile(_(UNRECOGNISED))


def _row(source: Source, column: dict[str, int], line: int, cells: list[str]) -> Row:
    """One data line as a Row (with `problem` set when it cannot be used)."""

    def cell(name: str) -> str:
        i = column.get(name)
        return cells[i].strip() if i is not None and i < len(cells) else ""

    imdb = source in (Source.IMDB_RATINGS, Source.IMDB_WATCHLIST)
    own = source in (Source.IMPORT_RATINGS, Source.IMPORT_WATCHLIST)
    title = cell("Title" if imdb or own else "Name")
    year_text = cell("Year")
    year = int(year_text) if year_text.isdigit() else None
    imdb_id = kind = None
    problem = None
    if own:
        # An IMDb id when the row has one (matched on it), else the title and year.
        imdb_id = cell("imdbID") or None
        date = cell("WatchedDate")
        if imdb_id is not None and not (imdb_id.startswith("tt") and imdb_id[2:].isdigit()):
            problem = "no IMDb id"
        elif not title and imdb_id is None:
            problem = "no title"
    elif imdb:
        imdb_id = cell("Const")
        date = cell("Date Rated") or cell("Created")
        kind = cell("Title Type") or None
        if not (imdb_id.startswith("tt") and imdb_id[2:].isdigit()):
            problem = "no IMDb id"
    else:
        date = cell("Date")
        if not title:
            problem = "no title"
    score = None
    if source is Source.IMDB_RATINGS:
        score = _score(cell("Your Rating"), half_stars=False)
    elif source is Source.LETTERBOXD_RATINGS:
        score = _score(cell("Rating"), half_stars=True)
    elif source is Source.IMPORT_RATINGS:
        score = _score(cell("Rating10"), half_stars=False)
    if score is None and source.action == "rate" and problem is None:
        problem = "no score from 1 to 10"
    return Row(source, line, title, year, imdb_id, score, kind, date, problem)


def _score(text: str, half_stars: bool) -> int | None:
    """The score on 1-10: IMDb's as it is, Letterboxd's half stars (0.5-5) doubled."""
    try:
        value = float(text)
    except ValueError:
        return None
    if half_stars:
        value *= 2
    if value != int(value) or not 1 <= value <= 10:
        return None
    return int(value)


# ---------------------------------------------------------------------- planning


@dataclass(frozen=True)
class History:
    """What the user has now: the scores, the watchlist, the seen marks."""

    ratings: dict[int, int]
    watchlist: set[int]
    seen: set[int]


@dataclass(frozen=True)
class Snapshot:
    """What reading a user's file needs from the database besides the catalog, taken in one
    go: their language and their history."""

    language: str
    history: History


def current_history(db: Database, user_id: int) -> History:
    """The user's scores, watchlist and seen marks as they are now."""
    return History(
        ratings.user_ratings(db, user_id),
        watchlist.watchlist_ids(db, user_id),
        watchlist.seen_ids(db, user_id),
    )


def plan_import(rows: Iterable[Row], matcher: CatalogMatcher, history: History) -> Plan:
    """Match every row and sort it: new, different, same, not in the catalog (newer than it,
    or not there), not a movie, weak, unreadable. A movie rated twice in the file counts once,
    with its latest score; a film left out is listed once however many rows name it."""
    rows = list(rows)
    plan = Plan()
    by_title = [row for row in rows if row.problem is None and row.imdb_id is None]
    matched = dict(
        zip(
            map(id, by_title),
            matcher.match_titles([(row.title, row.year) for row in by_title]),
            strict=True,
        )
    )
    chosen: dict[int, Row] = {}
    save: set[int] = set()
    seen: set[int] = set()
    left_out: set[tuple[str, str]] = set()  # (the plan's list, label): each film once

    def leave_out(kind: str, label: str, item: object = None) -> None:
        if (kind, label) not in left_out:
            left_out.add((kind, label))
            getattr(plan, kind).append(label if item is None else item)

    for row in rows:
        plan.rows += 1
        if row.source.value not in plan.sources:
            plan.sources.append(row.source.value)
        if row.problem is not None:
            plan.unreadable.append(row.line)
            continue
        if row.title_type and row.title_type.replace(" ", "").casefold() in NOT_MOVIES:
            leave_out("not_a_movie", row.label)
            continue
        if row.imdb_id is not None:
            movie_id = matcher.by_imdb.get(row.imdb_id)
        else:
            found = matched[id(row)]
            if found.match is Match.WEAK:
                leave_out("weak", row.label, (row.label, found.candidate))
                continue
            movie_id = found.movie_id if found.match is Match.FOUND else None
        if movie_id is None:
            newest = matcher.newest_year
            newer = row.year is not None and newest is not None and row.year > newest
            leave_out("newer" if newer else "not_in_catalog", row.label)
            continue
        action = row.source.action
        if action == "rate":
            earlier = chosen.get(movie_id)
            if earlier is not None:
                plan.duplicates += 1
                if earlier.date > row.date:
                    continue
            chosen[movie_id] = row
        elif action == "save":
            if movie_id in save:
                plan.duplicates += 1
            save.add(movie_id)
        else:
            if movie_id in seen:
                plan.duplicates += 1
            seen.add(movie_id)
    for movie_id, row in chosen.items():
        if row.score is None:  # never: a rating row without a score is unreadable
            continue
        ours = history.ratings.get(movie_id)
        if ours is None:
            plan.new[movie_id] = row.score
        elif ours == row.score:
            plan.same += 1
        else:
            plan.different[movie_id] = (ours, row.score)
    rated = history.ratings.keys() | chosen.keys()
    plan.save = sorted(m for m in save - rated - history.watchlist)
    plan.seen = sorted(m for m in seen - rated - history.seen)
    # Counted per film: a film both rated and watched in a Letterboxd zip is here once.
    plan.already = len((save | seen) - chosen.keys() - set(plan.save) - set(plan.seen))
    plan.newest_year = matcher.newest_year
    return plan


@dataclass(frozen=True)
class Prepared:
    """A file read and planned, with its preview lines; or the BadFile message; or why it
    was not read at all (`refused`: "busy", another file of the user's still being read;
    "repeat", the same file again within `seconds`)."""

    plan: Plan | None = None
    lines: list[str] = field(default_factory=list)
    error: str | None = None
    refused: str | None = None
    seconds: int = 0


def prepare(data: bytes, file_name: str, matcher: CatalogMatcher, history: History) -> Prepared:
    """Read `data`, plan it for `history` and word the preview (in the language spoken): no
    database, so the bot runs it in a worker thread, off the database thread."""
    try:
        rows = read_file(data, file_name)
    except BadFile as error:
        return Prepared(error=str(error))
    plan = plan_import(rows, matcher, history)
    return Prepared(plan=plan, lines=preview_lines(plan, matcher.labels))
