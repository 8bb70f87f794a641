"""How long the streaming alert's comparison holds the database thread (answers to people wait
behind each trip), for many people waiting for many films.

`n` people (Spanish, in Spain, streaming alert on) each have `w` films on their watchlist,
drawn from the most-rated films (so a popular film is waited for by many). The job's rounds are
replayed with TMDB's facts made up (no network: the fetch is timed by the TMDB client's rate,
40 films a second): the first look (every pair recorded), a round with no change, and a round
where a tenth of the films start streaming on Netflix in Spain (an alert journaled for each of
their watchers). Trips go as the job makes them (bot/telegram/watch_job.py: CHUNK films,
PAIRS_PER_TRIP pairs a trip).

    .venv/bin/python bench/bench_watch.py                   # 2,000 people x 20 films
    .venv/bin/python bench/bench_watch.py --users 10000
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.service import MovieService  # noqa: E402
from bot.telegram.watch_job import CHUNK, PAIRS_PER_TRIP, journal_watches  # noqa: E402
from bot.tmdb.facts import FilmFacts, Offers  # noqa: E402
from moviebot.paths import bundled_dataset  # noqa: E402
from storage import alert_watches, alerts, ratings, users  # noqa: E402
from storage.db import connect  # noqa: E402
from storage.movielens import import_movielens  # noqa: E402
from storage.movies import get_movies  # noqa: E402

FIRST_USER = 60_000_000
NETFLIX = (8, "Netflix")


def facts(film: int, streaming: bool) -> FilmFacts:
    offers = Offers("https://example.org", (NETFLIX,) if streaming else (), ((2, "Apple TV"),))
    return FilmFacts(film, None, None, 100, {}, {"ES": offers}, "2001-01-01")


def one_round(service: MovieService, streaming: set[int]) -> dict:
    """Replay one round's comparison as the job cuts it into trips; its timings."""
    db = service.db
    by_movie = defaultdict(list)
    for watch in alert_watches.watched(db):
        by_movie[watch.movie_id].append(watch)
    ids = sorted(by_movie)
    trips, journaled = [], 0
    today = datetime.now(UTC).date()
    for start in range(0, len(ids), CHUNK):
        movies = get_movies(db, ids[start : start + CHUNK])
        known = {m: facts(m, m in streaming) for m in movies}
        mine = [w for m in movies for w in by_movie[m]]
        for first in range(0, len(mine), PAIRS_PER_TRIP):
            began = time.perf_counter()
            trip = mine[first : first + PAIRS_PER_TRIP]
            journaled += journal_watches(service, trip, movies, known, today)
            trips.append((time.perf_counter() - began) * 1000)
    return {
        "films": len(ids),
        "trips": len(trips),
        "mean ms": statistics.fmean(trips),
        "max ms": max(trips),
        "total s": sum(trips) / 1000,
        "alerts": journaled,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--films", type=int, default=20, help="watchlist films per person")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as workdir:
        db = connect(Path(workdir) / "bench.db")
        import_movielens(db, bundled_dataset())
        counts = ratings.rating_counts(db)
        popular = sorted(counts, key=lambda m: -counts[m])[:2000]
        with db.atomic():
            for i in range(args.users):
                uid = FIRST_USER + i
                users.save_user(db, uid, f"p{i}", "es")
                alerts.subscribe(db, uid, alerts.STREAMING, True, "Europe/Madrid")
                # Skewed: low ranks (popular films) are drawn far more often.
                picks = {popular[(i * 7919 + k * k * 104_729) % (50 + 40 * k)] for k in range(30)}
                db.conn.executemany(
                    "INSERT INTO watchlist (user_id, movie_id, added_at) VALUES (?, ?, '')",
                    [(uid, m) for m in sorted(picks)[: args.films]],
                )
        service = MovieService(db, None)
        films = sorted({w.movie_id for w in alert_watches.watched(db)})
        changed = set(films[::10])
        rows = [
            ("first look", one_round(service, set())),
            ("no change", one_round(service, set())),
            ("1/10 start streaming", one_round(service, changed)),
        ]
        pairs = len(alert_watches.watched(db))
        db.close()
    print(f"{args.users:,} people, {pairs:,} (person, film) pairs, {len(films):,} films")
    print(f"{'round':<22}{'trips':>7}{'mean ms':>9}{'max ms':>8}{'total s':>9}{'alerts':>8}")
    for name, row in rows:
        print(
            f"{name:<22}{row['trips']:>7}{row['mean ms']:>9.1f}{row['max ms']:>8.1f}"
            f"{row['total s']:>9.2f}{row['alerts']:>8}"
        )
    print(f"TMDB at 40 films/s: {len(films) / 40:.0f} s a round for {len(films):,} films")
    return 0


if __name__ == "__main__":
    sys.exit(main())
