"""Fetching IMDb's dataset files and applying them to the catalog (storage/imdb_catalog.py):
`moviebot catalog update`, and the running bot's scheduled refresh (`CatalogRefresh`).

    files (https://datasets.imdbws.com/, another base URL, or a folder) -> a temp folder
    beside the database -> read to the end (verified) -> one transaction -> recorded

The download is conditional: each file is asked for with the ETag and Last-Modified of the
copy applied last (If-None-Match / If-Modified-Since); when all four answer 304 the catalog
is current and nothing is read or written. Each file is streamed to disk under a size cap
(its Content-Length, then the bytes counted), its length checked, and its header checked
before the next one is fetched; reading it to its end (storage.imdb_files) verifies the gzip.
Whatever fails (an unreachable host, a 404, a download cut off, a corrupt gzip, a changed
header, a file over the cap) is one CatalogUpdateError line, recorded as a failed update, and
no film changes. The temp folder sits beside the database, on the disk the operator gave the
bot, not in /tmp (often a small RAM disk); it is deleted afterwards either way.

urllib, not aiohttp: the update runs in a command (a child process of the bot), one file at a
time, so an event loop would buy nothing, and the standard library streams, follows redirects
and sends conditional headers as it is.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from moviebot import __version__
from storage.db import connect, seconds_since, utc_now
from storage.errors import StorageError
from storage.imdb_catalog import (
    ATTRIBUTION,
    FILES,
    MIN_VOTES,
    UpdateSummary,
    apply_catalog,
    catalog_imdb_ids,
    last_attempts,
    last_validators,
    missing_files,
    read_catalog,
    record_outcome,
)
from storage.imdb_files import Progress, check_header

log = logging.getLogger("moviebot.catalog")

DEFAULT_URL = "https://datasets.imdbws.com/"
# The largest of IMDb's four files, title.akas.tsv.gz, was ~0.45 GB in 2026; 2 GiB leaves room
# to grow while refusing a server that sends without end.
MAX_FILE_BYTES = 2 * 1024**3
TIMEOUT_SECONDS = 60
CHUNK = 1 << 20
DAYS_VARIABLE = "MOVIEBOT_CATALOG_DAYS"
DEFAULT_DAYS = 7.0
# After a failed scheduled update (no network, IMDb down), wait this long before trying again.
RETRY_HOURS = 6.0


class CatalogUpdateError(Exception):
    """An update that could not be applied; the message is one line saying why."""


@dataclass(frozen=True)
class Outcome:
    """How an update ended: "ok" (applied) or "unchanged" (the files were applied already)."""

    status: str
    source: str
    seconds: float
    summary: UpdateSummary | None = None
    applied_at: str | None = None  # for "unchanged": when the same files were applied
    read_seconds: float | None = None  # reading (and so verifying) the files

    def line(self) -> str:
        """The outcome for a person, one line."""
        if self.summary is None:
            since = f" (checked {self.applied_at[:10]})" if self.applied_at else ""
            return f"Catalog unchanged: the files at {self.source} are the ones applied{since}."
        s = self.summary
        newest = f", newest year {s.newest_year}" if s.newest_year else ""
        return (
            f"Catalog updated from {self.source} in {self.seconds:.0f} s: {s.films:,} films from "
            f"IMDb's files ({s.added:,} new, {s.updated:,} updated), {s.names:,} alternative "
            f"titles{newest}. {ATTRIBUTION}"
        )

    def to_json(self) -> dict:
        return {
            "status": self.status,
            "source": self.source,
            "seconds": round(self.seconds, 1),
            "read_seconds": self.read_seconds and round(self.read_seconds, 1),
            **(asdict(self.summary) if self.summary else {}),
            "message": self.line(),
        }


def update_catalog(
    db_path: Path,
    *,
    url: str | None = None,
    folder: Path | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    min_votes: int = MIN_VOTES,
    progress: Progress | None = None,
) -> Outcome:
    """Update the catalog at `db_path` from `folder` (files with IMDb's names) or from the
    base `url` (default IMDb's). CatalogUpdateError, with the catalog unchanged, on failure."""
    report = progress or (lambda stage, done, total: None)
    source = str(folder.resolve()) if folder is not None else _base_url(url or DEFAULT_URL)
    started_at, clock = utc_now(), time.perf_counter()
    db = connect(db_path)
    try:
        previous = last_validators(db, source)
        with tempfile.TemporaryDirectory(prefix="moviebot-imdb-", dir=db_path.parent) as temp:
            try:
                if folder is not None:
                    files, validators = folder, _local_validators(folder)
                    changed = validators != previous
                else:
                    files = Path(temp)
                    validators = _download_all(source, files, previous, max_bytes, report)
                    changed = validators is not None
                if not changed:
                    record_outcome(db, source, "unchanged", started_at, validators=previous)
                    when, _ = last_attempts(db)
                    return Outcome("unchanged", source, time.perf_counter() - clock, None, when)
                fetched = time.perf_counter()
                films = read_catalog(files, catalog_imdb_ids(db), min_votes, report)
                read_seconds = time.perf_counter() - fetched
                summary = apply_catalog(
                    db, films, source=source, started_at=started_at, validators=validators
                )
            except (CatalogUpdateError, StorageError) as error:
                message = f"{error}; the catalog is unchanged"
                record_outcome(db, source, "failed", started_at, error=message)
                raise CatalogUpdateError(message) from None
        return Outcome("ok", source, time.perf_counter() - clock, summary, None, read_seconds)
    finally:
        db.close()


def _base_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CatalogUpdateError(f"{url!r} is not an http(s) URL")
    return url if url.endswith("/") else url + "/"


def _local_validators(folder: Path) -> dict[str, dict[str, str]]:
    """A folder's files stand for themselves: their size and modification time play the
    ETag's part, so an unchanged folder is not read again."""
    if not folder.is_dir():
        raise CatalogUpdateError(f"{folder} is not a folder")
    if missing := missing_files(folder):
        raise CatalogUpdateError(f"{folder} has no {', '.join(missing)}")
    validators = {}
    for name in FILES:
        stat = (folder / name).stat()
        validators[name] = {"size": str(stat.st_size), "mtime_ns": str(stat.st_mtime_ns)}
    return validators


def _download_all(
    base: str,
    folder: Path,
    previous: Mapping[str, Mapping[str, str]],
    max_bytes: int,
    report: Progress,
) -> dict[str, dict[str, str]] | None:
    """Every file into `folder` with its validators; None (and no file written) when every
    file answers 304 Not Modified. A file that answers 304 while
    another changed is fetched again unconditionally: an update reads all four."""
    validators: dict[str, dict[str, str]] = {}
    for name in FILES:
        got = _download(base + name, folder / name, previous.get(name), max_bytes, report)
        if got is not None:
            validators[name] = got
    if not validators:
        return None
    for name in FILES:
        if name not in validators:
            validators[name] = _download(base + name, folder / name, None, max_bytes, report)
    return validators


def _download(
    url: str,
    target: Path,
    previous: Mapping[str, str] | None,
    max_bytes: int,
    report: Progress,
) -> dict[str, str] | None:
    """Stream `url` into `target` (None on 304 Not Modified) and check its header."""
    name = target.name
    headers = {"User-Agent": f"moviebot/{__version__} (catalog update)"}
    if previous and previous.get("etag"):
        headers["If-None-Match"] = previous["etag"]
    if previous and previous.get("last_modified"):
        headers["If-Modified-Since"] = previous["last_modified"]
    host = urllib.parse.urlsplit(url).netloc
    try:
        response = urllib.request.urlopen(
            urllib.request.Request(url, headers=headers), timeout=TIMEOUT_SECONDS
        )
    except urllib.error.HTTPError as error:
        if error.code == 304:
            return None
        raise CatalogUpdateError(f"{url} answered {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", None) or error
        raise CatalogUpdateError(f"cannot reach {host}: {reason}") from None
    with response:
        declared = response.headers.get("Content-Length")
        total = int(declared) if declared and declared.isdigit() else None
        if total is not None and total > max_bytes:
            raise CatalogUpdateError(
                f"{name} is {total:,} bytes, over the {max_bytes:,}-byte limit"
            )
        written = 0
        try:
            with target.open("wb") as out:
                while chunk := response.read(CHUNK):
                    written += len(chunk)
                    if written > max_bytes:
                        raise CatalogUpdateError(
                            f"{name} went past the {max_bytes:,}-byte limit while downloading"
                        )
                    out.write(chunk)
                    report("download", written, total or 0)
        except (http.client.IncompleteRead, ConnectionError, TimeoutError) as error:
            raise CatalogUpdateError(
                f"the download of {name} was cut off after {written:,} bytes ({error})"
            ) from None
        if total is not None and written != total:
            raise CatalogUpdateError(
                f"the download of {name} was cut off at {written:,} of {total:,} bytes"
            )
    check_header(target)
    got = {}
    if etag := response.headers.get("ETag"):
        got["etag"] = etag
    if modified := response.headers.get("Last-Modified"):
        got["last_modified"] = modified
    return got


# ---------------------------------------------------------------------- the schedule


def refresh_days(environ: Mapping[str, str] | None = None) -> float:
    """Days between scheduled updates: $MOVIEBOT_CATALOG_DAYS, default 7; 0 = never.
    ValueError for a value that is not a number of days."""
    text = (os.environ if environ is None else environ).get(DAYS_VARIABLE, "").strip()
    if not text:
        return DEFAULT_DAYS
    try:
        days = float(text)
    except ValueError:
        raise ValueError(f"{DAYS_VARIABLE}={text!r} is not a number of days") from None
    if not days >= 0:  # also refuses NaN
        raise ValueError(f"{DAYS_VARIABLE}={text!r} must be 0 (never) or more days")
    return days


def refresh_due(db_path: Path, days: float) -> bool:
    """Whether a scheduled update should run now: never when `days` is 0; else when the last
    update (or the check that found the files unchanged) is `days` old or there is none, and
    no update failed in the last RETRY_HOURS."""
    if days <= 0:
        return False
    db = connect(db_path)
    try:
        success, tried = last_attempts(db)
    finally:
        db.close()
    if success is not None and seconds_since(success) < days * 86400:
        return False
    return tried is None or tried == success or seconds_since(tried) >= RETRY_HOURS * 3600


class CatalogRefresh:
    """The running bot's scheduled update, `moviebot catalog update` in a child process at a
    lower CPU priority, so that reading ~3 GB of files never takes the bot's event loop, its
    GIL or its core. Blocking: call it in a worker thread (asyncio.to_thread), e.g. from an
    hourly job; it returns at once when no update is due.

        refresh = CatalogRefresh(refresh_days())
        line = await asyncio.to_thread(refresh, db_path)   # None: not due

    Returns the outcome line (ok, unchanged, or "Error: ..."). The catalog changes only in the
    child's final transaction; readers keep the old catalog until it commits."""

    def __init__(self, days: float, url: str | None = None) -> None:
        self.days = days
        self.url = url
        self._lock = threading.Lock()
        self._child: subprocess.Popen | None = None
        self._abandoned = False

    def __call__(self, db_path: Path) -> str | None:
        if not refresh_due(db_path, self.days):
            return None
        command = [sys.executable, "-m", "moviebot", "catalog", "update", "--db", str(db_path)]
        command += ["--json"] + (["--url", self.url] if self.url else [])
        if nice := shutil.which("nice"):
            command = [nice, "-n", "10", *command]
        with self._lock:
            if self._abandoned or self._child is not None:  # stopping, or one is running
                return None
            self._child = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        log.info("catalog update started (process %d)", self._child.pid)
        try:
            out, err = self._child.communicate()
            code = self._child.returncode
        finally:
            with self._lock:
                self._child = None
        if code == 0:
            with contextlib.suppress(ValueError):
                line = json.loads(out)["message"]
                log.info("%s", line)
                return line
        lines = [line for line in err.splitlines() if line.startswith("Error: ")]
        line = lines[-1] if lines else f"Error: the catalog update exited with {code}"
        log.warning("%s", line)
        return line

    def abandon(self) -> None:
        """Kill an update in progress (the bot is stopping) and start no more; the catalog
        stays as it was unless the final transaction had committed."""
        with self._lock:
            self._abandoned = True
            child = self._child
        if child is not None:
            with contextlib.suppress(ProcessLookupError):
                child.kill()
