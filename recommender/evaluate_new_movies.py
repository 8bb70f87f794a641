"""New films in the picks, measured by simulation: how well films nobody has rated reach the
people who like them (recommender/content.py), on a train/test split.

Protocol (``moviebot evaluate`` prints it as the ``new_movies`` section):

* **New films**: a seeded 10 % of the films rated in train (:data:`NEW_FRACTION`,
  :data:`NEW_SEED`). A random set rather than the films first rated late in the train period:
  that set has 78 test users with a relevant rating on ML-small (this one 347), and new films
  from IMDb span the whole popularity range, blockbusters included.
* **The fit** sees no rating of a new film; every film's content is its genres and year
  (MovieLens has no runtime or directors) and, standing in for IMDb's rating and vote count,
  the mean and number of its train ratings: for a new film, the train ratings that were taken
  out of the fit. That is **optimistic**: IMDb's voters are another crowd than ours, and the
  stand-in comes from the same users the test ratings do.
* **Scored**: every test user with a new film rated 4+ stars in test; their history is their
  train ratings of the other films; the candidates are the new films they did not rate in
  train; NDCG@10 and P@10 of the top 10 (relevant = test rating >= 8 on our scale).
* **Rows, same run**: ``ours`` (:meth:`Model.recommend` restricted to the new films: what
  ``/recommend`` does with a filter only new films pass), ``popularity prior`` (by the stand-in
  vote count), ``genre match`` (the user's genre profile, the mean of their rated films' genre
  vectors, dotted with the film's; ties by votes) and ``predicted rating`` (the rating model
  with the mapped representations, no ranking stage).

Settings (the ridge penalty and the votes damping of recommender/content.py) are chosen by
``python -m recommender.evaluate_new_movies --validate``: the same fit, the new films' train
ratings split 80/20 (seeded): the stand-in from the 80 %, the targets from the 20 %; test.csv
is not read. ``python -m recommender.evaluate_new_movies`` prints the test rows (what
``moviebot evaluate`` carries). History: docs/history/new-movies.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, replace
from typing import Protocol

import numpy as np

from recommender.config import ModelConfig
from recommender.content import ContentSettings, MovieContent, map_new_movies
from recommender.model import Model
from recommender.ratings import Ratings
from recommender.topn import TOP_K, precision_ndcg

NEW_FRACTION = 0.1
NEW_SEED = 23
VALIDATION_SEED = 1
RELEVANT = 8.0
SPLIT = "../shared/data/ml-latest-small/split-seed42"


class _Film(Protocol):
    genres: tuple[str, ...]
    year: int | None


class Simulation:
    """The new films, the fit without their ratings, and each scored user's history and
    relevant new films (see the module docstring)."""

    def __init__(self, train: Ratings, catalog: Mapping[int, _Film]) -> None:
        rated = np.unique(train.movie_ids)
        rng = np.random.default_rng(NEW_SEED)
        self.new_ids = np.sort(
            rng.choice(rated, size=int(NEW_FRACTION * rated.size), replace=False)
        )
        is_new = np.isin(train.movie_ids, self.new_ids)
        self.fit_ratings = train.subset(~is_new)
        self.held = train.subset(is_new)  # the new films' train ratings: the stand-in's source
        self.train = train
        self.catalog = catalog
        self.movie_ids = np.union1d(rated, np.fromiter(catalog, dtype=np.int64))

    def content(self, stand_in: Ratings) -> MovieContent:
        """Genres and year of every film; prior votes and rating: the count and mean of its
        fitted ratings, for a new film of ``stand_in`` (its held-out train ratings)."""
        movie_ids = np.concatenate([self.fit_ratings.movie_ids, stand_in.movie_ids])
        values = np.concatenate([self.fit_ratings.values, stand_in.values])
        ids, inverse = np.unique(movie_ids, return_inverse=True)
        votes = np.bincount(inverse, minlength=ids.size)
        means = np.bincount(inverse, weights=values, minlength=ids.size) / votes
        known = dict(
            zip(ids.tolist(), zip(votes.tolist(), means.tolist(), strict=True), strict=True)
        )
        films = self.movie_ids.tolist()
        return MovieContent.build(
            films,
            [self.catalog[m].genres if m in self.catalog else () for m in films],
            [self.catalog[m].year if m in self.catalog else None for m in films],
            prior_rating=[known[m][1] if m in known else None for m in films],
            prior_votes=[known[m][0] if m in known else 0 for m in films],
        )

    def users(self, targets: Ratings) -> list[tuple[dict[int, float], set[int], np.ndarray]]:
        """``(history, relevant new films, excluded new films)`` per user with a relevant
        rating in ``targets`` (ratings of new films), in user order."""
        out = []
        fit, held = self.fit_ratings, self.held
        for u in np.unique(targets.user_ids[targets.values >= RELEVANT]):
            sel = fit.user_ids == u
            history = dict(zip(fit.movie_ids[sel].tolist(), fit.values[sel].tolist(), strict=True))
            relevant = targets.movie_ids[(targets.user_ids == u) & (targets.values >= RELEVANT)]
            seen = held.movie_ids[held.user_ids == u]
            out.append((history, set(relevant.tolist()), seen))
        return out


Lister = Callable[[dict[int, float], np.ndarray], list[int]]


def _listers(sim: Simulation, model: Model, content: MovieContent) -> dict[str, Lister]:
    """The rows of the table: name -> (history, excluded new films) -> top 10 new films."""
    new = sim.new_ids
    rows = {m: k for k, m in enumerate(np.asarray(content.movie_ids).tolist())}
    new_k = np.array([rows[m] for m in new.tolist()])
    votes = content.prior_votes[new_k]
    genre_names = sorted({g for k in new_k for g in content.genres[k]})
    col = {g: j for j, g in enumerate(genre_names)}

    def genre_vector(k: int) -> np.ndarray:
        v = np.zeros(len(genre_names))
        gs = [col[g] for g in content.genres[k] if g in col]
        v[gs] = 1.0 / np.sqrt(max(1, len(gs)))
        return v

    new_genres = np.array([genre_vector(k) for k in new_k])

    def top(scores: np.ndarray, excluded: np.ndarray) -> list[int]:
        ok = ~np.isin(new, excluded)
        ids, s = new[ok], scores[ok]
        order = np.lexsort((ids, -s))[:TOP_K]
        return ids[order].tolist()

    def ours(history: dict[int, float], excluded: np.ndarray) -> list[int]:
        profile = model.fold_in(history)
        picks = model.recommend(profile, TOP_K, exclude=excluded.tolist(), candidates=new)
        return [m for m, _ in picks]

    def by_rating(history: dict[int, float], excluded: np.ndarray) -> list[int]:
        return top(model.predict(model.fold_in(history), new), excluded)

    def genre_match(history: dict[int, float], excluded: np.ndarray) -> list[int]:
        known = [rows[m] for m in history if m in rows]
        taste = np.mean([genre_vector(k) for k in known], axis=0) if known else 0.0
        return top(new_genres @ taste + 1e-9 * votes, excluded)

    return {
        "ours": ours,
        "popularity prior": lambda history, excluded: top(votes, excluded),
        "genre match": genre_match,
        "predicted rating": by_rating,
    }


def _score(sim: Simulation, model: Model, content: MovieContent, targets: Ratings) -> list[dict]:
    users = sim.users(targets)
    relevant = [rel for _, rel, _ in users]
    out = []
    for name, lister in _listers(sim, model, content).items():
        lists = [lister(history, seen) for history, _, seen in users]
        out.append({"name": name} | precision_ndcg(lists, relevant))
    return out


def new_movie_figures(
    train: Ratings,
    test: Ratings,
    catalog: Mapping[int, _Film],
    config: ModelConfig | None = None,
) -> dict:
    """The test rows (module docstring): one extra fit, on train without the new films'
    ratings, with the content of every film."""
    sim = Simulation(train, catalog)
    content = sim.content(sim.held)
    t0 = time.perf_counter()
    model = Model.fit(sim.fit_ratings, config or ModelConfig(), seed=0, content=content)
    fit_s = time.perf_counter() - t0
    targets = test.subset(np.isin(test.movie_ids, sim.new_ids))
    rows = _score(sim, model, content, targets)
    pop = next(r["ndcg_at_10"] for r in rows if r["name"] == "popularity prior")
    ours = rows[0]["ndcg_at_10"]
    return {
        "protocol": (
            f"a seeded {NEW_FRACTION:.0%} of the films (seed {NEW_SEED}) fitted without "
            "their ratings, from genres, year and a stand-in IMDb prior (count and mean of "
            "their train ratings: optimistic); top 10 among the new films a test user did not "
            f"rate in train, relevant = test rating >= {RELEVANT:g}"
        ),
        "n_new_movies": int(sim.new_ids.size),
        "n_users": len(sim.users(targets)),
        "fit_seconds": fit_s,
        "ours_over_popularity": ours / pop if pop else None,
        "rows": rows,
    }


def format_new_movies(report: dict) -> list[str]:
    """The ``new_movies`` section as table lines (none when it is empty)."""
    section = report.get("new_movies")
    if not section:
        return []
    title = f"new films ({section['n_new_movies']} films, {section['n_users']} users)"
    lines = ["", f"{title:<38} {'P@10':>7} {'NDCG@10':>8}"]
    lines += [
        f"{r['name']:<38} {r['precision_at_10']:>7.4f} {r['ndcg_at_10']:>8.4f}"
        for r in section["rows"]
    ]
    ratio = section["ours_over_popularity"]
    lines.append(
        f"ours / popularity prior: {'-' if ratio is None else f'{ratio:.2f}'}x; the extra fit "
        f"(train without the new films' ratings) took {section['fit_seconds']:.1f} s."
    )
    lines.append("Protocol: " + section["protocol"] + ".")
    return lines


def validate(
    train: Ratings,
    catalog: Mapping[int, _Film],
    grid: Sequence[ContentSettings],
    config: ModelConfig | None = None,
) -> list[dict]:
    """The validation grid: the new films' train ratings split 80/20 (seeded), the stand-in
    from the 80 %, the targets the 20 %; one fit, the content map refitted per setting."""
    sim = Simulation(train, catalog)
    stand_in, targets = sim.held.split(0.2, VALIDATION_SEED)
    sim.held = stand_in  # the users' own stand-in ratings are not candidates
    content = sim.content(stand_in)
    base = Model.fit(sim.fit_ratings, config or ModelConfig(), seed=0, movie_ids=sim.movie_ids)
    out = []
    for settings in grid:
        rows = _score(sim, map_new_movies(base, content, settings), content, targets)
        out += [asdict(settings) | r for r in rows]
    return out


def validation_grid() -> list[ContentSettings]:
    """One setting at a time around the defaults."""
    base = ContentSettings()
    grid = [base]
    for name, values in (
        ("reg", [1.0, 10.0, 30.0]),
        ("ranking_reg", [0.3, 3.0, 10.0]),
        ("votes_damping", [3.0, 30.0]),
        ("like_widen", [1.0, 2.0, 8.0]),
        ("ranking_rank", [16]),
    ):
        grid += [replace(base, **{name: v}) for v in values]
    return grid


def main(argv: list[str] | None = None) -> int:
    from recommender.movielens_files import load_movielens_catalog, load_movielens_ratings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default=SPLIT, help="folder with train.csv and test.csv")
    parser.add_argument("--movies", help="movies.csv (default: beside the split's folder)")
    parser.add_argument("--validate", action="store_true", help="the grid, on train only")
    args = parser.parse_args(argv)
    train = load_movielens_ratings(f"{args.split}/train.csv")
    catalog = load_movielens_catalog(args.movies or f"{args.split}/../movies.csv")
    if args.validate:
        rows = validate(train, catalog, validation_grid())
        head = f"{'reg':>5} {'rreg':>5} {'damp':>5} {'widen':>5} {'row':<18}"
        print(f"{head} {'P@10':>7} {'NDCG@10':>8}")
        for r in rows:
            print(
                f"{r['reg']:>5g} {r['ranking_reg']:>5g} {r['votes_damping']:>5g} "
                f"{r['like_widen']:>5g} {r['name']:<18} {r['precision_at_10']:>7.4f} "
                f"{r['ndcg_at_10']:>8.4f}"
            )
        return 0
    test = load_movielens_ratings(f"{args.split}/test.csv")
    print("\n".join(format_new_movies({"new_movies": new_movie_figures(train, test, catalog)})))
    return 0


if __name__ == "__main__":
    sys.exit(main())
