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
import random
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import IO, Any

from sqlite_utils import Database

from bot.files.capped_csv import CapExceeded, capped_stream, records
from bot.files.history_matching import CatalogMatcher, Match
from bot.ui import i18n
from bot.ui.i18n import N_, _, ngettext
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
EXAMPLES = 5  # titles shown per kind of problem in the preview

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

    @property
    def action(self) -> str:
        """What a matched row does: "rate", "save" (watchlist) or "seen"."""
        if self in (Source.IMDB_RATINGS, Source.LETTERBOXD_RATINGS):
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
    title = cell("Title" if imdb else "Name")
    year_text = cell("Year")
    year = int(year_text) if year_text.isdigit() else None
    imdb_id = kind = None
    problem = None
    if imdb:
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


@dataclass
class Plan:
    """What importing a file would do for one user, and what it leaves out (and why)."""

    sources: list[str] = field(default_factory=list)
    rows: int = 0
    new: dict[int, int] = field(default_factory=dict)  # movie -> score, not rated here yet
    different: dict[int, tuple[int, int]] = field(default_factory=dict)  # movie -> (ours, file)
    same: int = 0
    save: list[int] = field(default_factory=list)  # new on the watchlist
    seen: list[int] = field(default_factory=list)  # newly marked seen
    already: int = 0  # watchlist and watched rows that are already so
    duplicates: int = 0
    not_in_catalog: list[str] = field(default_factory=list)
    not_a_movie: list[str] = field(default_factory=list)
    weak: list[tuple[str, str | None]] = field(default_factory=list)  # (row, candidate)
    unreadable: list[int] = field(default_factory=list)  # line numbers
    id: int = field(default_factory=lambda: random.randrange(1, 2**31))

    @property
    def has_changes(self) -> bool:
        """Whether applying it would change anything."""
        return bool(self.new or self.different or self.save or self.seen)

    def to_json(self) -> dict[str, Any]:
        """What the tap needs, kept in storage/imports' pending_imports."""
        return {
            "id": self.id,
            "new": {str(k): v for k, v in self.new.items()},
            "replace": {str(k): file for k, (_, file) in self.different.items()},
            "save": self.save,
            "seen": self.seen,
        }

    def report(self) -> dict[str, Any]:
        """Every figure of the plan, for `moviebot import-ratings --json`."""
        return {
            "sources": self.sources,
            "rows": self.rows,
            "new_ratings": len(self.new),
            "rated_differently": len(self.different),
            "already_rated_same": self.same,
            "to_watchlist": len(self.save),
            "to_seen": len(self.seen),
            "already_there": self.already,
            "duplicates": self.duplicates,
            "not_in_catalog": self.not_in_catalog,
            "not_a_movie": self.not_a_movie,
            "weak_matches": [{"row": row, "candidate": c} for row, c in self.weak],
            "unreadable_lines": self.unreadable,
        }


@dataclass(frozen=True)
class History:
    """What the user has now: the scores, the watchlist, the seen marks."""

    ratings: dict[int, int]
    watchlist: set[int]
    seen: set[int]


def current_history(db: Database, user_id: int) -> History:
    """The user's scores, watchlist and seen marks as they are now."""
    return History(
        ratings.user_ratings(db, user_id),
        watchlist.watchlist_ids(db, user_id),
        watchlist.seen_ids(db, user_id),
    )


def plan_import(rows: Iterable[Row], matcher: CatalogMatcher, history: History) -> Plan:
    """Match every row and sort it: new, different, same, not in the catalog, not a movie,
    weak, unreadable. A movie rated twice in the file counts once, with its latest score."""
    plan = Plan()
    chosen: dict[int, Row] = {}
    save: set[int] = set()
    seen: set[int] = set()
    for row in rows:
        plan.rows += 1
        if row.source.value not in plan.sources:
            plan.sources.append(row.source.value)
        if row.problem is not None:
            plan.unreadable.append(row.line)
            continue
        if row.title_type and row.title_type.replace(" ", "").casefold() in NOT_MOVIES:
            plan.not_a_movie.append(row.label)
            continue
        if row.imdb_id is not None:
            movie_id = matcher.by_imdb.get(row.imdb_id)
            if movie_id is None:
                plan.not_in_catalog.append(row.label)
                continue
        else:
            found = matcher.match_title(row.title, row.year)
            if found.match is Match.WEAK:
                plan.weak.append((row.label, found.candidate))
                continue
            if found.match is Match.NONE or found.movie_id is None:
                plan.not_in_catalog.append(row.label)
                continue
            movie_id = found.movie_id
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
    plan.already = len(save & (history.watchlist | rated)) + len(seen & (history.seen | rated))
    return plan


def preview_lines(plan: Plan, labels: dict[int, str]) -> list[str]:
    """The plan as a person reads it before tapping "Import"."""
    read = ngettext("I read {n} row ({sources}):", "I read {n} rows ({sources}):", plan.rows)
    lines = [read.format(n=i18n.number(plan.rows), sources=", ".join(_(s) for s in plan.sources))]
    if plan.new:
        n = len(plan.new)
        text = ngettext("✓ {n} new rating to import", "✓ {n} new ratings to import", n)
        lines.append(text.format(n=i18n.number(n)))
    if plan.save:
        n = len(plan.save)
        text = ngettext("✓ {n} movie for your watchlist", "✓ {n} movies for your watchlist", n)
        lines.append(text.format(n=i18n.number(n)))
    if plan.seen:
        n = len(plan.seen)
        text = ngettext("✓ {n} movie to mark seen", "✓ {n} movies to mark seen", n)
        lines.append(text.format(n=i18n.number(n)))
    if plan.same or plan.already:
        n = plan.same + plan.already
        text = ngettext("= {n} already here as in the file", "= {n} already here as in the file", n)
        lines.append(text.format(n=i18n.number(n)))
    if plan.different:
        examples = [
            _("{title}: {ours} here, {theirs} in the file").format(
                title=labels.get(m, m), ours=ours, theirs=file
            )
            for m, (ours, file) in list(plan.different.items())[:EXAMPLES]
        ]
        n = len(plan.different)
        text = ngettext(
            "≠ {n} rated differently here (I keep yours unless you choose the file's): ",
            "≠ {n} rated differently here (I keep yours unless you choose the file's): ",
            n,
        )
        lines.append(text.format(n=i18n.number(n)) + "; ".join(examples) + _more(plan.different))
    if plan.weak:
        examples = [
            _("{row} (closest: {candidate})").format(row=row, candidate=candidate)
            if candidate
            else str(row)
            for row, candidate in plan.weak[:EXAMPLES]
        ]
        n = len(plan.weak)
        text = ngettext(
            "? {n} not matched surely enough, left out: ",
            "? {n} not matched surely enough, left out: ",
            n,
        )
        lines.append(text.format(n=i18n.number(n)) + "; ".join(examples) + _more(plan.weak))
    if plan.not_in_catalog:
        n = len(plan.not_in_catalog)
        text = ngettext("✗ {n} not in my catalog: ", "✗ {n} not in my catalog: ", n)
        lines.append(
            text.format(n=i18n.number(n))
            + "; ".join(plan.not_in_catalog[:EXAMPLES])
            + _more(plan.not_in_catalog)
        )
    if plan.not_a_movie:
        n = len(plan.not_a_movie)
        text = ngettext(
            "✗ {n} not movies (series, episodes, games): ",
            "✗ {n} not movies (series, episodes, games): ",
            n,
        )
        lines.append(
            text.format(n=i18n.number(n))
            + "; ".join(plan.not_a_movie[:EXAMPLES])
            + _more(plan.not_a_movie)
        )
    if plan.duplicates:
        n = plan.duplicates
        lines.append(
            ngettext("• {n} duplicate row", "• {n} duplicate rows", n).format(n=i18n.number(n))
        )
    if plan.unreadable:
        shown = ", ".join(str(n) for n in plan.unreadable[:EXAMPLES])
        shown += "..." if len(plan.unreadable) > EXAMPLES else ""
        n = len(plan.unreadable)
        text = ngettext(
            "! {n} unreadable row (line {lines})", "! {n} unreadable rows (line {lines})", n
        )
        lines.append(text.format(n=i18n.number(n), lines=shown))
    return [line[:1000] for line in lines]


def _more(items: list | dict) -> str:
    """ " and 3 more" after the examples shown, when there are more."""
    if len(items) <= EXAMPLES:
        return ""
    n = len(items) - EXAMPLES
    return ngettext(" and {n} more", " and {n} more", n).format(n=i18n.number(n))
