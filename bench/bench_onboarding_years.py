"""The years of the first 20 onboarding cards on an updated catalog, with and without the
recent well-known films (issue 23: "the first 20 onboarding cards are all from 1977-2001").

    python bench/bench_onboarding_years.py

Builds the bundled catalog, updates it from devtools/imdb_files.write_realistic (the bundled
films under their IMDb ids plus ~215 films from 2019-2026), fits the model with content, then
deals 20 cards to two new people: one who taps "Haven't seen it" on each, one who rates each 8.
"before" is the most-rated pool alone (what onboarding asked before), "after" adds the most-voted
films of the catalog's last RECENT_YEARS years (bot/service.py, recommender/onboarding.py).
Prints one line per (order, person): the years, their range, and how many are from 2010 on.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bot.service import MovieService
from devtools.imdb_files import write_realistic
from moviebot.catalog_update import update_catalog
from moviebot.paths import bundled_dataset
from moviebot.training import train
from recommender.onboarding import adaptive_next
from storage import movies
from storage.db import connect
from storage.movielens import import_movielens

CARDS = 20


def deal(service: MovieService, recent: list[int], classics: list[int], rates: bool) -> list[int]:
    """The first CARDS cards for a new person who skips each (or rates each 8)."""
    rated: dict[int, float] = {}
    passed: set[int] = set()
    cards = []
    for _ in range(CARDS):
        card = adaptive_next(service.model, rated, passed, classics, recent)
        if card is None:
            break
        cards.append(card)
        if rates:
            rated[card] = 8.0
        else:
            passed.add(card)
    return cards


def main() -> None:
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        db_path = folder / "catalog.db"
        db = connect(db_path)
        import_movielens(db, bundled_dataset())
        db.close()
        print(update_catalog(db_path, folder=write_realistic(folder / "imdb")).line())
        model = train(db_path, folder / "catalog.model.npz").model
        db = connect(db_path)
        service = MovieService(db, model)
        classics, recent = service.onboarding_pools()
        print(f"pool: {len(classics)} most-rated, {len(recent)} recent well-known")
        print(f"{'order':<8}{'person':<8}{'years':<12}{'from 2010':>10}  first {CARDS} years")
        for order, extra in (("before", []), ("after", recent)):
            for person, rates in (("skips", False), ("rates 8", True)):
                cards = deal(service, extra, classics, rates)
                found = movies.get_movies(db, cards)
                years = [found[m].year or 0 for m in cards]
                span = f"{min(years)}-{max(years)}"
                late = sum(y >= 2010 for y in years)
                print(f"{order:<8}{person:<8}{span:<12}{late:>10}  {' '.join(map(str, years))}")
        db.close()


if __name__ == "__main__":
    main()
