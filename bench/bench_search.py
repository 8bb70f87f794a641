"""Title search at the size of an IMDb catalog: build time, memory and time per typed title,
side by side with the search on main (loaded from git at run time, not kept in the repo).

The catalog: the bundled MovieLens rows plus `--extra` synthetic films (devtools/
synthetic_titles.py: recombined title words, Spanish and Cyrillic aliases, IMDb-like votes).
The queries: the labelled set's real titles (typos, years, partial titles, alternative titles),
and titles of the synthetic films as typed: exact, lower case, a letter off, with the year,
the first words only, the Cyrillic alias. Time per query is wall time (perf_counter) and the
CPU time of the thread (thread_time, steadier on a shared machine); memory is the RSS the
index adds (measured after a gc, the rows already in memory). "same top-5" counts the queries
whose best five scores equal the full scan's (the search on main scores every name).

    .venv/bin/python bench/bench_search.py               # 65,000 extra films, 400 queries
    .venv/bin/python bench/bench_search.py --extra 20000 --queries 200 --no-old
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devtools.synthetic_titles import FIRST_NEW_ID, synthetic_rows  # noqa: E402
from devtools.title_calibration import load_labelled  # noqa: E402
from moviebot.paths import bundled_dataset  # noqa: E402
from storage.db import connect  # noqa: E402
from storage.movielens import import_movielens  # noqa: E402
from storage.movies import title_rows  # noqa: E402
from storage.search import TitleIndex  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def rss_mb() -> float:
    with open("/proc/self/statm") as file:
        return int(file.read().split()[1]) * 4096 / 2**20


def old_search_module(ref: str):
    """storage/search.py as it is at git `ref`, imported under another name."""
    source = subprocess.run(
        ["git", "show", f"{ref}:storage/search.py"], cwd=REPO, check=True, capture_output=True
    ).stdout
    folder = Path(tempfile.mkdtemp())
    (folder / "old_search.py").write_bytes(source)
    spec = importlib.util.spec_from_file_location("old_search", folder / "old_search.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_search"] = module
    spec.loader.exec_module(module)
    return module


def typo(text: str, rng: random.Random) -> str:
    i = rng.randrange(len(text))
    return text[:i] + text[i + 1 :] if rng.random() < 0.5 else text[:i] + text[i] + text[i:]


def queries(rows: list[tuple], count: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    labelled = [item.query for item in load_labelled() if item.movie_id is not None]
    chosen = rng.sample(labelled, min(count // 2, len(labelled)))
    extra = [row for row in rows if row[0] >= FIRST_NEW_ID]
    while len(chosen) < count:
        _id, title, year, aliases, *_ = rng.choice(extra)
        cyrillic = [a for a in aliases.splitlines() if not a.isascii() and "а" <= a[-1] <= "я"]
        kind = rng.randrange(6)
        if kind == 0:
            chosen.append(title)
        elif kind == 1:
            chosen.append(typo(title.lower(), rng))
        elif kind == 2:
            chosen.append(f"{title.lower()} {year}")
        elif kind == 3:
            chosen.append(" ".join(title.split()[:2]).lower())
        elif kind == 4 and cyrillic:
            chosen.append(cyrillic[0].lower())
        else:
            chosen.append(typo(f"{title} {year}", rng))
    return list(dict.fromkeys(q.strip() for q in chosen if q.strip()))


def export_rows(rows: list[tuple], count: int, seed: int = 2) -> list[tuple[str, int | None]]:
    """(title, year) pairs as an export lists them: 80 % exact, 20 % with a letter off."""
    rng = random.Random(seed)
    picked = rng.sample(rows, count)
    return [(r[1] if rng.random() < 0.8 else typo(r[1], rng), r[2]) for r in picked]


def measure(label: str, build, texts: list[str]) -> tuple[list[str], dict]:
    gc.collect()
    before = rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    index = build()
    built, built_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    gc.collect()
    added = rss_mb() - before
    wall, cpu, results = [], [], {}
    for text in texts:
        w, c = time.perf_counter(), time.thread_time()
        matches = index.search(text, 30)
        cpu.append(time.thread_time() - c)
        wall.append(time.perf_counter() - w)
        # The best five scores: the same whichever order popularity puts equal scores in.
        results[text] = sorted((m.score for m in matches), reverse=True)[:5]
    w_ms, c_ms = np.asarray(wall) * 1000, np.asarray(cpu) * 1000
    row = (
        f"{label:<14} {built:>7.2f} {built_cpu:>7.2f} {added:>8.0f} "
        f"{np.percentile(w_ms, 50):>7.1f} {np.percentile(w_ms, 95):>7.1f} {w_ms.max():>7.1f} "
        f"{np.percentile(c_ms, 50):>7.1f} {np.percentile(c_ms, 95):>7.1f} {c_ms.max():>7.1f}"
    )
    return [row], results, index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--extra", type=int, default=65_000, help="synthetic films to add")
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--old", default="main", help="git ref of the search to compare with")
    parser.add_argument("--no-old", action="store_true", help="measure only this checkout's")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = connect(Path(folder) / "catalog.db")
        import_movielens(db, bundled_dataset())
        base = title_rows(db)
        db.close()
    rows = synthetic_rows(base, args.extra)
    n_names = sum(1 + len(r[3].splitlines()) for r in rows)
    texts = queries(rows, args.queries)
    print(f"{len(rows):,} films, {n_names:,} names, {len(texts)} distinct queries")
    head = (
        f"{'search':<14} {'build s':>7} {'cpu s':>7} {'+RSS MB':>8} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} "
        f"{'cpu p50':>7} {'cpu p95':>7} {'cpu max':>7}"
    )
    print(head)
    table, new, index = measure("this checkout", lambda: TitleIndex(rows), texts)
    print(table[0], flush=True)
    print(f"(distinct names after normalising: {index.name_count:,})")
    pairs = export_rows(rows, 2000)
    c = time.thread_time()
    found = index.match_many(pairs)
    per_row = (time.thread_time() - c) / len(pairs) * 1000
    taken = sum(r.movie is not None for r in found)
    print(f"match_many: {len(pairs)} (title, year) rows, {per_row:.2f} ms CPU a row, {taken} taken")
    del index
    gc.collect()
    if not args.no_old:
        old_module = old_search_module(args.old)
        table, old, _ = measure(
            args.old, lambda: old_module.TitleIndex([r[:5] for r in rows]), texts
        )
        print(table[0])
        same = sum(new[t] == old[t] for t in texts)
        print(f"same top-5 scores as {args.old}'s full scan: {same} of {len(texts)}")
        top = sum(new[t][:1] == old[t][:1] for t in texts)
        strong = sum(
            [x for x in new[t] if x >= 75] == [x for x in old[t] if x >= 75] for t in texts
        )
        print(f"same best score: {top}; same scores >= 75 (what can be offered first): {strong}")
        for text in [t for t in texts if new[t] != old[t]][:10]:
            print(f"  differs: {text!r}: {new[text]} vs {old[text]}")


if __name__ == "__main__":
    main()
