"""Reading IMDb's non-commercial dataset files (https://developer.imdb.com/non-commercial-datasets/).

Each file is gzip-compressed, tab-separated, UTF-8, with one header line; `\\N` stands for
null; nothing is quoted (a title may hold a quote, and IMDb does not escape it), so lines are
split on tabs, never read with csv's default dialect. The files are big (title.basics ~12 M
rows, title.akas ~50 M), so each is streamed once, line by line as bytes, and a line is decoded
and split in full only when its id is one we keep: memory grows with what is kept, not with
the file. A damaged gzip (bad CRC, cut off before its end marker), an unexpected header, an
over-long line or a malformed kept row is one ImdbFileError naming the file, raised before
anything is written: reading a file to its end is what verifies it.

A title holding a tab (rare, but the format cannot escape one) makes a row longer than its
header; the fixed columns are then read from both ends and the extra tab is taken as part of
the title, as a space.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass
from pathlib import Path

from storage.errors import StorageError
from storage.titles import normalize

BASICS, RATINGS, AKAS, CREW = (
    "title.basics.tsv.gz",
    "title.ratings.tsv.gz",
    "title.akas.tsv.gz",
    "title.crew.tsv.gz",
)
HEADERS = {
    BASICS: (
        "tconst", "titleType", "primaryTitle", "originalTitle", "isAdult", "startYear",
        "endYear", "runtimeMinutes", "genres",
    ),
    RATINGS: ("tconst", "averageRating", "numVotes"),
    AKAS: (
        "titleId", "ordering", "title", "region", "language", "types", "attributes",
        "isOriginalTitle",
    ),
    CREW: ("tconst", "directors", "writers"),
}  # fmt: skip
FILES = tuple(HEADERS)
NULL = "\\N"
# IMDb's longest lines are a few hundred bytes; a line longer than this is not IMDb's format.
MAX_LINE = 64 * 1024
# Alternative titles kept per film, besides its display title: the original title, then
# Russian, Spanish (Spain, then Latin America) and English ones, in that order, distinct after
# normalising. The 6 cover a film's usual names in the bot's three languages while keeping the
# catalog at a few hundred thousand names (bench/bench_catalog_update.py counts them).
MAX_ALIASES = 6
MAX_DIRECTORS = 5
RUSSIAN_REGIONS = frozenset({"RU", "SUHH"})
SPANISH_REGIONS = {"ES": 2} | dict.fromkeys(
    ("MX", "AR", "CL", "CO", "PE", "VE", "UY", "EC", "BO", "PY", "CR", "CU", "DO", "GT"), 3
)
ENGLISH_REGIONS = frozenset({"US", "GB", "XWW", "CA", "AU", "IE", "NZ"})
BLOCK = 1 << 22  # decompressed bytes read at a time
NAME_REGIONS = frozenset(r.encode() for r in (*RUSSIAN_REGIONS, *SPANISH_REGIONS, *ENGLISH_REGIONS))
NAME_LANGUAGES = frozenset({b"ru", b"es", b"en"})

Progress = Callable[[str, int, int], None]  # (stage, done, total): compressed bytes read


class ImdbFileError(StorageError):
    """An IMDb dataset file that is missing, damaged or not in IMDb's format."""


@dataclass(frozen=True)
class Basics:
    """What title.basics says about one kept title."""

    title_type: str
    title: str
    original_title: str
    adult: bool
    year: int | None
    runtime: int | None
    genres: tuple[str, ...]


def check_header(path: Path) -> None:
    """Raise ImdbFileError unless `path` is a gzip file starting with its IMDb header."""
    with _open(path) as (lines, _):
        next(lines, None)


class _open:
    """A file's data lines as blocks of bytes lines (its header checked first), and its
    compressed position (for progress). Decompressed BLOCK bytes at a time and split in C:
    line by line through GzipFile.readline is several times slower on 50 M lines."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = path.name

    def __enter__(self) -> tuple[Iterator[list[bytes]], Callable[[], int]]:
        try:
            self._raw = self.path.open("rb")
        except OSError as error:
            raise ImdbFileError(f"{self.name} cannot be read: {error.strerror}") from error
        self._gzip = gzip.GzipFile(fileobj=self._raw, mode="rb")
        first = self._call(self._gzip.readline, MAX_LINE + 1)
        header = first.decode("utf-8", "replace").rstrip("\r\n").split("\t")
        expected = HEADERS.get(self.name)
        if expected is not None and tuple(header) != expected:
            shown = "\t".join(header)[:200].replace("\t", " ")
            raise ImdbFileError(
                f"{self.name} has the header '{shown}', not IMDb's '{' '.join(expected)}' "
                "(the format changed?)"
            )
        return self._blocks(), self._raw.tell

    def __exit__(self, *exc: object) -> None:
        self._gzip.close()
        self._raw.close()

    def _call(self, read: Callable[[int], bytes], size: int) -> bytes:
        try:
            return read(size)
        except (OSError, EOFError, zlib.error) as error:
            # gzip.BadGzipFile is an OSError; a cut-off file is an EOFError.
            raise ImdbFileError(f"{self.name} is damaged ({error})") from error

    def _blocks(self) -> Iterator[list[bytes]]:
        rest = b""
        while chunk := self._call(self._gzip.read, BLOCK):
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            if len(rest) > MAX_LINE:
                raise ImdbFileError(f"{self.name} has a line longer than {MAX_LINE:,} bytes")
            yield lines
        if rest:
            yield [rest]


def _bad_row(name: str, line: bytes, why: str) -> ImdbFileError:
    """A row that is not IMDb's: the file is damaged (a corrupt gzip can inflate to junk
    before its checksum is reached) or its format changed."""
    shown = line[:60].decode("utf-8", "replace").replace("\t", " ")
    return ImdbFileError(f"{name} is damaged or not in IMDb's format (a row '{shown}': {why})")


def _fields(line: bytes, name: str, width: int, text_column: int) -> list[str]:
    """The row's fields, decoded; a tab inside the free-text column `text_column` is kept as a
    space (the row then has more fields than the header)."""
    fields = line.decode("utf-8", "replace").split("\t")
    if len(fields) == width:
        return fields
    if len(fields) < width:
        raise _bad_row(name, line, f"{len(fields)} fields, not {width}")
    extra = len(fields) - width
    text = " ".join(fields[text_column : text_column + extra + 1])
    return [*fields[:text_column], text, *fields[text_column + extra + 1 :]]


def _two_titles(middle: list[str]) -> tuple[str, str]:
    """title.basics' primary and original title from the fields between the fixed columns:
    two, unless a title holds a tab; then they are split in the middle (the two are usually
    the same title), each tab kept as a space."""
    if len(middle) == 2:
        return middle[0], middle[1]
    half = (len(middle) + 1) // 2
    return " ".join(middle[:half]), " ".join(middle[half:])


def _int(text: str) -> int | None:
    return int(text) if text != NULL and text.isdigit() else None


def read_ratings(
    path: Path, min_votes: int, always: set[bytes], progress: Progress
) -> dict[bytes, tuple[float, int]]:
    """{tconst: (rating, votes)} for titles with at least `min_votes` votes, and for every
    title in `always` (films the catalog has already) whatever its votes."""
    kept: dict[bytes, tuple[float, int]] = {}
    size = path.stat().st_size
    with _open(path) as (blocks, position):
        for lines in blocks:
            progress("ratings", position(), size)
            for line in lines:
                try:
                    tconst, rating, votes = line.split(b"\t")
                    count = int(votes)
                    value = float(rating)
                except ValueError as error:
                    raise _bad_row(path.name, line, "not tconst, rating, votes") from error
                if count >= min_votes or tconst in always:
                    kept[tconst] = (value, count)
    progress("ratings", size, size)
    return kept


def read_basics(
    path: Path,
    wanted: dict[bytes, object],
    keep: Callable[[bytes, Basics], bool],
    progress: Progress,
) -> dict[bytes, Basics]:
    """{tconst: Basics} for the titles in `wanted` that `keep(tconst, basics)` accepts."""
    width = len(HEADERS[BASICS])
    kept: dict[bytes, Basics] = {}
    size = path.stat().st_size
    with _open(path) as (blocks, position):
        for line in _wanted_lines(blocks, wanted, "titles", position, size, progress):
            fields = line.decode("utf-8", "replace").split("\t")
            if len(fields) < width:
                raise _bad_row(path.name, line, f"fewer than {width} fields")
            kind, (title, original), tail = fields[1], _two_titles(fields[2:-5]), fields[-5:]
            adult, start, _end, runtime, genres = tail
            basics = Basics(
                title_type=kind,
                title=title.strip(),
                original_title=original.strip() if original != NULL else title.strip(),
                adult=adult == "1",
                year=_int(start),
                runtime=_int(runtime),
                genres=tuple(g for g in genres.strip().split(",") if g and g != NULL),
            )
            tconst = fields[0].encode("ascii", "replace")
            if basics.title and keep(tconst, basics):
                kept[tconst] = basics
    return kept


def read_directors(path: Path, films: dict[bytes, object], progress: Progress) -> dict[bytes, str]:
    """{tconst: "nm0634240|nm0000005"}: the directors (IMDb name ids) of the kept films."""
    kept: dict[bytes, str] = {}
    size = path.stat().st_size
    with _open(path) as (blocks, position):
        for line in _wanted_lines(blocks, films, "crew", position, size, progress):
            fields = line.decode("ascii", "replace").split("\t")
            if len(fields) != 3:
                raise _bad_row(path.name, line, "not tconst, directors, writers")
            names = [d for d in fields[1].split(",") if d.startswith("nm")]
            kept[fields[0].encode("ascii")] = "|".join(names[:MAX_DIRECTORS])
    return kept


def _wanted_lines(
    blocks: Iterator[list[bytes]],
    wanted: Container[bytes],
    stage: str,
    position: Callable[[], int],
    size: int,
    progress: Progress,
) -> Iterator[bytes]:
    """The lines whose first field (the title id) is in `wanted`, reporting progress."""
    for lines in blocks:
        progress(stage, position(), size)
        # A comprehension per block: this test runs on every one of ~50 M lines.
        yield from [line for line in lines if line.partition(b"\t")[0] in wanted]
    progress(stage, size, size)


def _priority(region: str, language: str) -> int | None:
    """Which alternative titles become names, best first; None for the rest."""
    if region in RUSSIAN_REGIONS or language == "ru":
        return 1
    if region in SPANISH_REGIONS:
        return SPANISH_REGIONS[region]
    if language == "es":
        return 3
    if region in ENGLISH_REGIONS or language == "en":
        return 4
    return None


def read_aliases(
    path: Path, films: dict[bytes, Basics], progress: Progress
) -> dict[bytes, list[str]]:
    """{tconst: alternative titles}: each kept film's original title (when it is not the
    display title) and its Russian, Spanish and English titles, distinct after normalising,
    at most MAX_ALIASES. The file is grouped by title id, so only one film's rows are held at
    a time (a title id seen again later is merged, not lost)."""
    width = len(HEADERS[AKAS])
    kept: dict[bytes, list[str]] = {}
    size = path.stat().st_size
    current: bytes | None = None
    group: list[tuple[int, int, str]] = []

    def finish() -> None:
        if current is not None:
            earlier = [(0, i, name) for i, name in enumerate(kept.get(current, ()))]
            kept[current] = _choose(films[current], earlier + group)

    with _open(path) as (blocks, position):
        for line in _wanted_lines(blocks, films, "names", position, size, progress):
            # Most of a film's rows are in other languages: judged on the raw bytes first.
            region, language, types = line.rsplit(b"\t", 5)[1:4]
            if region not in NAME_REGIONS and language not in NAME_LANGUAGES:
                continue
            tconst = line.partition(b"\t")[0]
            if tconst != current:
                finish()
                current, group = tconst, []
            fields = _fields(line, path.name, width, 2)
            _, ordering, title, region, language, types, _attributes, _original = fields
            rank = _priority(region, language)
            if rank is None or "working" in types or title == NULL:
                continue
            group.append((rank, _int(ordering) or 0, title.strip()))
        finish()
    for tconst, basics in films.items():
        if tconst not in kept:
            kept[tconst] = _choose(basics, [])
    return kept


def _choose(basics: Basics, candidates: list[tuple[int, int, str]]) -> list[str]:
    """The film's original title, then the candidates by (priority, IMDb's order), without
    its display title or repeats after normalising, at most MAX_ALIASES."""
    seen = {normalize(basics.title)}
    tried = {basics.title}  # normalising is the costly part: each distinct text once
    chosen: list[str] = []
    for _, _, name in sorted([(0, -1, basics.original_title), *candidates]):
        if name in tried:
            continue
        tried.add(name)
        key = normalize(name)
        if key and key not in seen:
            seen.add(key)
            chosen.append(name)
            if len(chosen) == MAX_ALIASES:
                break
    return chosen
