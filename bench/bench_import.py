"""Import a 5,000-row export end to end through the bot: send the file, see the preview, tap.

What it measures: the real python-telegram-bot stack of `moviebot run` (bot.telegram.app, in
this process) against FakeTelegram on loopback, on a fresh copy of the bundled catalog with a
model fitted on it. A simulated user sends an export as a document; the bot fetches it
(getFile + the /file download route), reads and matches it, and sends the preview; the user
taps "Import"; the bot stores it in one transaction and edits the preview. Per export it
prints the rows, the time to the preview (download, parse, match, journal), the time from the
tap to the "Imported" edit, the total, and whether the stored ratings are exactly the file's.

Exports (built by devtools/history_files.py from the catalog's real IMDb ids and titles):
- IMDb ratings.csv: N catalog movies, matched by IMDb id;
- Letterboxd export .zip: ratings.csv with N catalog titles and years (": " for " - ", "&"
  for "and", as Letterboxd writes them), matched by title and year.

Run from the repository root:

    .venv/bin/python bench/bench_import.py              # 5,000 rows each
    .venv/bin/python bench/bench_import.py --rows 20000
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from telegram.ext import Application  # noqa: E402

from devtools.app import (
    messages,  # noqa: E402
    run_bot,  # noqa: E402
)
from devtools.bench_bot import bench_bot  # noqa: E402
from devtools.fake_telegram.server import FakeTelegram  # noqa: E402
from devtools.history_files import (  # noqa: E402
    catalog_sample,
    imdb_csv,
    imdb_row,
    letterboxd_row,
    letterboxd_zip,
)
from storage import ratings  # noqa: E402

TARGET_SECONDS = 5.0


def exports(db, rows: int) -> list[tuple[str, str, bytes, dict[int, int]]]:
    """(label, file name, bytes, the scores it should store) for each export."""
    rng = random.Random(0)
    sample = catalog_sample(db, rows, seed=1)
    imdb_scores = {m.movie_id: rng.randint(1, 10) for m in sample}
    imdb = imdb_csv([imdb_row(m.imdb_id, imdb_scores[m.movie_id], m.title, m.year) for m in sample])
    # Letterboxd: titles unique by name and year within the sample ("imported" shows how
    # many the matcher took; a row it only weakly matches is left out, never guessed).
    seen: dict[tuple[str, int], int] = {}
    for m in catalog_sample(db, 20_000, seed=2):
        seen[(m.title, m.year)] = -1 if (m.title, m.year) in seen else m.movie_id
    unique = [(t, y, mid) for (t, y), mid in seen.items() if mid > 0][:rows]
    lb_scores = {mid: rng.randint(1, 10) for _, _, mid in unique}
    lb_rows = [
        letterboxd_row(t.replace(" - ", ": ").replace(" and ", " & "), y, lb_scores[mid] / 2)
        for t, y, mid in unique
    ]
    return [
        ("IMDb ratings.csv", "ratings.csv", imdb, imdb_scores),
        ("Letterboxd .zip", "letterboxd-export.zip", letterboxd_zip(lb_rows), lb_scores),
    ]


async def one_import(
    server: FakeTelegram, user: int, name: str, data: bytes
) -> tuple[float, float]:
    """(seconds to the preview, seconds from the tap to the "Imported" edit)."""
    start = time.perf_counter()
    server.send_document(user, data, name, first_name="Bench")
    preview = (await messages(server, user, 1, timeout=120))[0]
    shown = time.perf_counter()
    button = next(
        b["callback_data"]
        for row in preview["reply_markup"]["inline_keyboard"]
        for b in row
        if b["callback_data"].endswith(":1")
    )
    tapped = time.perf_counter()
    server.tap(user, preview, button)
    deadline = time.monotonic() + 120
    while not server.sent_messages(user)[0]["text"].startswith("Imported"):
        if time.monotonic() > deadline:
            raise TimeoutError("the import was never confirmed")
        await asyncio.sleep(0.005)
    return shown - start, time.perf_counter() - tapped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000, help="rows per export (default 5000)")
    args = parser.parse_args(argv)
    results = []
    with bench_bot() as bench:
        db, server = bench.db, bench.server
        files = exports(db, args.rows)

        async def imports(application: Application) -> None:
            for user, (label, name, data, expected) in enumerate(files, start=9001):
                preview, apply = await one_import(server, user, name, data)
                stored = ratings.user_ratings(db, user)
                rows = data.count(b"\n") - 1 if name.endswith(".csv") else args.rows
                right = all(expected.get(m) == r for m, r in stored.items())
                share = len(stored) / len(expected)
                results.append((label, rows, preview, apply, share, right))

        run_bot(server, bench.service, bench.settings, imports)
        violations = list(server.violations)
    print(
        f"{'export':<18} {'rows':>6} {'preview s':>10} {'tap->saved s':>13} {'total s':>8}"
        f" {'imported':>9} {'0 wrong':>8} {'< 5 s':>6}"
    )
    for label, rows, preview, apply, share, right in results:
        total = preview + apply
        print(
            f"{label:<18} {rows:>6,} {preview:>10.2f} {apply:>13.2f} {total:>8.2f}"
            f" {share:>9.1%} {'yes' if right else 'NO':>8}"
            f" {'yes' if total < TARGET_SECONDS else 'NO':>6}"
        )
    if violations:
        print("Bot API violations:", *violations, sep="\n  ")
    ok = not violations and all(r and p + a < TARGET_SECONDS for _, _, p, a, _, r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
