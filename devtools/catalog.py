"""Movies of the bundled MovieLens catalog that tests and benchmarks send to the bot.

``popular_titles`` gives the most-rated movies whose label ("The Matrix (1999)") title search
resolves without asking (storage.search.resolve), so ``/rate <label> <score>`` is stored at once.
"""

from __future__ import annotations

from sqlite_utils import Database

from storage import ratings
from storage.movies import get_movies
from storage.search import TitleIndex, resolve

TED, FROZEN = 95441, 106696  # Ted (2012), Frozen (2013)


def popular_titles(db: Database, count: int) -> dict[int, str]:
    """Movie id -> label of up to `count` of the most-rated movies (most rated first) whose
    label title search resolves to them without asking (looked for among the top 2 x count)."""
    counts = ratings.rating_counts(db)
    top = sorted(counts, key=lambda m: -counts[m])[: count * 2]
    movies = get_movies(db, top)
    index = TitleIndex.from_db(db)
    titles: dict[int, str] = {}
    for movie_id in top:
        if len(titles) == count:
            break
        label = movies[movie_id].label
        winner = resolve(index, label).movie
        if winner is not None and winner.movie_id == movie_id:
            titles[movie_id] = label
    return titles
