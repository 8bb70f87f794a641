"""A catalog update from IMDb-format files of the real size, beside a stand-in for the bot.

What it measures: `moviebot catalog update --from DIR` (the real command, in a child process
at nice 10, as the bot's schedule runs it: moviebot.catalog_update.CatalogRefresh) on a fresh
copy of the bundled catalog, from synthetic files of IMDb's size and shape
(devtools/imdb_files.write_synthetic: title.basics 12 M rows, ~1 GB unpacked, three quarters
episodes; title.akas ~50 M rows; the bundled films under their real ids). It prints the
files, the wall time, the child's peak RSS, the films kept and added, the names, and how long
the final write transaction held the database.

The bot's reply latency while updating, by a stand-in: a thread of this process does what a
reply does to SQLite every 10 ms (read a film, write a rating in its own transaction, on its
own connection, as the bot's database thread does), first for IDLE_SECONDS with nothing else
running, then for the whole update; p50/p99/max of each side by side. A write that SQLite
refuses with "database is locked" while the update's transaction holds the lock (a deferred
transaction that has read cannot wait for it) is counted and retried after 10 ms, its
latency running from the first try.

The files are generated once (several minutes, ~1.3 GB of gzip) and reused:

    .venv/bin/python bench/bench_catalog_update.py                  # files in /tmp/imdb-bench
    .venv/bin/python bench/bench_catalog_update.py --files DIR --titles 1000000
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devtools.imdb_files import write_synthetic  # noqa: E402
from moviebot.paths import bundled_dataset  # noqa: E402
from storage import ratings, users  # noqa: E402
from storage.db import connect  # noqa: E402
from storage.imdb_files import BASICS, FILES  # noqa: E402
from storage.movielens import import_movielens  # noqa: E402

TARGET_SECONDS, TARGET_MB = 180, 500
IDLE_SECONDS = 15.0
PERIOD = 0.010


class Replies(threading.Thread):
    """Reply-shaped SQLite work every PERIOD seconds; `latencies` in milliseconds."""

    def __init__(self, db_path: Path) -> None:
        super().__init__(daemon=True)
        self.db_path = db_path
        self.latencies: list[float] = []
        self.busy = 0  # "database is locked" answers, each retried after PERIOD
        self.stop = threading.Event()

    def run(self) -> None:
        db = connect(self.db_path)
        users.save_user(db, 42, "Bench")
        movie_ids = [r[0] for r in db.execute("SELECT id FROM movies ORDER BY id LIMIT 500")]
        n = 0
        while not self.stop.is_set():
            started = time.perf_counter()
            movie = movie_ids[n % len(movie_ids)]
            while True:
                db.execute("SELECT title, year, genres FROM movies WHERE id = ?", [movie])
                try:
                    ratings.set_rating(db, 42, movie, 1 + n % 10)
                    break
                except sqlite3.OperationalError as error:
                    # A deferred transaction that read first cannot wait for the write lock
                    # (SQLite answers "locked" at once): the bot's journal retries it later.
                    if "locked" not in str(error):
                        raise
                    self.busy += 1
                    time.sleep(PERIOD)
            self.latencies.append(1000 * (time.perf_counter() - started))
            n += 1
            time.sleep(PERIOD)
        db.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0


def files_ready(folder: Path, titles: int) -> Path:
    if all((folder / name).is_file() for name in FILES):
        return folder
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    print(f"Generating IMDb-format files of {titles:,} titles in {folder} (once)...", flush=True)
    started = time.perf_counter()
    write_synthetic(partial, titles)
    partial.rename(folder)
    print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)
    return folder


def count_lines(path: Path) -> tuple[int, int]:
    """(rows, unpacked bytes) of one gzip file."""
    rows = size = 0
    with gzip.open(path, "rb") as file:
        while chunk := file.read(1 << 24):
            rows += chunk.count(b"\n")
            size += len(chunk)
    return rows - 1, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=Path, default=Path("/tmp/imdb-bench/files"))
    parser.add_argument("--titles", type=int, default=12_000_000)
    parser.add_argument("--count-rows", action="store_true", help="also count every file's rows")
    args = parser.parse_args()
    folder = files_ready(args.files, args.titles)
    with tempfile.TemporaryDirectory() as temp:
        db_path = Path(temp) / "bench.db"
        db = connect(db_path)
        import_movielens(db, bundled_dataset())
        db.close()

        idle = Replies(db_path)
        idle.start()
        time.sleep(IDLE_SECONDS)
        idle.stop.set()
        idle.join()

        during = Replies(db_path)
        during.start()
        command = [sys.executable, "-m", "moviebot", "catalog", "update", "--db", str(db_path)]
        command += ["--from", str(folder), "--json"]
        if nice := shutil.which("nice"):
            command = [nice, "-n", "10", *command]
        started = time.perf_counter()
        child = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        during.stop.set()
        during.join()
        if child.returncode != 0:
            sys.exit(f"the update failed: {child.stderr.strip()}")
        result = json.loads(child.stdout)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    sizes = {name: (folder / name).stat().st_size for name in FILES}
    print()
    print("| file | gzip size | rows | unpacked |")
    print("| --- | --- | --- | --- |")
    for name in FILES:
        rows, unpacked = count_lines(folder / name) if args.count_rows or name == BASICS else (0, 0)
        shown = (f"{rows:,}", f"{unpacked / 2**20:,.0f} MB") if rows else ("-", "-")
        print(f"| {name} | {sizes[name] / 2**20:,.0f} MB | {shown[0]} | {shown[1]} |")
    print()
    print("| update from real-size files | figure | target |")
    print("| --- | --- | --- |")
    print(f"| wall time | {wall:.1f} s | <= {TARGET_SECONDS} s |")
    print(f"| peak RSS of the update process | {peak_mb:.0f} MB | <= {TARGET_MB} MB |")
    print(f"| films from the files in the catalog | {result['films']:,} | |")
    print(f"| of them new (added) | {result['added']:,} | |")
    print(f"| alternative titles written | {result['names']:,} | |")
    print(f"| of which reading (and verifying) the files | {result['read_seconds']:.1f} s | |")
    print(f"| of which the write transaction | {result['write_seconds']:.2f} s | |")
    print()
    print("| stand-in reply (read + write) | idle | during the update |")
    print("| --- | --- | --- |")
    for label, p in (("p50", 50), ("p99", 99), ("max", 100)):
        a, b = percentile(idle.latencies, p), percentile(during.latencies, p)
        print(f"| {label} | {a:.2f} ms | {b:.2f} ms |")
    print(f"| replies measured | {len(idle.latencies):,} | {len(during.latencies):,} |")
    print(f"| 'database is locked', retried | {idle.busy:,} | {during.busy:,} |")
    ratio = percentile(during.latencies, 99) / max(percentile(idle.latencies, 99), 1e-9)
    print(f"\np99 during / idle: {ratio:.2f}x (target <= 2x)")


if __name__ == "__main__":
    main()
