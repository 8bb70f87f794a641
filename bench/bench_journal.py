"""The update journal stays bounded: 1M updates through storage.journal at steady state.

What it runs: the journal calls the bot makes for every update, on a fresh SQLite file on the
real disk (WAL, synchronous=FULL, as `moviebot run`), in getUpdates-sized batches:
`record_updates` (one transaction per batch), `save_outcome` for each (one transaction per
batch: the bot's group commit), `mark_done` for each (no fsync, as in the bot). Payloads and
answers are bot-sized JSON (a /rate message, a one-line answer).

Time is simulated: the clock moves 1/rate s per update (200 updates/s by default), whatever
the machine's speed, and the journal's timestamps are read from it. The retention window is
scaled down so that 1M updates span many windows: by default 600 simulated seconds (120,000
updates), with the prune every 600/48 s, the production ratio (DONE_RETENTION 48 h, the prune
job hourly). `prune_done` deletes what was done before now - retention, as the bot's job does.

It prints two tables:

1. rows in the table over time against the updates per retention window (target: at most
   that, plus what arrives between two prunes);
2. throughput with the prune and without, the same number of updates each on a fresh file,
   side by side, and what the prune costs at 200 updates/s (its share of the database
   thread's time).

Run from the repository root (a few minutes on 2 cores):

    .venv/bin/python bench/bench_journal.py                        # 1M updates, then 2 x 200k
    .venv/bin/python bench/bench_journal.py --updates 200000 --compare 50000   # quick
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.telegram.journal_jobs import PRUNE_CHUNK  # noqa: E402
from storage import journal  # noqa: E402
from storage.db import connect  # noqa: E402

TURN = 2_000  # updates per turn of each comparison run
PRODUCTION_RATIO = journal.DONE_RETENTION / timedelta(hours=1)  # retention / prune cadence
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
FIRST_ID = 100_000_001


class SimulatedClock:
    """The journal's clock: `seconds` since EPOCH, moved by the bench, never by the machine."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def iso(self, offset: float = 0.0) -> str:
        """The time `offset` s from now as the journal writes it (storage.db.utc_now)."""
        moment = EPOCH + timedelta(seconds=self.seconds + offset)
        return moment.isoformat(timespec="microseconds")


@dataclass
class Run:
    """What one pass through the journal measured."""

    updates: int = 0
    wall: float = 0.0  # seconds spent in journal calls (sampling excluded)
    prune_wall: float = 0.0
    prunes: int = 0
    pruned: int = 0
    longest_prune: float = 0.0  # the longest single chunk: the database thread held
    peak_rows: int = 0
    samples: list[tuple[int, float, int]] = field(default_factory=list)  # updates, sim s, rows


def payload(update_id: int, user_id: int) -> str:
    """A /rate message update as Telegram sends it (about 400 bytes)."""
    user = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}", "language_code": "en"}
    message = {
        "message_id": update_id % 100_000,
        "from": user,
        "chat": {"id": user_id, "type": "private", "first_name": user["first_name"]},
        "date": 1_767_225_600 + update_id // 200,
        "text": f"/rate The Matrix (1999) {update_id % 10 + 1}",
        "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
    }
    return json.dumps({"update_id": update_id, "message": message})


def outcome(update_id: int) -> str:
    """A one-line answer as the bot stores it (bot.replies.outcome_to_json's shape)."""
    text = f"The Matrix (1999): {update_id % 10 + 1}/10 ✓"
    return json.dumps({"replies": [{"text": text, "buttons": []}], "edit": None, "toast": None})


class Driver:
    """One journal on a fresh file, driven `advance(n)` updates at a time (several drivers can
    take turns, so a shared machine's load falls on each alike)."""

    def __init__(
        self, path: Path, rate: float, batch: int, retention: float, prune_every: float | None
    ) -> None:
        self.clock = SimulatedClock()
        self.db = connect(path)
        self.rate, self.batch, self.retention = rate, batch, retention
        self.prune_every = prune_every
        self.next_prune = prune_every if prune_every is not None else float("inf")
        self.result = Run()
        self.rows = 0

    def advance(self, updates: int) -> None:
        """Record, answer and close `updates` more updates, pruning when the time comes."""
        journal.utc_now = self.clock.iso  # the journal's timestamps: this driver's clock
        result, target = self.result, self.result.updates + updates
        while result.updates < target:
            n = min(self.batch, target - result.updates)
            ids = range(FIRST_ID + result.updates, FIRST_ID + result.updates + n)
            started = time.perf_counter()
            journal.record_updates(self.db, [(i, payload(i, 1_000 + i % 1_000)) for i in ids])
            with self.db.atomic():  # the bot's group commit of a batch's answers
                for i in ids:
                    journal.save_outcome(self.db, i, outcome(i))
            for i in ids:
                journal.mark_done(self.db, i)
            result.wall += time.perf_counter() - started
            result.updates += n
            self.rows += n
            self.clock.seconds += n / self.rate
            if self.clock.seconds >= self.next_prune:
                self._prune()
                self.next_prune += self.prune_every
            result.peak_rows = max(result.peak_rows, self.rows)

    def _prune(self) -> None:
        """What the bot's prune job does (journal_jobs.prune_journal): chunk after chunk."""
        older_than, chunk = self.clock.iso(-self.retention), PRUNE_CHUNK
        while chunk == PRUNE_CHUNK:
            started = time.perf_counter()
            chunk = journal.prune_done(self.db, older_than, PRUNE_CHUNK)
            spent = time.perf_counter() - started
            self.result.wall += spent
            self.result.prune_wall += spent
            self.result.longest_prune = max(self.result.longest_prune, spent)
            self.result.pruned += chunk
            self.rows -= chunk
        self.result.prunes += 1

    def sample(self) -> int:
        """Count the rows (outside the timing) and check the bookkeeping agrees."""
        counted = self.db.execute("SELECT count(*) FROM updates").fetchone()[0]
        if counted != self.rows:
            raise AssertionError(f"{counted} rows in the table, {self.rows} expected")
        self.result.samples.append((self.result.updates, self.clock.seconds, counted))
        return counted

    def close(self) -> None:
        self.db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=1_000_000, help="the bounded run's size")
    parser.add_argument("--compare", type=int, default=200_000, help="each comparison run's size")
    parser.add_argument("--rate", type=float, default=200.0, help="simulated updates/s")
    parser.add_argument("--batch", type=int, default=20, help="updates per getUpdates batch")
    parser.add_argument(
        "--retention", type=float, default=600.0, help="simulated seconds a done update is kept"
    )
    parser.add_argument("--dir", type=Path, default=None, help="where the SQLite files go")
    args = parser.parse_args(argv)
    prune_every = args.retention / PRODUCTION_RATIO
    window = round(args.rate * args.retention)
    between = round(args.rate * prune_every)
    folder = Path(tempfile.mkdtemp(prefix="bench-journal-", dir=args.dir))

    print(
        f"Journal at steady state: {args.updates:,} updates at a simulated {args.rate:g}/s, "
        f"batches of {args.batch}; SQLite in {folder} (WAL, synchronous=FULL)."
    )
    print(
        f"Retention scaled down from {journal.DONE_RETENTION} to {args.retention:g} simulated s "
        f"({window:,} updates per window), the prune every {prune_every:.1f} s "
        f"({between:,} updates apart), the production ratio 1/{PRODUCTION_RATIO:g}."
    )
    bounded = Driver(folder / "bounded.db", args.rate, args.batch, args.retention, prune_every)
    step = max(args.updates // 20, 1)
    while bounded.result.updates < args.updates:
        bounded.advance(min(step, args.updates - bounded.result.updates))
        bounded.sample()
    bounded.close()
    result = bounded.result
    print()
    print(f"{'updates':>10} {'sim time':>9} {'rows':>9} {'rows/window':>12}")
    for done, seconds, rows in result.samples:
        print(f"{done:>10,} {seconds:>8.0f}s {rows:>9,} {rows / window:>12.3f}")
    print(
        f"peak rows {result.peak_rows:,} = {result.peak_rows / window:.3f} x the {window:,} "
        f"updates per window (bound: the window + the {between:,} between two prunes = "
        f"{(window + between) / window:.3f}); {result.prunes} prunes removed "
        f"{result.pruned:,} rows"
    )

    print()
    print(
        f"Throughput, {args.compare:,} updates each on a fresh file, the two runs taking turns "
        f"{args.compare // TURN:,} times ({TURN:,} updates a turn; journal calls only):"
    )
    # Scaled down again, so most of each run is at steady state (the prune deleting as many
    # rows as arrive): a window of a quarter of the run, the prune 48 times as often.
    retention = args.compare / args.rate / 4
    print(
        f"(retention {retention:g} simulated s: {round(args.rate * retention):,} updates per "
        f"window, the prune every {retention / PRODUCTION_RATIO:.1f} s)"
    )
    runs = {
        "without the prune": Driver(folder / "without.db", args.rate, args.batch, retention, None),
        "with the prune": Driver(
            folder / "with.db", args.rate, args.batch, retention, retention / PRODUCTION_RATIO
        ),
    }
    done = 0
    while done < args.compare:
        n = min(TURN, args.compare - done)
        for driver in runs.values():
            driver.advance(n)
        done += n
    print(f"{'':>18} {'updates/s':>10} {'rows at end':>12} {'in prune':>9}")
    rates = {}
    for name, driver in runs.items():
        rows = driver.sample()
        driver.close()
        rates[name] = driver.result.updates / driver.result.wall
        print(f"{name:>18} {rates[name]:>10,.0f} {rows:>12,} {driver.result.prune_wall:>8.2f}s")
    pruning = runs["with the prune"].result
    slower = 1 - rates["with the prune"] / rates["without the prune"]
    share = pruning.prune_wall / pruning.wall
    print(
        f"the prune's cost: {slower:.1%} of throughput (with vs without); {share:.1%} of the "
        "with-prune run's time was spent pruning"
    )
    for name, run in ((f"{args.updates:,}-update run", result), ("with-prune run", pruning)):
        if run.pruned:
            busy = run.prune_wall / run.pruned * args.rate
            print(
                f"{name}: at {args.rate:g} updates/s the prune keeps the database thread busy "
                f"{busy:.2%} of the time; longest single chunk {run.longest_prune * 1000:.0f} ms"
            )
    for leftover in folder.iterdir():
        leftover.unlink()
    folder.rmdir()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
