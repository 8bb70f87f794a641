"""What `moviebot run --metrics` adds per update and per scrape, measured in this process.

The hooks one update goes through (bot/telegram/metrics.py: received by kind, handling time, the
fetch time) and one scrape of /metrics's text (every collector, the database figures read on their
own read-only connection, on the bundled catalog's 100,836 ratings with a 10,000-update
journal). These costs do not depend on how loaded the machine is the way an A/B load test
does; divide by the bot's CPU per update (`load_bot.py --metrics`, its "off" rows) for a share.

    .venv/bin/python bench/bench_metrics.py
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from prometheus_client import REGISTRY, generate_latest  # noqa: E402
from telegram import Update  # noqa: E402

from bot.telegram import metrics  # noqa: E402
from moviebot.paths import bundled_dataset  # noqa: E402
from storage import journal  # noqa: E402
from storage.db import connect  # noqa: E402
from storage.movielens import import_movielens  # noqa: E402

HOOK_CALLS = 200_000
SCRAPES = 200


def per_update_hooks_seconds(update: Update) -> float:
    """Median over 5 runs of the CPU time the hooks of one update take (process time, so
    other processes on the machine do not count)."""
    runs = []
    for _ in range(5):
        started = time.process_time()
        for _ in range(HOOK_CALLS):
            metrics.update_received(update)
            handled = metrics.clock()
            metrics.update_handled(handled)
        runs.append((time.process_time() - started) / HOOK_CALLS)
    return statistics.median(runs)


def scrape_seconds() -> float:
    """Median CPU time of producing the whole /metrics text (the SQLite reads included: they
    run in this process)."""
    times = []
    for _ in range(SCRAPES):
        started = time.process_time()
        generate_latest(REGISTRY)
        times.append(time.process_time() - started)
    return statistics.median(times)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="moviebot-metrics-") as tmp:
        db_path = Path(tmp) / "m.db"
        db = connect(db_path)
        import_movielens(db, bundled_dataset())
        rows = [(i, json.dumps({"update_id": i})) for i in range(1, 10_001)]
        journal.record_updates(db, rows)
        for update_id in range(1, 9_901):  # 100 left open, as in a busy moment
            journal.mark_done(db, update_id)
        db.close()
        REGISTRY.register(metrics.DatabaseCollector(db_path))
        update = Update.de_json(
            {
                "update_id": 1,
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": 1, "type": "private"},
                    "text": "/rate Ted 8",
                },
            },
            None,
        )
        hooks = per_update_hooks_seconds(update)
        scrape = scrape_seconds()
    print("bench_metrics: the cost of `moviebot run --metrics`, measured in one process")
    print(f"{'what (CPU time)':<44} {'time':>10}")
    print(f"{'hooks of one update (received, handled)':<44} {hooks * 1e6:8.2f} us")
    print(f"{'one scrape (all collectors, SQLite figures)':<44} {scrape * 1e3:8.2f} ms")
    for rate in (200,):
        for every in (1, 15):
            per_second = rate * hooks + scrape / every
            print(
                f"at {rate} updates/s, scraped every {every:>2} s: {per_second * 1e3:6.2f} ms of "
                f"CPU per second ({per_second * 100:.2f} % of a core)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
