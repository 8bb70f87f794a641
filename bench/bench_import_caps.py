"""How long and how much memory refusing a hostile export takes (issue 24's targets: <= 5 s and
<= 100 MB each).

Each file is read by `bot.history_import.read_file` in a child process of its own, so its peak
RSS (ru_maxrss) is that file's alone; the table prints the seconds, the peak RSS, the RSS the
child had before reading (interpreter and imports) and the reply.

Files (devtools/history_files.py):
- row bomb: a 6 KB zip whose ratings.csv is 3 M one-letter rows;
- 20 MB CSV: a Letterboxd ratings.csv of ordinary rows, far past the 25,000-row cap;
- zip bomb: a zip whose ratings.csv unpacks to 96 MB (the directory says so; refused unread).

Run from the repository root:

    .venv/bin/python bench/bench_import_caps.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from bot.files.history_import import BadFile, read_file
from devtools.history_files import LETTERBOXD_RATINGS_HEADER, letterboxd_row, row_bomb, to_csv
from devtools.history_files import zip_bomb

def big_csv():
    row = to_csv(LETTERBOXD_RATINGS_HEADER, [letterboxd_row("Ted", 2012, 4)]).split(b"\\n", 1)[1]
    return to_csv(LETTERBOXD_RATINGS_HEADER, []) + row * ((20 * 2**20 - 2**10) // len(row))

make, name = {{"row bomb": (row_bomb, "export.zip"), "20 MB CSV": (big_csv, "ratings.csv"),
              "zip bomb": (lambda: zip_bomb(96 * 2**20), "export.zip")}}[{which!r}]
data = make()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
try:
    reply = f"read {{len(read_file(data, name))}} rows"
except BadFile as refused:
    reply = str(refused)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps([len(data), seconds, before / 1024, peak / 1024, reply]))
"""


def main() -> None:
    print(f"{'file':<10} {'bytes':>10} {'seconds':>8} {'RSS before':>11} {'peak RSS':>9}  reply")
    for which in ("row bomb", "20 MB CSV", "zip bomb"):
        code = CHILD.format(root=str(ROOT), which=which)
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        size, seconds, before, peak, reply = json.loads(out)
        print(
            f"{which:<10} {size:>10,} {seconds:>8.2f} {before:>8.0f} MB {peak:>6.0f} MB  "
            f"{reply[:60]}"
        )


if __name__ == "__main__":
    main()
